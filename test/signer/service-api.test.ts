/**
 * Signet's signer service speaks notary-signer's API (N:signer/api/rpc_api.go) over mutual TLS:
 * CreateKey hands an unused key out again, GetKeyInfo names the role, Sign returns notary's ECDSA
 * signature (r‖s over sha256 of the content), unknown keys are NOT_FOUND, DeleteKey of an unknown
 * key succeeds, health answers notary-server's service names, callers without a certificate from
 * the client CA are refused, and every key use is in the audit trail without key material.
 */
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as grpc from '@grpc/grpc-js';
import type { GetKeyInfoResponseMsg, PublicKeyMsg, SignatureMsg } from '../../src/signer/grpc/proto.js';
import { HEALTH_SERVICES } from '../../src/signer/grpc/proto.js';
import { publicKeyFromSpki } from '../../src/tuf/index.js';
import { call, startServiceFixture, type ServiceFixture } from './service-harness.js';

let fx: ServiceFixture;
let km: grpc.Client;
let signer: grpc.Client;
beforeAll(async () => {
  fx = await startServiceFixture();
  km = await fx.client('KeyManagement');
  signer = await fx.client('Signer');
}, 60_000);
afterAll(async () => fx?.stop());

const create = (gun: string, role: string, algorithm = 'ecdsa'): Promise<PublicKeyMsg> =>
  call<PublicKeyMsg>(km, 'CreateKey', { gun, role, algorithm });

async function auditEvents(): Promise<Record<string, unknown>[]> {
  const entries = await fx.store.audit.list({ afterSeq: 0, limit: 1000 });
  return entries.map((e) => JSON.parse(e.text) as Record<string, unknown>);
}

