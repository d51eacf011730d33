/**
 * Two `signet server` processes (dist/) on one PostgreSQL database behind a round-robin client
 *: the real notary CLI, with one trust dir, alternates between the servers over 100
 * publish-then-list cycles: each cycle lists through one server (so it holds the current state in
 * its cache), publishes through the other, and lists again through the first,
 * and every 20 cycles a new GUN is created through one server and listed through the other at
 * once. No "version … is lower than current version" error and no 404 is allowed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, SIGNET_MAIN } from '../cli/signet.js';
import { notaryCli } from '../harness/notary-cli.js';
import { httpOk } from '../harness/notary-peers.js';
import { freePort } from '../harness/ports.js';
import { startPostgres } from '../harness/postgres.js';
import { startProc, type Proc } from '../harness/proc.js';
import { TestRepo, httpInjector } from '../server/helpers.js';
import { parseTimestamp } from '../../src/tuf/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-rr-'));
let pgDb: { url: string; stop(): Promise<void> } | undefined;
const servers: { url: string; proc: Proc }[] = [];

async function startSignet(name: string, database: string): Promise<{ url: string; proc: Proc }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dataDir = path.join(dir, name);
  const proc = await startProc({
    name: `signet-${name}`,
    cmd: process.execPath,
    args: [SIGNET_MAIN, 'server', '--listen', `127.0.0.1:${port}`, '--insecure-http', '--log-level', 'warn'],
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      SIGNET_DATA_DIR: dataDir,
      SIGNET_DATABASE: database,
      // both servers decrypt the same server-held keys
      SIGNET_SIGNER_PASSPHRASE: 'shared-signer-passphrase',
    },
    logDir: path.join(dir, 'logs'),
    listenPort: port,
    timeoutMs: 30_000,
    ready: () => httpOk(`${url}/_notary_server/health`),
  });
  return { url, proc };
}

beforeAll(async () => {
  await ensureBuilt();
  pgDb = await startPostgres();
  servers.push(await startSignet('a', pgDb.url), await startSignet('b', pgDb.url));
}, 120_000);
afterAll(async () => {
  for (const s of servers) await s.proc.stop();
  await pgDb?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('two servers on one PostgreSQL, notary round-robin', () => {
  it('100 publish-then-list cycles: 0 "lower than current" errors, 0 404s for GUNs just created', async () => {
    const trustDir = path.join(dir, 'trust');
    const via = servers.map((s) => notaryCli({ server: s.url, trustDir }));
    const file = path.join(dir, 'artifact.txt');
    let lower = 0;
    let notFound = 0;
    const failures: string[] = [];
    const tally = (what: string, r: { code: number | null; stdout: string; stderr: string }): void => {
      const out = r.stdout + r.stderr;
      if (/lower than current/i.test(out)) lower++;
      if (/\b404\b|not found|does not have trust data|No trust data/i.test(out)) notFound++;
      if (r.code !== 0) failures.push(`${what}: exit ${r.code}: ${out.slice(0, 400)}`);
    };
    const started = Date.now();
    const cycleMs: number[] = [];
    let gun = '';
    for (let i = 0; i < 100; i++) {
      const t0 = Date.now();
      const [writer, reader] = i % 2 === 0 ? [via[0]!, via[1]!] : [via[1]!, via[0]!];
      if (i % 20 === 0) {
        gun = `example.com/rr/app${i / 20}`;
        tally(`init ${gun}`, await writer.run(['init', '-p', gun]));
        // created through one server, read through the other at once
        tally(`list new ${gun}`, await reader.run(['list', gun]));
      }
      // the reading server caches the current state first, so a stale cache would show below
      tally(`warm list ${i}`, await reader.run(['list', gun]));
      writeFileSync(file, `artifact ${i}\n`);
      tally(`add+publish ${i}`, await writer.run(['add', '-p', gun, `t${i}`, file]));
      const listed = await reader.run(['list', gun]);
      tally(`list ${i}`, listed);
      if (!listed.stdout.includes(`t${i}`)) failures.push(`list ${i} through the other server lacks t${i}`);
      cycleMs.push(Date.now() - t0);
    }
    const total = Date.now() - started;
    cycleMs.sort((a, b) => a - b);
    console.log(
      `round-robin: 100 cycles in ${total} ms (cycle median ${cycleMs[50]} ms, max ${cycleMs[99]} ms); ` +
        `lower-than-current errors ${lower}, not-found ${notFound}, failures ${failures.length}`,
    );
    expect(failures).toEqual([]);
    expect(lower).toBe(0);
    expect(notFound).toBe(0);
  }, 600_000);

  it('a publish acknowledged by one server is served by the other at its next timestamp read', async () => {
    const [a, b] = await Promise.all(servers.map((s) => httpInjector(s.url)));
    try {
      const repo = await new TestRepo(a!, 'example.com/rr/latency').init({ serverSnapshot: true });
      const reader = new TestRepo(b!, repo.gun);
      const delays: number[] = [];
      let stale = 0;
      for (let i = 0; i < 30; i++) {
        await reader.get('timestamp.json').catch(() => undefined); // B holds the current state in its cache
        repo.addTarget(`v${i}`, `${i}`);
        const r = await repo.publish();
        expect(r.statusCode, r.body).toBe(200);
        const acked = Date.now();
        const want = i + 1;
        for (let polls = 0; ; polls++) {
          const got = await reader.get('timestamp.json');
          if (got.statusCode === 200 && parseTimestamp(got.rawPayload).signed.version >= want) break;
          stale++;
          if (polls > 2000) throw new Error(`server B never served timestamp ${want}`);
        }
        delays.push(Date.now() - acked);
      }
      delays.sort((x, y) => x - y);
      console.log(
        `propagation A→B after the publish reply: median ${delays[15]} ms, max ${delays[29]} ms; stale answers seen ${stale} of ${30 + stale} reads`,
      );
      // B compares its cached timestamp with the stored one on every timestamp read (handlers.ts catchUp)
      expect(stale).toBe(0);
    } finally {
      await a?.close();
      await b?.close();
    }
  }, 120_000);
});
