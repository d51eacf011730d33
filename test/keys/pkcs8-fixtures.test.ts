/** Encrypted PKCS#8 keys: the real notary/docker key files, and a wrong passphrase. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeKeyPem, decodePemBlocks, encodeKeyPem, generatePrivateKey, publicKeyPem } from '../../src/keys/index.js';
import { publicKeyFromSpki } from '../../src/tuf/index.js';
import { VEC, expectCode, fixtureKeys, signVerifies } from './pkcs8-helpers.js';

describe('(a) real notary/docker key files', () => {
  const keys = fixtureKeys();
  it('finds all fixtures', () => {
    expect(keys.length).toBe(7);
  });
  for (const k of keys) {
    it(`${k.dir}/${k.name} decrypts and its canonical ID is the file name`, async () => {
      const { key, meta, encrypted } = decodeKeyPem(k.pem, k.pass);
      expect(encrypted).toBe(true);
      expect(key.keytype).toBe('ecdsa');
      expect(key.publicKey.canonicalId).toBe(k.id);
      expect(key.publicKey.id).toBe(k.id);
      expect(meta.role).toBe(k.name.slice(0, k.name.lastIndexOf('-')).replace('_', '/'));
      if (meta.role === 'targets') expect(meta.gun).toMatch(/^127\.0\.0\.1:5000\/library\//);
      else expect(meta.gun).toBeUndefined();
      // matches the tuf layer's view of the same SPKI
      expect(publicKeyFromSpki(Buffer.from(key.publicKey.public, 'base64'), 'ecdsa').id).toBe(k.id);
      expect(await signVerifies(key)).toBe(true);
    });
  }

  it('docker alice.pub is the public half of alice.key and publicKeyPem reproduces it byte for byte', () => {
    const k = keys.find((x) => x.name.startsWith('alice-'));
    if (!k) throw new Error('alice fixture missing');
    const { key } = decodeKeyPem(k.pem, k.pass);
    expect(publicKeyPem(key, 'alice')).toBe(readFileSync(path.join(VEC, 'docker/keys/alice.pub'), 'utf8'));
  });

  it('openssl EC PRIVATE KEY (bob.key) reads unencrypted and matches bob.pub and the bob-<id> key', () => {
    const { key, encrypted, meta } = decodeKeyPem(
      readFileSync(path.join(VEC, 'docker/keys/bob.key'), 'utf8'),
      undefined,
    );
    expect(encrypted).toBe(false);
    expect(meta.role).toBe('');
    expect(key.publicKey.id).toBe('9ffc71f6ed107c854d51bf2f4d90e10c47aecb3647acfc691d53f629fc3d8aa1');
    const pub = decodePemBlocks(readFileSync(path.join(VEC, 'docker/keys/bob.pub'), 'utf8'))[0];
    expect(pub?.bytes.toString('base64')).toBe(key.publicKey.public);
  });

  it('notary releases.key (openssl EC key) is the targets/releases key', () => {
    const { key } = decodeKeyPem(readFileSync(path.join(VEC, 'notary/keys/releases.key'), 'utf8'), undefined);
    expect(key.publicKey.id).toBe('d46f583b1d6f067df2c62076b9a54b5b1ee439b3c9838e2b55ddf00d6ccdc880');
  });
});

describe('(c) wrong passphrase', () => {
  const k = fixtureKeys()[0];
  it('real fixture + wrong passphrase → BAD_PASSPHRASE', () => {
    if (!k) throw new Error('no fixture');
    expectCode(() => decodeKeyPem(k.pem, 'not-the-passphrase'), 'BAD_PASSPHRASE');
  });
  it('missing passphrase for an encrypted key → PASSPHRASE_REQUIRED', () => {
    if (!k) throw new Error('no fixture');
    expectCode(() => decodeKeyPem(k.pem, undefined), 'PASSPHRASE_REQUIRED');
    expectCode(() => decodeKeyPem(k.pem, ''), 'PASSPHRASE_REQUIRED');
  });
  it('own key + wrong passphrase → BAD_PASSPHRASE, for every key type', () => {
    for (const t of ['ecdsa', 'ed25519'] as const) {
      const pem = encodeKeyPem(generatePrivateKey(t), { role: 'root' }, 'right passphrase');
      expectCode(() => decodeKeyPem(pem, 'wrong passphrase'), 'BAD_PASSPHRASE');
    }
  });
  it('garbage → KEY_FILE', () => {
    expectCode(() => decodeKeyPem('hello', 'x'), 'KEY_FILE');
    expectCode(
      () => decodeKeyPem('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', undefined),
      'KEY_FILE',
    );
    expectCode(
      () => decodeKeyPem('-----BEGIN PRIVATE KEY-----\nAA!A\n-----END PRIVATE KEY-----\n', undefined),
      'KEY_FILE',
    );
    expectCode(
      () => decodeKeyPem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', undefined),
      'KEY_FILE',
    );
  });
});
