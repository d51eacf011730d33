/**
 * Signet's server with the real notary-signer 0.7 as its only signer (gRPC, mutual TLS, keys in the
 * signer's PostgreSQL database) and the real notary 0.7 client: init + publish, server-managed
 * snapshot and timestamp rotations, a timestamp re-signed on read, lookups after each step. The
 * server holds no key: no row in its key table, no signer.passphrase; every key it signed with is
 * in notary-signer's `private_keys`, and the audit trail names each signature (role, key ID, GUN).
 */
import crypto from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/index.js';
import { notaryCli, type NotaryCli } from '../harness/notary-cli.js';
import { startNotarySigner, type NotarySigner } from '../harness/notary-signer.js';
import { startPostgres } from '../harness/postgres.js';
import { auditEntries, list, ok, startRemoteSigned } from './remote-signer-setup.js';

const sha = (s: string): string => crypto.createHash('sha256').update(s).digest('hex');
const GUN = '127.0.0.1:5000/remote/signed';
type Signed = { role: string; keyId: string; version: number };

let db: { url: string; stop(): Promise<void> };
let ns: NotarySigner;
let srv: RunningServer;
let dir: string;
let dataDir: string;
let notary: NotaryCli;
let cold = 0;

const fresh = (): NotaryCli =>
  notaryCli({ server: srv.url, caFile: srv.caFile as string, trustDir: path.join(dir, `cold${cold++}`) });

/** key_id → {gun, role} of every key notary-signer holds. */
async function signerKeys(): Promise<Map<string, { gun: string; role: string }>> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    const r = await c.query<{ key_id: string; gun: string; role: string }>(
      'select key_id, gun, role from private_keys',
    );
    return new Map(r.rows.map((x) => [x.key_id, { gun: x.gun, role: x.role }]));
  } finally {
    await c.end();
  }
}

/** The `signed` lists of the entries of `event`. */
async function signaturesOf(event: string): Promise<Signed[][]> {
  return (await auditEntries(srv)).filter((e) => e.event === event).map((e) => e.signed as Signed[]);
}

