/** LocalServerSigner: notary-signer's key lifecycle, with private keys encrypted at rest. */
import crypto from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type MetaStore } from '../../src/storage/index.js';
import { KeyCipher, LocalServerSigner } from '../../src/signer/index.js';
import {
  keyJson,
  newRoot,
  publicKeyFromSpki,
  verifySignature,
  type PublicKey,
  type RootSigned,
} from '../../src/tuf/index.js';

let dir: string;
let store: MetaStore;
beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'signet-signer-'));
  store = await openStore({ dataDir: dir });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function rootListing(ts: PublicKey, sn?: PublicKey): RootSigned {
  const keys = [ts, ...(sn ? [sn] : [])];
  return newRoot(
    Object.fromEntries(keys.map((k) => [k.id, keyJson(k.keytype, k.public)])),
    {
      root: { keyids: [], threshold: 1 },
      targets: { keyids: [], threshold: 1 },
      snapshot: { keyids: sn ? [sn.id] : [], threshold: 1 },
      timestamp: { keyids: [ts.id], threshold: 1 },
    },
    new Date(Date.now() + 1e10),
  );
}

describe('LocalServerSigner', () => {
  it('hands out the same unused key until it has signed, then a new one for a new request', async () => {
    const s = new LocalServerSigner({ keys: store.keys, passphrase: 'pw' });
    const a = await s.getOrCreateKey('g', 'timestamp');
    const b = await s.getOrCreateKey('g', 'timestamp');
    expect(b.id).toBe(a.id);
    expect(a.keytype).toBe('ecdsa');
    await s.markUsed([a.id], new Date());
    const c = await s.getOrCreateKey('g', 'timestamp');
    expect(c.id).not.toBe(a.id);
    // with a root listing `a`, `a` is returned again
    expect((await s.getOrCreateKey('g', 'timestamp', rootListing(a))).id).toBe(a.id);
  });

  it('rotateKey always creates a new key; keys are per GUN and role', async () => {
    const s = new LocalServerSigner({ keys: store.keys, passphrase: 'pw' });
    const a = await s.getOrCreateKey('g', 'snapshot');
    const r = await s.rotateKey('g', 'snapshot');
    expect(r.id).not.toBe(a.id);
    expect((await s.getOrCreateKey('other', 'snapshot')).id).not.toBe(a.id);
    expect((await s.getOrCreateKey('g', 'timestamp')).id).not.toBe(a.id);
  });

  it('signs with the key the root lists (ecdsa r||s over the data) and with nothing it does not hold', async () => {
    const s = new LocalServerSigner({ keys: store.keys, passphrase: 'pw' });
    const ts = await s.getOrCreateKey('g', 'timestamp');
    const signer = await s.signerFor('g', 'timestamp', rootListing(ts));
    expect(signer?.publicKey.id).toBe(ts.id);
    const data = Buffer.from('canonical bytes');
    const { method, sig } = await signer!.sign(data);
    expect(method).toBe('ecdsa');
    expect(sig.length).toBe(64);
    expect(verifySignature(ts, method, data, sig)).toBe(true);
    expect(await s.signerFor('g', 'snapshot', rootListing(ts))).toBeNull();
    expect(await s.signerFor('another-gun', 'timestamp', rootListing(ts))).toBeNull();
  });

  it('stores private keys encrypted, decrypts them after a restart with the passphrase, refuses a wrong one', async () => {
    const s = new LocalServerSigner({ keys: store.keys, passphrase: 'right' });
    const ts = await s.getOrCreateKey('g', 'timestamp');
    const row = await store.keys.get(ts.id);
    expect(row?.privateKey.subarray(0, 4).toString()).toBe('SGK1');
    expect(JSON.stringify(s)).not.toContain('right');
    const again = new LocalServerSigner({ keys: store.keys, passphrase: 'right' });
    const signer = await again.signerFor('g', 'timestamp', rootListing(ts));
    expect(signer).not.toBeNull();
    const wrong = new LocalServerSigner({ keys: store.keys, passphrase: 'wrong' });
    await expect(wrong.signerFor('g', 'timestamp', rootListing(ts))).rejects.toMatchObject({ code: 'BAD_PASSPHRASE' });
  });

  it('binds a ciphertext to its row (a blob moved to another key id does not decrypt)', async () => {
    const c = new KeyCipher('pw');
    const blob = await c.encrypt(Buffer.from('secret'), 'g\u0000timestamp\u0000id1');
    expect((await c.decrypt(blob, 'g\u0000timestamp\u0000id1')).toString()).toBe('secret');
    await expect(c.decrypt(blob, 'g\u0000timestamp\u0000id2')).rejects.toMatchObject({ code: 'BAD_PASSPHRASE' });
  });

  it("importKey takes over another signer's P-256 key once, keeps its times, and signs with it", async () => {
    const s = new LocalServerSigner({ keys: store.keys, passphrase: 'pw' });
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const createdAt = new Date('2024-01-02T03:04:05.678Z');
    const lastUsed = new Date('2025-01-01T00:00:00.000Z');
    const r = await s.importKey({ gun: 'g', role: 'timestamp', privateKey, createdAt, lastUsed });
    expect(r.imported).toBe(true);
    const pk = publicKeyFromSpki(crypto.createPublicKey(privateKey).export({ type: 'spki', format: 'der' }), 'ecdsa');
    expect(r.id).toBe(pk.id);
    expect(await s.importKey({ gun: 'g', role: 'timestamp', privateKey, createdAt, lastUsed })).toEqual({
      id: pk.id,
      imported: false,
    });
    const row = await store.keys.get(pk.id);
    expect(row).toMatchObject({ gun: 'g', role: 'timestamp', createdAt, lastUsed });
    expect(row!.privateKey.includes(privateKey.export({ type: 'pkcs8', format: 'der' }))).toBe(false);
    // a fresh signer (another process) finds and uses it for a root that lists it
    const again = new LocalServerSigner({ keys: store.keys, passphrase: 'pw' });
    const signer = await again.signerFor('g', 'timestamp', rootListing(pk));
    expect(signer).not.toBeNull();
    const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    await expect(
      s.importKey({ gun: 'g', role: 'timestamp', privateKey: rsa, createdAt, lastUsed: null }),
    ).rejects.toMatchObject({
      code: 'INVALID_KEY',
    });
  });
});
