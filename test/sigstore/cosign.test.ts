/**
 * Pure checks of the cosign formats against vectors made by the real cosign (test/fixtures/sigstore):
 * the encrypted private key, the payload and signature, and the signature manifest bytes.
 */
import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSignetError } from '../../src/errors.js';
import { decodePemBlocks, encodePem } from '../../src/keys/index.js';
import {
  SIGSTORE_PRIVATE_KEY_PEM,
  buildPayload,
  decryptCosignKey,
  digestOfSignatureTag,
  encryptCosignKey,
  generateCosignKeyPair,
  judgeLayer,
  loadCosignPublicKey,
  newSignatureLayer,
  parsePayload,
  publicKeyPem,
  signPayload,
  signatureManifestBytes,
  signatureTag,
  verifyPayloadSignature,
} from '../../src/sigstore/index.js';
import { FIXTURES, cosignFixture } from './fixture.js';

describe('cosign encrypted private keys', () => {
  it('decrypts a key written by cosign 2 (scrypt N=65536, empty password) to the key of its .pub', async () => {
    const pem = await readFile(path.join(FIXTURES, 'cosign-v2-ed25519.key'), 'utf8');
    const key = await decryptCosignKey(pem, '', 'cosign-v2-ed25519.key');
    expect(key.asymmetricKeyType).toBe('ed25519');
    expect(publicKeyPem(key)).toBe(await readFile(path.join(FIXTURES, 'cosign-v2-ed25519.pub'), 'utf8'));
  });

  it('refuses the cosign 2 key with a wrong password (BAD_PASSPHRASE)', async () => {
    const pem = await readFile(path.join(FIXTURES, 'cosign-v2-ed25519.key'), 'utf8');
    await expect(decryptCosignKey(pem, 'nope', 'k')).rejects.toSatisfy((e) => isSignetError(e, 'BAD_PASSPHRASE'));
  });

  it('generates ECDSA P-256 keys in the sigstore PEM (N=32768, the parameters every securesystemslib reads)', async () => {
    const { privatePem, publicPem } = await generateCosignKeyPair('pw');
    const [block] = decodePemBlocks(privatePem);
    expect(block?.type).toBe(SIGSTORE_PRIVATE_KEY_PEM);
    const doc = JSON.parse(block!.bytes.toString('utf8')) as Record<string, Record<string, unknown>>;
    expect(Object.keys(doc)).toEqual(['kdf', 'cipher', 'ciphertext']);
    expect(doc['kdf']).toMatchObject({ name: 'scrypt', params: { N: 32768, r: 8, p: 1 } });
    expect(doc['cipher']?.['name']).toBe('nacl/secretbox');
    expect(Buffer.from(String(doc['kdf']?.['salt']), 'base64')).toHaveLength(32);
    expect(Buffer.from(String(doc['cipher']?.['nonce']), 'base64')).toHaveLength(24);
    const key = await decryptCosignKey(privatePem, 'pw', 'k');
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(publicKeyPem(key)).toBe(publicPem);
    expect(loadCosignPublicKey(publicPem, 'k.pub').asymmetricKeyType).toBe('ec');
  });

  it('refuses unexpected scrypt parameters before deriving anything (a crafted N cannot exhaust memory)', async () => {
    const { privatePem } = await generateCosignKeyPair('');
    const [block] = decodePemBlocks(privatePem);
    const doc = JSON.parse(block!.bytes.toString('utf8')) as { kdf: { params: { N: number } } };
    doc.kdf.params.N = 2 ** 30;
    const tampered = encodePem({
      type: SIGSTORE_PRIVATE_KEY_PEM,
      headers: {},
      bytes: Buffer.from(JSON.stringify(doc)),
    });
    await expect(decryptCosignKey(tampered, '', 'k')).rejects.toSatisfy((e) => isSignetError(e, 'KEY_FILE'));
  });

  it('an empty password is a password (cosign allows it)', async () => {
    const der = createPublicKey((await generateCosignKeyPair('')).publicPem);
    expect(der.asymmetricKeyType).toBe('ec');
    const { privateKey } = await import('node:crypto').then((c) =>
      c.generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    );
    const pem = await encryptCosignKey(privateKey.export({ type: 'pkcs8', format: 'der' }), '');
    expect((await decryptCosignKey(pem, '', 'k')).asymmetricKeyType).toBe('ec');
    await expect(decryptCosignKey(pem, 'x', 'k')).rejects.toSatisfy((e) => isSignetError(e, 'BAD_PASSPHRASE'));
  });
});

describe('payloads and signature manifests', () => {
  it('verifies the genuine cosign v3 artifact and rebuilds its signature manifest byte for byte', async () => {
    const fx = await cosignFixture();
    const pub = loadCosignPublicKey(fx.pub, 'cosign.pub');
    expect(verifyPayloadSignature(pub, fx.payload, fx.signature)).toBe(true);
    const layer = { ...newSignatureLayer(fx.payload, fx.signature) };
    const v = judgeLayer(layer, pub, fx.subject, 'localhost:15381/tobby/fixture');
    expect(v.ok).toBe(true);
    expect(signatureManifestBytes([layer]).manifest.equals(fx.manifest)).toBe(true);
    expect(signatureManifestBytes([layer]).config.equals(fx.config)).toBe(true);
    // matchRepository: the same signature under another repository, or for another digest, is refused
    expect(judgeLayer(layer, pub, fx.subject, '127.0.0.1:5000/tobby/fixture')).toMatchObject({
      ok: false,
      reason: 'other-repository',
    });
    expect(judgeLayer(layer, pub, `sha256:${'0'.repeat(64)}`, 'localhost:15381/tobby/fixture')).toMatchObject({
      ok: false,
      reason: 'other-digest',
    });
  });

  it('writes payloads containers/image parses strictly; a changed byte breaks the signature', async () => {
    const { privatePem, publicPem } = await generateCosignKeyPair('pw');
    const key = await decryptCosignKey(privatePem, 'pw', 'k');
    const digest = `sha256:${'ab'.repeat(32)}`;
    const payload = buildPayload('registry.example.com/team/app', digest, { creator: 'signet bridge', timestamp: 1 });
    expect(parsePayload(payload)).toEqual({
      dockerReference: 'registry.example.com/team/app',
      manifestDigest: digest,
      optional: { creator: 'signet bridge', timestamp: 1 },
    });
    const sig = signPayload(key, payload);
    const pub = loadCosignPublicKey(publicPem, 'k.pub');
    expect(verifyPayloadSignature(pub, payload, sig)).toBe(true);
    const changed = Buffer.from(payload);
    changed.writeUInt8(changed.readUInt8(changed.length - 2) ^ 1, changed.length - 2);
    expect(verifyPayloadSignature(pub, changed, sig)).toBe(false);
    expect(() =>
      parsePayload(Buffer.from('{"critical":{"identity":{},"image":{},"type":"x"},"optional":null,"extra":1}')),
    ).toThrow();
  });

  it('names signature tags as cosign does', () => {
    const d = `sha256:${'0f'.repeat(32)}`;
    expect(signatureTag(d)).toBe(`sha256-${'0f'.repeat(32)}.sig`);
    expect(digestOfSignatureTag(signatureTag(d))).toBe(d);
    expect(digestOfSignatureTag('sha256-abc.sig')).toBeUndefined();
    expect(digestOfSignatureTag('v1')).toBeUndefined();
  });
});