describe('signer service API', () => {
  it('CreateKey returns an ECDSA P-256 key (SPKI DER) whose id is the TUF key id; an unused key is handed out again', async () => {
    const a = await create('example.com/app', 'timestamp');
    expect(a.keyInfo?.algorithm?.algorithm).toBe('ecdsa');
    const pk = publicKeyFromSpki(a.publicKey, 'ecdsa');
    expect(a.keyInfo?.keyID?.ID).toBe(pk.id);
    expect(
      crypto.createPublicKey({ key: a.publicKey, format: 'der', type: 'spki' }).asymmetricKeyDetails?.namedCurve,
    ).toBe('prime256v1');
    const b = await create('example.com/app', 'timestamp');
    expect(b.keyInfo?.keyID?.ID).toBe(a.keyInfo?.keyID?.ID);
    // another role or GUN gets its own key
    const c = await create('example.com/app', 'snapshot');
    expect(c.keyInfo?.keyID?.ID).not.toBe(a.keyInfo?.keyID?.ID);
  });

  it('GetKeyInfo returns the public key and the role; unknown ids are NOT_FOUND', async () => {
    const a = await create('example.com/info', 'snapshot');
    const info = await call<GetKeyInfoResponseMsg>(km, 'GetKeyInfo', { ID: a.keyInfo?.keyID?.ID });
    expect(info.role).toBe('snapshot');
    expect(info.publicKey.equals(a.publicKey)).toBe(true);
    expect(info.keyInfo?.algorithm?.algorithm).toBe('ecdsa');
    await expect(call(km, 'GetKeyInfo', { ID: 'ab'.repeat(32) })).rejects.toMatchObject({ code: 5 });
    await expect(call(km, 'GetKeyInfo', { ID: 'not-a-key-id' })).rejects.toMatchObject({ code: 5 });
  });

  it('Sign returns r‖s over sha256 of the content; the key becomes used, so CreateKey makes a new one', async () => {
    const a = await create('example.com/sign', 'timestamp');
    const id = a.keyInfo?.keyID?.ID as string;
    const content = Buffer.from('{"signed":"bytes"}');
    const sig = await call<SignatureMsg>(signer, 'Sign', { keyID: { ID: id }, content });
    expect(sig.algorithm?.algorithm).toBe('ecdsa');
    expect(sig.keyInfo?.keyID?.ID).toBe(id);
    expect(sig.content.length).toBe(64);
    const key = crypto.createPublicKey({ key: a.publicKey, format: 'der', type: 'spki' });
    expect(crypto.verify('sha256', content, { key, dsaEncoding: 'ieee-p1363' }, sig.content)).toBe(true);
    const next = await create('example.com/sign', 'timestamp');
    expect(next.keyInfo?.keyID?.ID).not.toBe(id);
    await expect(call(signer, 'Sign', { keyID: { ID: 'cd'.repeat(32) }, content })).rejects.toMatchObject({
      code: 5,
      details: expect.stringContaining('signing key not found') as unknown,
    });
  });

  it('refuses algorithms and roles it does not hold keys for', async () => {
    await expect(create('example.com/x', 'timestamp', 'rsa')).rejects.toMatchObject({
      code: 2,
      details: 'algorithm rsa not supported for create key',
    });
    await expect(create('example.com/x', 'targets')).rejects.toMatchObject({ code: 3 });
    await expect(create('', 'timestamp')).rejects.toMatchObject({ code: 3 });
  });

  it('DeleteKey removes a key (then NOT_FOUND); an unknown id succeeds, as notary-signer', async () => {
    const a = await create('example.com/del', 'snapshot');
    const id = a.keyInfo?.keyID?.ID as string;
    await call(km, 'DeleteKey', { ID: id });
    await expect(call(km, 'GetKeyInfo', { ID: id })).rejects.toMatchObject({ code: 5 });
    await expect(call(signer, 'Sign', { keyID: { ID: id }, content: Buffer.from('x') })).rejects.toMatchObject({
      code: 5,
    });
    await call(km, 'DeleteKey', { ID: 'ef'.repeat(32) });
    expect(await fx.store.keys.get(id)).toBeNull();
  });

  it("health answers SERVING for '' and notary-server's two service names, NOT_FOUND for others", async () => {
    const health = await fx.client('Health');
    for (const service of ['', ...HEALTH_SERVICES]) {
      expect(await call<{ status: string }>(health, 'Check', { service })).toEqual({ status: 'SERVING' });
    }
    await expect(call(health, 'Check', { service: 'grpc.health.v1.Health.Other' })).rejects.toMatchObject({ code: 5 });
  });

  it('health reports NOT_SERVING while the database does not answer', async () => {
    const down = await startServiceFixture('pw', undefined, () => Promise.reject(new Error('database down')));
    try {
      const health = await down.client('Health');
      for (const service of ['', ...HEALTH_SERVICES]) {
        expect(await call<{ status: string }>(health, 'Check', { service })).toEqual({ status: 'NOT_SERVING' });
      }
    } finally {
      await down.stop();
    }
  });

  it('refuses callers without a client certificate, or with one from another CA', async () => {
    for (const cert of ['none', 'other-ca'] as const) {
      const c = await fx.client('KeyManagement', { cert });
      await expect(create('example.com/intruder', 'timestamp')).resolves.toBeDefined(); // the good client still works
      await expect(
        call(c, 'CreateKey', { gun: 'example.com/intruder2', role: 'timestamp', algorithm: 'ecdsa' }),
      ).rejects.toMatchObject({
        code: 14, // UNAVAILABLE: the TLS handshake fails
      });
    }
    expect((await fx.store.keys.listFor('example.com/intruder2', 'timestamp')).length).toBe(0);
  });

  it('audits CreateKey, Sign and DeleteKey with GUN, role, key id and client; no key material in the trail or the database', async () => {
    const a = await create('example.com/audit', 'timestamp');
    const id = a.keyInfo?.keyID?.ID as string;
    await call(signer, 'Sign', { keyID: { ID: id }, content: Buffer.from('payload') });
    await call(km, 'DeleteKey', { ID: id });
    const events = (await auditEvents()).filter((e) => e.keyId === id);
    expect(events.map((e) => e.event)).toEqual(['create_key', 'sign', 'delete_key']);
    for (const e of events) {
      expect(e).toMatchObject({
        service: 'signer',
        gun: 'example.com/audit',
        role: 'timestamp',
        client: 'notary-server-client',
      });
    }
    expect(events[1]).toMatchObject({ bytes: 7, sha256: crypto.createHash('sha256').update('payload').digest('hex') });
    expect(events[2]).toMatchObject({ deleted: true });
    // a reused unused key is audited too
    const r1 = await create('example.com/audit2', 'snapshot');
    await create('example.com/audit2', 'snapshot');
    const reuse = (await auditEvents()).filter((e) => e.keyId === r1.keyInfo?.keyID?.ID);
    expect(reuse.map((e) => e.reused ?? false)).toEqual([false, true]);

    // keys are stored encrypted: no PKCS#8 of any held key appears in the SQLite files
    const kept = await create('example.com/audit3', 'timestamp');
    await call(signer, 'Sign', { keyID: { ID: kept.keyInfo?.keyID?.ID }, content: Buffer.from('y') });
    const trail = JSON.stringify(await auditEvents());
    expect(trail).not.toMatch(/PRIVATE KEY|passphrase/i);
    const row = await fx.store.keys.get(kept.keyInfo?.keyID?.ID as string);
    expect(row?.privateKey.subarray(0, 4).toString()).toBe('SGK1');
    const db = Buffer.concat(
      ['signet.db', 'signet.db-wal'].flatMap((f) => {
        try {
          return [readFileSync(path.join(fx.dir, f))];
        } catch {
          return [];
        }
      }),
    );
    // the PKCS#8 DER prefix of an EC P-256 key (version 0, id-ecPublicKey, prime256v1) is never stored
    const pkcs8Prefix = Buffer.from('308187020100301306072a8648ce3d020106082a8648ce3d030107', 'hex');
    expect(db.includes(pkcs8Prefix)).toBe(false);
    expect(db.includes(Buffer.from('service-test-passphrase'))).toBe(false);
  });
});
