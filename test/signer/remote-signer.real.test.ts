/**
 * RemoteServerSigner against the real notary-signer 0.7 (memory storage, mutual TLS): keys are made
 * by the signer, found again through a root that lists them, and sign bytes that verify with the
 * public key the signer gave (PKIX DER for ecdsa, ID = notary's key ID).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSignetError } from '../../src/errors.js';
import { RemoteServerSigner } from '../../src/signer/index.js';
import { keyJson, newRoot, verifySignature, type PublicKey, type RootSigned } from '../../src/tuf/index.js';
import { startNotarySigner, type NotarySigner } from '../harness/notary-signer.js';
import { makeTestCA } from '../harness/tls.js';

let ns: NotarySigner;
let signer: RemoteServerSigner;

function rootListing(ts: PublicKey[], sn: PublicKey[] = []): RootSigned {
  return newRoot(
    Object.fromEntries([...ts, ...sn].map((k) => [k.id, keyJson(k.keytype, k.public)])),
    {
      root: { keyids: [], threshold: 1 },
      targets: { keyids: [], threshold: 1 },
      snapshot: { keyids: sn.map((k) => k.id), threshold: 1 },
      timestamp: { keyids: ts.map((k) => k.id), threshold: 1 },
    },
    new Date(Date.now() + 1e10),
  );
}

beforeAll(async () => {
  ns = await startNotarySigner();
  signer = await RemoteServerSigner.connect({
    address: ns.address,
    ca: readFileSync(ns.caFile),
    cert: readFileSync(ns.clientCert),
    key: readFileSync(ns.clientKey),
    timeoutMs: 5_000,
  });
});
afterAll(async () => {
  await signer?.close();
  await ns?.dispose();
});

describe('RemoteServerSigner with the real notary-signer', () => {
  it('reports healthy', async () => {
    await expect(signer.checkHealth()).resolves.toBeUndefined();
    expect(signer.name).toBe(`remote ${ns.address}`);
  });

  it('creates ecdsa keys in the signer and signs with them; the signature verifies', async () => {
    const ts = await signer.getOrCreateKey('example.com/remote/a', 'timestamp');
    expect(ts.keytype).toBe('ecdsa');
    expect(ts.id).toMatch(/^[0-9a-f]{64}$/);
    const root = rootListing([ts]);
    // with a root listing it, the same key comes back (GetKeyInfo), not a new one
    expect((await signer.getOrCreateKey('example.com/remote/a', 'timestamp', root)).id).toBe(ts.id);
    const s = await signer.signerFor('example.com/remote/a', 'timestamp', root);
    expect(s?.publicKey.id).toBe(ts.id);
    const data = Buffer.from('{"signed":"bytes"}');
    const sig = await s!.sign(data);
    expect(sig.method).toBe('ecdsa');
    expect(sig.sig).toHaveLength(64);
    expect(verifySignature(ts, 'ecdsa', data, sig.sig)).toBe(true);
  });

  it('a key the signer does not hold, or holds for another role, gives no signer', async () => {
    const other = await signer.getOrCreateKey('example.com/remote/b', 'snapshot');
    const ts = await signer.getOrCreateKey('example.com/remote/b', 'timestamp');
    // the snapshot key listed as timestamp: the signer says its role is snapshot
    expect(await signer.signerFor('example.com/remote/b', 'timestamp', rootListing([other]))).toBeNull();
    const stranger: PublicKey = { ...ts, id: 'f'.repeat(64), canonicalId: 'f'.repeat(64) };
    expect(await signer.signerFor('example.com/remote/b', 'timestamp', rootListing([stranger]))).toBeNull();
  });

  it('rotateKey makes a new key each time', async () => {
    const a = await signer.rotateKey('example.com/remote/c', 'snapshot');
    const s = await signer.signerFor('example.com/remote/c', 'snapshot', rootListing([], [a]));
    await s!.sign(Buffer.from('x')); // a key that signed is active: the next creation is a new key
    const b = await signer.rotateKey('example.com/remote/c', 'snapshot');
    expect(b.id).not.toBe(a.id);
  });

  it('a client certificate from another CA is refused: SIGNER_UNAVAILABLE naming the address', async () => {
    const other = await makeTestCA(`${ns.dir}/other-ca`);
    const c = await other.issue('intruder', { eku: 'clientAuth' });
    const intruder = await RemoteServerSigner.connect({
      address: ns.address,
      ca: readFileSync(ns.caFile),
      cert: readFileSync(c.cert),
      key: readFileSync(c.key),
      timeoutMs: 3_000,
    });
    try {
      const err = await intruder.getOrCreateKey('example.com/remote/d', 'timestamp').catch((e: unknown) => e);
      expect(isSignetError(err, 'SIGNER_UNAVAILABLE')).toBe(true);
      expect((err as Error).message).toContain(ns.address);
    } finally {
      await intruder.close();
    }
  });
});
