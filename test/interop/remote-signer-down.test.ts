/**
 * The remote signer goes away (the real notary-signer 0.7, keys in PostgreSQL): Signet's server
 * answers publishes and key requests with 503 in notary's error envelope naming the signer, keeps
 * serving reads (also a timestamp due for renewal: the stored one), reports it on
 * /_notary_server/health, and works again once notary-signer is back on the same port: the
 * notary client's pending change publishes.
 */
import crypto from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/index.js';
import { notaryCli, type NotaryCli } from '../harness/notary-cli.js';
import { startNotarySigner, type NotarySigner } from '../harness/notary-signer.js';
import { startPostgres } from '../harness/postgres.js';
import { auditEntries, list, ok, request, startRemoteSigned } from './remote-signer-setup.js';

const sha = (s: string): string => crypto.createHash('sha256').update(s).digest('hex');
const GUN = '127.0.0.1:5000/remote/down';

let db: { url: string; stop(): Promise<void> };
let ns: NotarySigner;
let srv: RunningServer;
let ca: Buffer;
let dir: string;
let notary: NotaryCli;
let cold = 0;

const fresh = (): NotaryCli =>
  notaryCli({ server: srv.url, caFile: srv.caFile as string, trustDir: path.join(dir, `cold${cold++}`) });
const get = (p: string, method = 'GET') => request(`${srv.url}${p}`, method, ca);

beforeAll(async () => {
  db = await startPostgres();
  ns = await startNotarySigner({ postgresUrl: db.url });
  dir = mkdtempSync(path.join(os.tmpdir(), 'signet-remote-down-'));
  // every read finds the 14-day timestamp due (15-day window): re-signing is tried while the signer is down
  srv = await startRemoteSigned(ns, path.join(dir, 'data'), { resignWindowMs: 15 * 24 * 3600 * 1000 });
  ca = await readFile(srv.caFile as string);
  notary = notaryCli({ server: srv.url, caFile: srv.caFile as string, trustDir: path.join(dir, 'trust') });
  await ok(notary, ['init', GUN]);
  await ok(notary, ['addhash', GUN, 'v1', '3', '--sha256', sha('one')]);
  await ok(notary, ['publish', GUN]);
});
afterAll(async () => {
  await srv?.close();
  await ns?.dispose();
  await db?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** notary's envelope of a 503 naming the signer's address. */
function expectSignerDown(r: { status: number; headers: Record<string, unknown>; body: string }): void {
  expect(r.status).toBe(503);
  expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(r.headers['retry-after']).toBe('5');
  expect(JSON.parse(r.body)).toEqual({
    errors: [
      {
        code: 'UNAVAILABLE',
        message: 'service unavailable',
        detail: `the remote signer at ${ns.address} is unavailable`,
      },
    ],
  });
}

describe('Signet server when its remote signer is down', () => {
  it('healthy while the signer runs', async () => {
    const h = await get('/_notary_server/health');
    expect([h.status, h.body]).toEqual([200, '{}']);
  });

  it('signer stopped: health 503 naming it; key requests 503; publish refused; reads still served', async () => {
    await ns.stop();
    const h = await get('/_notary_server/health');
    expect(h.status).toBe(503);
    expect(JSON.parse(h.body)).toEqual({ 'Trust operational': `remote ${ns.address} is unavailable` });

    expectSignerDown(await get(`/v2/${GUN}/_trust/tuf/snapshot.key`, 'POST'));
    expectSignerDown(await get('/v2/127.0.0.1:5000/remote/new/_trust/tuf/timestamp.key'));

    await ok(notary, ['addhash', GUN, 'v2', '3', '--sha256', sha('two')]);
    const pub = await notary.run(['publish', GUN]);
    expect(pub.code).not.toBe(0);
    expect(pub.stdout + pub.stderr).toMatch(/503/);

    // reads: a cold client verifies everything, the stored timestamp served although it is due
    expect(await list(fresh(), GUN)).toEqual({ v1: 'targets' });
    expect((await get(`/v2/${GUN}/_trust/tuf/timestamp.json`)).status).toBe(200);

    const refused = (await auditEntries(srv)).filter((e) => e.event === 'refused');
    expect(refused.map((e) => [e.route, e.status])).toEqual(
      expect.arrayContaining([
        ['rotate_key', 503],
        ['publish', 503],
      ]),
    );
  });

  it('signer back on the same port: health 200, the pending change publishes, keys are handed out', async () => {
    await ns.start();
    // the channel reconnects on the next call; the first may still see the old failure
    let h = await get('/_notary_server/health');
    for (let i = 0; i < 50 && h.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 200));
      h = await get('/_notary_server/health');
    }
    expect([h.status, h.body]).toEqual([200, '{}']);
    await ok(notary, ['publish', GUN]);
    expect(await list(fresh(), GUN)).toEqual({ v1: 'targets', v2: 'targets' });
    const key = await get('/v2/127.0.0.1:5000/remote/new/_trust/tuf/timestamp.key');
    expect(key.status).toBe(200);
    expect(JSON.parse(key.body)).toMatchObject({ keytype: 'ecdsa' });
  });
});
