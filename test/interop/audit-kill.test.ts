/**
 * Kill and audit: `signet server` (dist/) takes 8 concurrent publishers and is killed
 * with SIGKILL in the middle; on SQLite and on PostgreSQL every acknowledged publish has its
 * audit entry and `signet audit verify` passes. Then one entry is edited and another deleted in
 * the database, and verify names both.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqlite } from '../../src/storage/index.js';
import { ensureBuilt, SIGNET_MAIN } from '../cli/signet.js';
import { httpOk } from '../harness/notary-peers.js';
import { freePort } from '../harness/ports.js';
import { startPostgres } from '../harness/postgres.js';
import { run, startProc, type Proc } from '../harness/proc.js';
import { TestRepo, httpInjector } from '../server/helpers.js';

const dirs: string[] = [];
let pgDb: { url: string; stop(): Promise<void> } | undefined;
beforeAll(async () => {
  await ensureBuilt();
  pgDb = await startPostgres();
}, 120_000);
afterAll(async () => {
  await pgDb?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function env(dataDir: string, database: string | undefined): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: dataDir,
    SIGNET_DATA_DIR: dataDir,
    ...(database !== undefined ? { SIGNET_DATABASE: database } : {}),
  };
}

async function startSignet(dataDir: string, database: string | undefined): Promise<{ url: string; proc: Proc }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = await startProc({
    name: `signet-audit-${port}`,
    cmd: process.execPath,
    args: [SIGNET_MAIN, 'server', '--listen', `127.0.0.1:${port}`, '--insecure-http', '--log-level', 'warn'],
    env: env(dataDir, database),
    logDir: path.join(dataDir, 'logs'),
    listenPort: port,
    timeoutMs: 30_000,
    ready: () => httpOk(`${url}/_notary_server/health`),
  });
  return { url, proc };
}

function signetAudit(dataDir: string, database: string | undefined, args: string[]) {
  return run(process.execPath, [SIGNET_MAIN, 'audit', ...args], { env: env(dataDir, database), timeoutMs: 60_000 });
}

type Entry = Record<string, unknown> & { seq: number };

/** Runs the scenario; `sql` executes a statement on the server's database. */
async function killAndAudit(database: string | undefined, sql: (text: string) => Promise<void>): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'signet-audit-kill-'));
  dirs.push(dataDir);
  const server = await startSignet(dataDir, database);
  const http = await httpInjector(server.url);
  const acked: { gun: string; targets: number }[] = [];
  let killed = false;
  try {
    const repos = await Promise.all(
      Array.from({ length: 8 }, (_, i) => new TestRepo(http, `example.com/audit/kill${i}`).init()),
    );
    const loops = repos.map(async (repo) => {
      for (let i = 0; !killed; i++) {
        repo.addTarget(`t${i}`, `content ${i}`);
        let r;
        try {
          r = await repo.publish();
        } catch {
          return; // reset by the kill: not acknowledged
        }
        if (r.statusCode !== 200) {
          if (killed) return;
          throw new Error(`publish failed before the kill: ${r.statusCode} ${r.body}`);
        }
        acked.push({ gun: repo.gun, targets: repo.targets.version });
      }
    });
    while (acked.length < 60) await new Promise((r) => setTimeout(r, 10));
    killed = true;
    server.proc.kill('SIGKILL');
    await Promise.all(loops);
    await server.proc.exited;
  } finally {
    killed = true;
    await http.close();
    await server.proc.stop();
  }

  const verified = await signetAudit(dataDir, database, ['verify', '--json']);
  expect(verified.code, verified.stderr).toBe(0);
  const result = JSON.parse(verified.stdout) as { ok: boolean; entries: number };
  expect(result.ok).toBe(true);

  const outFile = path.join(dataDir, 'export.jsonl');
  const exported = await signetAudit(dataDir, database, ['export', '--out', outFile]);
  expect(exported.code, exported.stderr).toBe(0);
  const { readFileSync } = await import('node:fs');
  const entries = readFileSync(outFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Entry);
  expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
  const published = new Set<string>();
  for (const e of entries) {
    if (e.event !== 'publish') continue;
    for (const s of e.stored as { role: string; version: number }[]) {
      if (s.role === 'targets') published.add(`${e.gun as string}@${s.version}`);
    }
    // who, from where, which request; never key material
    expect(e).toMatchObject({ user: null, remote: '127.0.0.1', status: 200 });
    expect(e.reqId).toMatch(/^[0-9a-f]{12}-\d+$/);
  }
  const missing = acked.filter((a) => !published.has(`${a.gun}@${a.targets}`));
  expect(missing, `acknowledged publishes without an audit entry`).toEqual([]);
  expect(readFileSync(outFile, 'utf8')).not.toMatch(/PRIVATE|BEGIN|passphrase/);
  // --since exports the rest after an entry, to stdout
  const tail = await signetAudit(dataDir, database, ['export', '--since', String(entries.length - 2)]);
  expect(tail.stdout.trim().split('\n').length).toBe(2);
  writeFileSync(path.join(dataDir, 'summary.json'), JSON.stringify({ acked: acked.length, entries: entries.length }));

  // tamper: edit one entry, delete another
  const edited = Math.floor(entries.length / 3);
  const removed = Math.floor((2 * entries.length) / 3);
  await sql(
    `update audit_log set entry = replace(entry, 'example.com/audit/', 'evil.example/x/') where seq = ${edited}`,
  );
  await sql(`delete from audit_log where seq = ${removed}`);
  const broken = await signetAudit(dataDir, database, ['verify', '--json']);
  expect(broken.code).not.toBe(0);
  const report = JSON.parse(broken.stdout) as { ok: boolean; problems: { seq: number; kind: string }[] };
  expect(report.ok).toBe(false);
  expect(report.problems).toContainEqual(expect.objectContaining({ seq: edited, kind: 'edited' }));
  expect(report.problems).toContainEqual(expect.objectContaining({ seq: removed + 1, kind: 'missing' }));
  expect(broken.stderr).toContain(`entry ${edited}: entry ${edited} does not match its hash`);
  expect(broken.stderr).toContain(`entry ${removed} is missing`);
  console.log(
    `kill and audit (${database === undefined ? 'SQLite' : 'PostgreSQL'}): ${acked.length} acknowledged publishes, ${entries.length} entries, tampered ${edited} and ${removed}: named`,
  );
}

describe('kill and audit', () => {
  it('SQLite: every acknowledged publish is in the verified chain after SIGKILL; tampering is named', async () => {
    let dataDir = '';
    await killAndAudit(undefined, async (text) => {
      dataDir ||= dirs[dirs.length - 1] as string;
      const db = openSqlite(path.join(dataDir, 'signet.db'));
      try {
        db.exec(text);
      } finally {
        db.close();
      }
    });
  }, 240_000);

  it('PostgreSQL: the same', async () => {
    const url = pgDb?.url as string;
    await killAndAudit(url, async (text) => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(text);
      } finally {
        await c.end();
      }
    });
  }, 240_000);
});
