import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createRootCertificate,
  certificatePublicKey,
  localSigner,
  newTargets,
  parseMetadata,
  publicKeyFromSpki,
  signMetadata,
  verifySignature,
  verifyThreshold,
  type PublicKey,
} from '../../src/tuf/index.js';
import { thrownCode } from '../helpers/errors.js';
import { hasOpenssl } from '../helpers/x509.js';

const NOW = new Date('2026-11-25T20:00:00Z');

function keypair(kind: 'ecdsa' | 'rsa' | 'ed25519'): { priv: crypto.KeyObject; pk: PublicKey } {
  const { privateKey, publicKey } =
    kind === 'ecdsa'
      ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : kind === 'rsa'
        ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
        : crypto.generateKeyPairSync('ed25519');
  return { priv: privateKey, pk: publicKeyFromSpki(publicKey.export({ format: 'der', type: 'spki' })) };
}

/** IEEE P1363 r||s → DER ECDSA-Sig-Value, for openssl. */
function p1363ToDer(sig: Buffer): Buffer {
  const int = (b: Buffer): Buffer => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    let v = b.subarray(i);
    if ((v[0] ?? 0) & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
    return Buffer.concat([Buffer.from([0x02, v.length]), v]);
  };
  const body = Buffer.concat([int(sig.subarray(0, 32)), int(sig.subarray(32))]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

describe('sign then verify', () => {
  for (const [kind, method, pubLen] of [
    ['ecdsa', 'ecdsa', 91],
    ['rsa', 'rsapss', 294],
    ['ed25519', 'eddsa', 32],
  ] as const) {
    it(`round-trips a targets file signed with ${kind} (method ${method})`, async () => {
      const { priv, pk } = keypair(kind);
      expect(Buffer.from(pk.public, 'base64').length).toBe(pubLen);
      const md = await signMetadata('targets', newTargets(NOW), [localSigner(priv, pk)]);
      expect(md.signatures).toEqual([expect.objectContaining({ keyid: pk.id, method })]);
      const reparsed = parseMetadata('targets', md.bytes);
      verifyThreshold(reparsed, { [pk.id]: pk }, [pk.id], 1);
      const other = keypair(kind).pk;
      expect(thrownCode(() => verifyThreshold(reparsed, { [pk.id]: other }, [pk.id], 1))).toBe('INVALID_KEY_ID');
    });
  }

  it('writes ecdsa signatures as 64-byte raw r||s', async () => {
    const { priv, pk } = keypair('ecdsa');
    const { method, sig } = await localSigner(priv, pk).sign(Buffer.from('hello'));
    expect(method).toBe('ecdsa');
    expect(sig.length).toBe(64);
    expect(verifySignature(pk, 'ecdsa', Buffer.from('hello'), sig)).toBe(true);
    expect(verifySignature(pk, 'ecdsa', Buffer.from('hellO'), sig)).toBe(false);
    expect(verifySignature(pk, 'ecdsa', Buffer.from('hello'), p1363ToDer(sig))).toBe(false);
  });

  it.skipIf(!hasOpenssl())('produces ecdsa signatures that openssl verifies after converting r||s to DER', async () => {
    const { priv, pk } = keypair('ecdsa');
    const md = await signMetadata('targets', newTargets(NOW), [localSigner(priv, pk)]);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-tuf-'));
    try {
      writeFileSync(path.join(dir, 'pub.pem'), crypto.createPublicKey(priv).export({ format: 'pem', type: 'spki' }));
      writeFileSync(path.join(dir, 'data'), md.signedBytes);
      writeFileSync(path.join(dir, 'sig'), p1363ToDer(Buffer.from(md.signatures[0]?.sig ?? '', 'base64')));
      const out = execFileSync('openssl', ['dgst', '-sha256', '-verify', 'pub.pem', '-signature', 'sig', 'data'], {
        cwd: dir,
      }).toString();
      expect(out.trim()).toBe('Verified OK');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uses PSS salt length 32 for rsapss (a 64-byte salt does not verify)', () => {
    const { priv, pk } = keypair('rsa');
    const data = Buffer.from('payload');
    const pss = (saltLength: number): Buffer =>
      crypto.sign('sha256', data, { key: priv, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength });
    expect(verifySignature(pk, 'rsapss', data, pss(32))).toBe(true);
    expect(verifySignature(pk, 'rsapss', data, pss(64))).toBe(false);
  });

  it('verifies rsapkcs1v15 signatures (verify only)', () => {
    const { priv, pk } = keypair('rsa');
    const data = Buffer.from('payload');
    const sig = crypto.sign('sha256', data, { key: priv, padding: crypto.constants.RSA_PKCS1_PADDING });
    expect(verifySignature(pk, 'rsapkcs1v15', data, sig)).toBe(true);
    expect(verifySignature(pk, 'rsapss', data, sig)).toBe(false);
  });

  it('verifies legacy pycrypto-pkcs#1 pss signatures by rsa keys given as PEM text', () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const pk = { keytype: 'rsa', public: Buffer.from(pem).toString('base64'), id: 'x', canonicalId: 'x' } as const;
    const data = Buffer.from('payload');
    const sig = crypto.sign('sha256', data, {
      key: privateKey,
      padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 32,
    });
    expect(verifySignature(pk, 'pycrypto-pkcs#1 pss', data, sig)).toBe(true);
    expect(verifySignature(pk, 'rsapss', data, sig)).toBe(false);
  });

  it('accepts the method name in any case', async () => {
    const { priv, pk } = keypair('ecdsa');
    const { sig } = await localSigner(priv, pk).sign(Buffer.from('x'));
    expect(verifySignature(pk, 'ECDSA', Buffer.from('x'), sig)).toBe(true);
  });

  it('refuses a signature whose method does not fit the key type', async () => {
    const { priv, pk } = keypair('ed25519');
    const { sig } = await localSigner(priv, pk).sign(Buffer.from('x'));
    expect(verifySignature(pk, 'eddsa', Buffer.from('x'), sig)).toBe(true);
    expect(verifySignature(pk, 'ecdsa', Buffer.from('x'), sig)).toBe(false);
    expect(verifySignature(pk, 'ed25519', Buffer.from('x'), sig)).toBe(false);
  });

  it('signs root with an x509 key under the certificate key ID, and names the bare key by its canonical ID', async () => {
    const { priv, pk: bare } = keypair('ecdsa');
    const certKey = certificatePublicKey(await createRootCertificate('example.com/app', priv, NOW));
    expect(certKey.keytype).toBe('ecdsa-x509');
    expect(certKey.canonicalId).toBe(bare.id);
    expect(certKey.id).not.toBe(bare.id);
    const md = await signMetadata('targets', newTargets(NOW), [localSigner(priv, certKey)]);
    expect(md.signatures[0]?.keyid).toBe(certKey.id);
    verifyThreshold(parseMetadata('targets', md.bytes), { [certKey.id]: certKey }, [certKey.id], 1);
  });

  it('puts new signatures first, keeps other signatures and drops duplicates by key', async () => {
    const a = keypair('ecdsa');
    const b = keypair('ed25519');
    const first = await signMetadata('targets', newTargets(NOW), [localSigner(a.priv, a.pk)]);
    const both = await signMetadata('targets', first.signed, [localSigner(b.priv, b.pk)], first.signatures);
    expect(both.signatures.map((s) => s.keyid)).toEqual([b.pk.id, a.pk.id]);
    const again = await signMetadata('targets', first.signed, [localSigner(a.priv, a.pk)], both.signatures);
    expect(again.signatures.map((s) => s.keyid)).toEqual([a.pk.id, b.pk.id]);
    const keys = { [a.pk.id]: a.pk, [b.pk.id]: b.pk };
    verifyThreshold(both, keys, [a.pk.id, b.pk.id], 2);
    expect(thrownCode(() => verifyThreshold(first, keys, [a.pk.id, b.pk.id], 2))).toBe('THRESHOLD');
  });

  it('refuses to sign a body notary could not load', async () => {
    const { priv, pk } = keypair('ecdsa');
    const bad = { ...newTargets(NOW), version: 0 };
    await expect(signMetadata('targets', bad, [localSigner(priv, pk)])).rejects.toMatchObject({
      code: 'MALFORMED_METADATA',
    });
  });

  it('refuses a private key that does not fit the public key type', () => {
    const { priv } = keypair('ed25519');
    const { pk } = keypair('ecdsa');
    expect(thrownCode(() => localSigner(priv, pk))).toBe('INVALID_KEY');
  });
});