beforeAll(async () => {
  db = await startPostgres();
  ns = await startNotarySigner({ postgresUrl: db.url });
  dir = mkdtempSync(path.join(os.tmpdir(), 'signet-remote-signer-'));
  dataDir = path.join(dir, 'data');
  srv = await startRemoteSigned(ns, dataDir);
  notary = notaryCli({ server: srv.url, caFile: srv.caFile as string, trustDir: path.join(dir, 'trust') });
});
afterAll(async () => {
  await srv?.close();
  await ns?.dispose();
  await db?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Signet server signing with the real notary-signer', () => {
  it('init + publish, lookup: the timestamp key lives in notary-signer', async () => {
    await ok(notary, ['init', GUN]);
    await ok(notary, ['addhash', GUN, 'v1', '3', '--sha256', sha('one')]);
    await ok(notary, ['publish', GUN]);
    expect(await ok(notary, ['lookup', GUN, 'v1'])).toContain(sha('one'));
    expect(await list(fresh(), GUN)).toEqual({ v1: 'targets' });

    const [pub] = await signaturesOf('publish');
    expect(pub).toEqual([{ role: 'timestamp', keyId: expect.stringMatching(/^[0-9a-f]{64}$/), version: 1 }]);
    expect((await signerKeys()).get(pub![0]!.keyId)).toEqual({ gun: GUN, role: 'timestamp' });
  });

  it('notary key rotate snapshot -r: the server signs snapshots with a new key from notary-signer', async () => {
    await ok(notary, ['key', 'rotate', GUN, 'snapshot', '-r']);
    expect(await list(fresh(), GUN)).toEqual({ v1: 'targets' });
    await ok(notary, ['addhash', GUN, 'v2', '3', '--sha256', sha('two')]);
    await ok(notary, ['publish', GUN]);
    expect(await ok(notary, ['lookup', GUN, 'v2'])).toContain(sha('two'));
    expect(await list(fresh(), GUN)).toEqual({ v1: 'targets', v2: 'targets' });

    const last = (await signaturesOf('publish')).at(-1)!;
    const snap = last.find((s) => s.role === 'snapshot');
    expect(snap).toBeDefined();
    const rotation = (await auditEntries(srv)).find((e) => e.event === 'rotate_key');
    expect(rotation).toMatchObject({ role: 'snapshot', gun: GUN, keyId: snap!.keyId, signer: `remote ${ns.address}` });
    expect((await signerKeys()).get(snap!.keyId)).toEqual({ gun: GUN, role: 'snapshot' });
  });

  it('notary key rotate timestamp -r: lookups verify with the new timestamp key', async () => {
    const before = (await signaturesOf('publish')).at(-1)!.find((s) => s.role === 'timestamp')!.keyId;
    await ok(notary, ['key', 'rotate', GUN, 'timestamp', '-r']);
    expect(await list(fresh(), GUN)).toEqual({ v1: 'targets', v2: 'targets' });
    expect(await ok(fresh(), ['lookup', GUN, 'v1'])).toContain(sha('one'));
    const after = (await signaturesOf('publish')).at(-1)!.find((s) => s.role === 'timestamp')!.keyId;
    expect(after).not.toBe(before);
    expect((await signerKeys()).get(after)).toEqual({ gun: GUN, role: 'timestamp' });
  });

  it('a timestamp due for renewal is re-signed on read by notary-signer (restart with a 15-day window)', async () => {
    const ts = async (): Promise<number> => (await srv.store.getLatest(GUN, 'timestamp'))!.version;
    await srv.close();
    // timestamps last 14 days: with a 15-day window every read finds the timestamp due
    srv = await startRemoteSigned(ns, dataDir, { resignWindowMs: 15 * 24 * 3600 * 1000 });
    const v0 = await ts();
    expect(await list(fresh(), GUN)).toEqual({ v1: 'targets', v2: 'targets' });
    expect(await ts()).toBeGreaterThan(v0);
    expect(await ok(fresh(), ['lookup', GUN, 'v2'])).toContain(sha('two'));

    const resigns = (await auditEntries(srv)).filter((e) => e.event === 'resign_timestamp');
    expect(resigns.length).toBeGreaterThan(0);
    const first = resigns[0]!;
    expect(first).toMatchObject({ gun: GUN, user: null, signer: `remote ${ns.address}` });
    const sig = (first.signed as Signed[]).find((s) => s.role === 'timestamp')!;
    expect(sig.version).toBe(v0 + 1);
    expect((await signerKeys()).get(sig.keyId)).toEqual({ gun: GUN, role: 'timestamp' });
  });

  it('the server holds no key: no key row, no signer.passphrase; the trail names no key material', async () => {
    expect(await srv.store.keys.first()).toBeNull();
    expect(existsSync(path.join(dataDir, 'signer.passphrase'))).toBe(false);
    const keys = await signerKeys();
    const entries = await auditEntries(srv);
    // every signature the server made is in the trail with a key notary-signer holds for that role and GUN
    const signed = entries.flatMap((e) => (e.signed as Signed[] | undefined) ?? []);
    expect(signed.length).toBeGreaterThanOrEqual(6);
    for (const s of signed) expect(keys.get(s.keyId)).toEqual({ gun: GUN, role: s.role });
    // the expiry watch asks the signer: the snapshot (rotated to the server) is server-held, so never alerted
    const expiries = await srv.signet.operator.watch.current();
    const held = (role: string) =>
      expiries.find((i) => i.gun === GUN && i.role === role && i.kind === 'metadata')?.heldBy;
    expect([held('snapshot'), held('timestamp'), held('targets')]).toEqual(['server', 'server', 'client']);
    const text = readFileSync(path.join(dataDir, 'audit.log'), 'utf8');
    expect(text).not.toMatch(/BEGIN|PRIVATE|keyval|"public"|passphrase/i);
  });
});
