/**
 * Key use is audited: every signature the server's built-in signer makes (the snapshot and
 * timestamp of a publish, a timestamp re-signed on read) is named in the audit trail with its role,
 * key ID and version, beside the GUN and the signer; the trail holds no key material and no
 * passphrase. (The remote signer's entries: test/interop/remote-signer.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServer, TestRepo, type TestServer } from './helpers.js';

const GUN = 'example.com/team/key-use';
const DAY = 24 * 3600 * 1000;
type Signed = { role: string; keyId: string; version: number };

let clock = Date.now();
let srv: TestServer;

async function entries(): Promise<{ text: string; fields: Record<string, unknown> }[]> {
  const es = await srv.store.audit.list({ afterSeq: 0, limit: 10_000 });
  return es.map((e) => ({ text: e.text, fields: JSON.parse(e.text) as Record<string, unknown> }));
}

beforeAll(async () => {
  srv = await testServer({ now: () => new Date(clock) });
});
afterAll(async () => {
  await srv?.close();
});

describe('key use in the audit trail (built-in signer)', () => {
  it('a publish names the snapshot and timestamp signatures the server made, with keys of that GUN and role', async () => {
    const repo = new TestRepo(srv, GUN);
    await repo.init({ serverSnapshot: true });
    repo.addTarget('v1', 'one');
    expect((await repo.publish()).statusCode).toBe(200);

    const pub = (await entries()).map((e) => e.fields).find((e) => e.event === 'publish');
    expect(pub).toMatchObject({ gun: GUN, signer: 'local' });
    const signed = pub!.signed as Signed[];
    expect(signed).toEqual([
      { role: 'snapshot', keyId: repo.serverSnapshotPub!.id, version: 1 },
      { role: 'timestamp', keyId: repo.timestampPub!.id, version: 1 },
    ]);
    for (const s of signed) {
      const row = await srv.store.keys.get(s.keyId);
      expect([row?.gun, row?.role]).toEqual([GUN, s.role]);
    }
  });

  it('a timestamp re-signed on read is recorded with its key, the GUN and no requester', async () => {
    clock += 14 * DAY; // within the re-sign window of the 14-day timestamp
    const r = await srv.signet.app.inject({ method: 'GET', url: `/v2/${GUN}/_trust/tuf/timestamp.json` });
    expect(r.statusCode).toBe(200);
    expect(JSON.parse(r.body).signed.version).toBe(2);
    const resign = (await entries()).map((e) => e.fields).find((e) => e.event === 'resign_timestamp');
    expect(resign).toMatchObject({ gun: GUN, user: null, signer: 'local' });
    const ts = (resign!.signed as Signed[]).find((s) => s.role === 'timestamp');
    expect(ts).toEqual({ role: 'timestamp', keyId: expect.stringMatching(/^[0-9a-f]{64}$/), version: 2 });
    expect((await srv.store.keys.get(ts!.keyId))?.role).toBe('timestamp');
  });

  it('no key material and no passphrase anywhere in the trail', async () => {
    const all = (await entries()).map((e) => e.text).join('\n');
    expect(all).not.toContain('test-passphrase');
    expect(all).not.toMatch(/BEGIN|PRIVATE|keyval|"public"|privateKey|passphrase/i);
    // neither the public nor the encrypted private bytes of any server key
    for (const e of await entries()) {
      for (const s of (e.fields.signed as Signed[] | undefined) ?? []) {
        const row = await srv.store.keys.get(s.keyId);
        expect(row).not.toBeNull();
        expect(all).not.toContain(row!.publicKey.slice(0, 40));
        expect(all).not.toContain(row!.privateKey.toString('base64').slice(0, 40));
        expect(all).not.toContain(row!.privateKey.toString('hex').slice(0, 40));
      }
    }
  });
});
