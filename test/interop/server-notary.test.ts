/**
 * The real Debian notary 0.7 client against Signet's server (HTTPS, the server's own CA), on
 * SQLite and on PostgreSQL: the whole lifecycle, `notary list` checked after every step.
 */
import crypto from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notaryCli, type NotaryCli } from '../harness/notary-cli.js';
import { startPostgres } from '../harness/postgres.js';
import { run } from '../harness/proc.js';
import { startTestServer, type StartedServer } from '../server/start-helper.js';

const sha = (s: string): string => crypto.createHash('sha256').update(s).digest('hex');

async function ok(n: NotaryCli, args: string[]): Promise<string> {
  const r = await n.run(args);
  if (r.code !== 0) throw new Error(`notary ${args.join(' ')} → ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout + r.stderr;
}

/** `notary list` rows as {name → role}. */
async function list(n: NotaryCli, gun: string): Promise<Record<string, string>> {
  const out = await ok(n, ['list', gun]);
  const rows: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length === 4 && /^[0-9a-f]{64}$/.test(cols[1] ?? '')) rows[cols[0] as string] = cols[3] as string;
  }
  return rows;
}

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`notary CLI against Signet (${backend})`, () => {
    let srv: StartedServer;
    let pg: { url: string; stop(): Promise<void> } | undefined;
    let dir: string;
    let notary: NotaryCli;
    const gun = `127.0.0.1:5000/interop/${backend}`;

    beforeAll(async () => {
      if (backend === 'postgres') pg = await startPostgres();
      srv = await startTestServer(pg ? { database: pg.url } : {});
      dir = mkdtempSync(path.join(os.tmpdir(), `signet-notary-${backend}-`));
      notary = notaryCli({ server: srv.url, caFile: srv.caFile as string, trustDir: path.join(dir, 'trust') });
    });
    afterAll(async () => {
      await srv?.dispose();
      await pg?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('init + publish, addhash + publish, list, lookup', async () => {
      await ok(notary, ['init', gun]);
      await ok(notary, ['publish', gun]);
      expect(await list(notary, gun)).toEqual({});
      await ok(notary, ['addhash', gun, 'v1', '5', '--sha256', sha('one')]);
      await ok(notary, ['publish', gun]);
      expect(await list(notary, gun)).toEqual({ v1: 'targets' });
      const look = await ok(notary, ['lookup', gun, 'v1']);
      expect(look).toContain(sha('one'));
      // a fresh trust dir (cold client) sees the same
      const cold = notaryCli({ server: srv.url, caFile: srv.caFile as string, trustDir: path.join(dir, 'cold') });
      expect(await list(cold, gun)).toEqual({ v1: 'targets' });
    });

    it('remove + publish', async () => {
      await ok(notary, ['addhash', gun, 'v2', '3', '--sha256', sha('two')]);
      await ok(notary, ['publish', gun]);
      await ok(notary, ['remove', gun, 'v1']);
      await ok(notary, ['publish', gun]);
      expect(await list(notary, gun)).toEqual({ v2: 'targets' });
    });

    it('key rotate snapshot -r (server-managed snapshot), then publish', async () => {
      await ok(notary, ['key', 'rotate', gun, 'snapshot', '-r']);
      expect(await list(notary, gun)).toEqual({ v2: 'targets' });
      await ok(notary, ['addhash', gun, 'v3', '3', '--sha256', sha('three')]);
      await ok(notary, ['publish', gun]);
      expect(await list(notary, gun)).toEqual({ v2: 'targets', v3: 'targets' });
    });

    it('key rotate timestamp -r', async () => {
      await ok(notary, ['key', 'rotate', gun, 'timestamp', '-r']);
      expect(await list(notary, gun)).toEqual({ v2: 'targets', v3: 'targets' });
      const cold = notaryCli({ server: srv.url, caFile: srv.caFile as string, trustDir: path.join(dir, 'cold2') });
      expect(await list(cold, gun)).toEqual({ v2: 'targets', v3: 'targets' });
    });

    it('key rotate root; a stale client follows the rotation', async () => {
      const stale = notaryCli({ server: srv.url, caFile: srv.caFile as string, trustDir: path.join(dir, 'stale') });
      expect(await list(stale, gun)).toEqual({ v2: 'targets', v3: 'targets' });
      await ok(notary, ['key', 'rotate', gun, 'root']);
      expect(await list(notary, gun)).toEqual({ v2: 'targets', v3: 'targets' });
      await ok(notary, ['addhash', gun, 'v4', '4', '--sha256', sha('four')]);
      await ok(notary, ['publish', gun]);
      expect(await list(stale, gun)).toEqual({ v2: 'targets', v3: 'targets', v4: 'targets' });
    });

    it('delegation add (imported key + x509 cert), publish signed by the delegation key, delegation remove', async () => {
      const key = path.join(dir, 'releases.key');
      const crt = path.join(dir, 'releases.crt');
      const o1 = await run('/usr/bin/openssl', ['ecparam', '-genkey', '-name', 'prime256v1', '-noout', '-out', key], {
        timeoutMs: 20_000,
      });
      expect(o1.code, o1.stderr).toBe(0);
      const o2 = await run(
        '/usr/bin/openssl',
        ['req', '-new', '-x509', '-key', key, '-out', crt, '-days', '365', '-subj', '/CN=releases'],
        {
          timeoutMs: 20_000,
        },
      );
      expect(o2.code, o2.stderr).toBe(0);
      await ok(notary, ['key', 'import', key, '--role', 'targets/releases']);
      await ok(notary, ['delegation', 'add', gun, 'targets/releases', crt, '--all-paths']);
      await ok(notary, ['publish', gun]);
      const dl = await ok(notary, ['delegation', 'list', gun]);
      expect(dl).toContain('targets/releases');
      await ok(notary, ['addhash', gun, 'rel1', '6', '--sha256', sha('rel1'), '-r', 'targets/releases']);
      await ok(notary, ['publish', gun]);
      expect(await list(notary, gun)).toMatchObject({ rel1: 'targets/releases', v4: 'targets' });
      await ok(notary, ['delegation', 'remove', gun, 'targets/releases', '-y']);
      await ok(notary, ['publish', gun]);
      const after = await list(notary, gun);
      expect(after.rel1).toBeUndefined();
      expect(after.v4).toBe('targets');
    });

    it('delete --remote: the GUN is gone for every client', async () => {
      await ok(notary, ['delete', gun, '--remote']);
      const cold = notaryCli({ server: srv.url, caFile: srv.caFile as string, trustDir: path.join(dir, 'cold3') });
      const r = await cold.run(['list', gun]);
      expect(r.code).not.toBe(0);
      expect(r.stdout + r.stderr).toMatch(/does not have trust data|trust data unavailable/);
    });
  });
}

describe('notary CLI against Signet with --insecure-http (behind a TLS proxy)', () => {
  it('init, publish and list over plain HTTP', async () => {
    const srv = await startTestServer({ insecureHttp: true });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-notary-http-'));
    try {
      expect(srv.url.startsWith('http://')).toBe(true);
      const n = notaryCli({ server: srv.url, trustDir: path.join(dir, 'trust') });
      const gun = 'example.com/plain/http';
      await ok(n, ['init', '-p', gun]);
      await ok(n, ['addhash', gun, 'v1', '5', '--sha256', sha('one')]);
      await ok(n, ['publish', gun]);
      expect(await list(n, gun)).toEqual({ v1: 'targets' });
    } finally {
      await srv.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
