/**
 * The signer service on PostgreSQL (`--database postgres://…`): two instances share one database,
 * so a key created through one signs through the other (several signers behind one name), and the
 * audit trail of both is one chain.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GetKeyInfoResponseMsg, PublicKeyMsg, SignatureMsg } from '../../src/signer/grpc/proto.js';
import { AuditChainCheck } from '../../src/storage/index.js';
import { startPostgres } from '../harness/postgres.js';
import { call, startServiceFixture, type ServiceFixture } from './service-harness.js';

let db: { url: string; stop(): Promise<void> };
let a: ServiceFixture;
let b: ServiceFixture;
beforeAll(async () => {
  db = await startPostgres();
  a = await startServiceFixture('pg-passphrase', db.url);
  b = await startServiceFixture('pg-passphrase', db.url);
}, 120_000);
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await db?.stop();
});

describe('signer service on PostgreSQL', () => {
  it('a key created through one instance is known to and signs through another', async () => {
    const created = await call<PublicKeyMsg>(await a.client('KeyManagement'), 'CreateKey', {
      gun: 'example.com/pg',
      role: 'timestamp',
      algorithm: 'ecdsa',
    });
    const id = created.keyInfo?.keyID?.ID as string;
    const info = await call<GetKeyInfoResponseMsg>(await b.client('KeyManagement'), 'GetKeyInfo', { ID: id });
    expect(info.role).toBe('timestamp');
    const content = Buffer.from('signed through b');
    const sig = await call<SignatureMsg>(await b.client('Signer'), 'Sign', { keyID: { ID: id }, content });
    const key = crypto.createPublicKey({ key: created.publicKey, format: 'der', type: 'spki' });
    expect(crypto.verify('sha256', content, { key, dsaEncoding: 'ieee-p1363' }, sig.content)).toBe(true);
    const entries = await a.store.audit.list({ afterSeq: 0, limit: 100 });
    const events = entries.map((e) => JSON.parse(e.text) as Record<string, unknown>);
    expect(events.filter((e) => e.keyId === id).map((e) => e.event)).toEqual(['create_key', 'sign']);
    const check = new AuditChainCheck();
    for (const e of entries) check.add(e);
    expect(check.problems).toEqual([]);
    const row = await a.store.keys.get(id);
    expect(row?.privateKey.subarray(0, 4).toString()).toBe('SGK1');
    expect(row?.lastUsed).not.toBeNull();
  });

  it('DeleteKey through one instance removes the key from the shared database, audited', async () => {
    const km = await a.client('KeyManagement');
    const created = await call<PublicKeyMsg>(km, 'CreateKey', {
      gun: 'example.com/pg-del',
      role: 'snapshot',
      algorithm: 'ecdsa',
    });
    const id = created.keyInfo?.keyID?.ID as string;
    // `a` made the key (and holds it in memory) and has signed with it
    await call(await a.client('Signer'), 'Sign', { keyID: { ID: id }, content: Buffer.from('before') });
    await call(await b.client('KeyManagement'), 'DeleteKey', { ID: id });
    expect(await a.store.keys.get(id)).toBeNull();
    // … but a key deleted through `b` no longer signs or is known through `a`
    await expect(
      call(await a.client('Signer'), 'Sign', { keyID: { ID: id }, content: Buffer.from('after') }),
    ).rejects.toMatchObject({ code: 5 });
    await expect(call(km, 'GetKeyInfo', { ID: id })).rejects.toMatchObject({ code: 5 });
    const events = (await b.store.audit.list({ afterSeq: 0, limit: 100 })).map(
      (e) => JSON.parse(e.text) as Record<string, unknown>,
    );
    expect(events.filter((e) => e.keyId === id).at(-1)).toMatchObject({
      event: 'delete_key',
      deleted: true,
      gun: 'example.com/pg-del',
      role: 'snapshot',
    });
  });
});
