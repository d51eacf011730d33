// createRootCertificate through a Signer (a key that cannot leave its token): the certificate is
// what the KeyObject path makes for the same key (notary's root certificate, CN = GUN), its
// signature made by the Signer; only ECDSA P-256 signers are taken.
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { privateKeyFromKeyObject } from '../../src/keys/index.js';
import { certificatePublicKey, createRootCertificate, localSigner, type Signer } from '../../src/tuf/index.js';

const NOW = new Date('2026-01-02T03:04:05.678Z');

describe('createRootCertificate with a Signer', () => {
  it('self-signs with the signer and matches the KeyObject path', async () => {
    const key = privateKeyFromKeyObject(crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey);
    let calls = 0;
    const inner = localSigner(key.keyObject, key.publicKey);
    const counting: Signer = { publicKey: key.publicKey, sign: (d) => (calls++, inner.sign(d)) };
    const viaSigner = new crypto.X509Certificate(await createRootCertificate('example.com/app', counting, NOW));
    const viaKey = new crypto.X509Certificate(await createRootCertificate('example.com/app', key.keyObject, NOW));
    expect(calls).toBe(1);
    expect(viaSigner.verify(viaSigner.publicKey)).toBe(true);
    for (const f of ['subject', 'issuer', 'validFrom', 'validTo', 'keyUsage'] as const)
      expect(viaSigner[f]).toEqual(viaKey[f]);
    expect(viaSigner.publicKey.export({ format: 'der', type: 'spki' })).toEqual(
      viaKey.publicKey.export({ format: 'der', type: 'spki' }),
    );
    expect(certificatePublicKey(viaSigner.toString()).canonicalId).toBe(key.publicKey.canonicalId);
  });

  it('refuses a non-ECDSA signer and a signature that does not verify', async () => {
    const ed = privateKeyFromKeyObject(crypto.generateKeyPairSync('ed25519').privateKey);
    await expect(
      createRootCertificate('g.example/x', localSigner(ed.keyObject, ed.publicKey), NOW),
    ).rejects.toMatchObject({
      code: 'INVALID_KEY',
    });
    const key = privateKeyFromKeyObject(crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey);
    const other = privateKeyFromKeyObject(crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey);
    const lying: Signer = { publicKey: key.publicKey, sign: localSigner(other.keyObject, other.publicKey).sign };
    await expect(createRootCertificate('g.example/x', lying, NOW)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
  });
});
