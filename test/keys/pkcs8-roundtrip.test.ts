/** Encrypted PKCS#8 keys: round trips and other formats, and openssl reading what we write. */
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeKeyPem,
  decodePemBlocks,
  describePbes2,
  encodeKeyPem,
  generatePrivateKey,
  publicKeyPem,
  toNotaryPkcs8,
} from '../../src/keys/index.js';
import { asn1 } from '../../src/keys/asn1.js';

const { PrivateKeyInfo } = asn1();
import { expectCode, signVerifies } from './pkcs8-helpers.js';

describe('round trips and other formats', () => {
  it('every key type round-trips through encrypted and unencrypted PEM', async () => {
    for (const t of ['ecdsa', 'ed25519'] as const) {
      const k = generatePrivateKey(t);
      for (const pass of ['', 'a passphrase']) {
        const d = decodeKeyPem(encodeKeyPem(k, { role: 'alice' }, pass), pass || undefined);
        expect(d.key.keytype).toBe(t);
        expect(d.key.publicKey).toEqual(k.publicKey);
        expect(d.meta).toEqual({ role: 'alice' });
        expect(await signVerifies(d.key)).toBe(true);
      }
    }
  });

  it('property: any passphrase round-trips; any other passphrase fails', () => {
    const k = generatePrivateKey();
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }),
        fc.string({ minLength: 1, maxLength: 10 }),
        (pass, other) => {
          const pem = encodeKeyPem(k, { role: 'root' }, pass);
          expect(decodeKeyPem(pem, pass).key.publicKey.id).toBe(k.publicKey.id);
          if (other !== pass) expectCode(() => decodeKeyPem(pem, other), 'BAD_PASSPHRASE');
        },
      ),
      { numRuns: 40 },
    );
  });

  it('standard PKCS#8 from node (hmacWithSHA256 PRF) and RFC 8410 Ed25519 are readable', () => {
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const enc = ec.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString();
    const info = describePbes2(decodePemBlocks(enc)[0]?.bytes as Buffer);
    expect(info?.prf).toBe('sha256');
    expect(decodeKeyPem(enc, 'pw').key.keytype).toBe('ecdsa');
    expectCode(() => decodeKeyPem(enc, 'nope'), 'BAD_PASSPHRASE');
    const ed = crypto.generateKeyPairSync('ed25519').privateKey;
    expect(decodeKeyPem(ed.export({ format: 'pem', type: 'pkcs8' }).toString(), undefined).key.keytype).toBe('ed25519');
    const ed3 = ed.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-128-cbc', passphrase: 'pw' }).toString();
    expect(decodeKeyPem(ed3, 'pw').key.keytype).toBe('ed25519');
  });

  it('RFC 1423 legacy encrypted EC PRIVATE KEY (openssl ec -aes256)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'signet-legacy-'));
    const plain = path.join(dir, 'k.pem');
    const ko = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    writeFileSync(plain, ko.export({ format: 'pem', type: 'sec1' }));
    const out = execFileSync('openssl', ['ec', '-in', plain, '-aes256', '-passout', 'pass:legacy-pw'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString();
    expect(out).toContain('Proc-Type: 4,ENCRYPTED');
    expect(out).toContain('DEK-Info: AES-256-CBC,');
    const d = decodeKeyPem(out, 'legacy-pw');
    expect(d.encrypted).toBe(true);
    expect(d.key.publicKey.public).toBe(
      crypto.createPublicKey(ko).export({ format: 'der', type: 'spki' }).toString('base64'),
    );
    expectCode(() => decodeKeyPem(out, 'wrong'), 'BAD_PASSPHRASE');
  });

  it('RFC 1423 legacy with 3DES and AES-128 (openssl rsa/ec -des3/-aes128)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'signet-legacy2-'));
    const plain = path.join(dir, 'k.pem');
    const ko = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    writeFileSync(plain, ko.export({ format: 'pem', type: 'sec1' }));
    for (const alg of ['-des3', '-aes128']) {
      const out = execFileSync('openssl', ['ec', '-in', plain, alg, '-passout', 'pass:pw3'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      }).toString();
      expect(decodeKeyPem(out, 'pw3').key.publicKey.public).toBe(
        crypto.createPublicKey(ko).export({ format: 'der', type: 'spki' }).toString('base64'),
      );
    }
  });

  it('RFC 1423 with an unsupported cipher → KEY_FILE', () => {
    const pem =
      '-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: BF-CBC,0011223344556677\n\nAAAAAAAAAAA=\n-----END EC PRIVATE KEY-----\n';
    expectCode(() => decodeKeyPem(pem, 'x'), 'KEY_FILE');
  });

  it('legacy ED25519 PRIVATE KEY (96 raw bytes) and EC PARAMETERS before the key', () => {
    const k = generatePrivateKey('ed25519');
    const inner = AsnConvert.parse(toNotaryPkcs8(k), PrivateKeyInfo);
    const raw = Buffer.from(inner.privateKey.buffer).toString('base64');
    const pem = `-----BEGIN ED25519 PRIVATE KEY-----\nrole: root\n\n${raw.match(/.{1,64}/g)?.join('\n')}\n-----END ED25519 PRIVATE KEY-----\n`;
    const d = decodeKeyPem(pem, undefined);
    expect(d.key.publicKey.id).toBe(k.publicKey.id);
    expect(d.meta.role).toBe('root');

    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const withParams =
      '-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n' +
      ec.export({ format: 'pem', type: 'sec1' }).toString();
    expect(decodeKeyPem(withParams, undefined).key.keytype).toBe('ecdsa');
  });

  it('ed25519 file whose halves disagree → INVALID_KEY', () => {
    const k = generatePrivateKey('ed25519');
    const raw = Buffer.from(AsnConvert.parse(toNotaryPkcs8(k), PrivateKeyInfo).privateKey.buffer);
    raw[0] = (raw[0] ?? 0) ^ 1;
    const pem = `-----BEGIN ED25519 PRIVATE KEY-----\n${raw.toString('base64')}\n-----END ED25519 PRIVATE KEY-----\n`;
    expectCode(() => decodeKeyPem(pem, undefined), 'INVALID_KEY');
  });

  it('publicKeyPem for ed25519 is SPKI that node reads back to the same raw key', () => {
    const k = generatePrivateKey('ed25519');
    const pem = publicKeyPem(k.publicKey, 'bob');
    expect(pem.startsWith('-----BEGIN PUBLIC KEY-----\nrole: bob\n\n')).toBe(true);
    const der = decodePemBlocks(pem)[0]?.bytes as Buffer;
    const jwk = crypto.createPublicKey({ key: der, format: 'der', type: 'spki' }).export({ format: 'jwk' });
    expect(Buffer.from(String(jwk.x), 'base64url').toString('base64')).toBe(k.publicKey.public);
  });
});

describe('(b) openssl reads what we write', () => {
  it('openssl pkcs8 -passin decrypts our ECDSA key file (headers stripped)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'signet-openssl-'));
    const k = generatePrivateKey();
    const pem = encodeKeyPem(k, { role: 'targets', gun: 'example.com/app' }, 'open sesame');
    const stripped =
      pem
        .split('\n')
        .filter((l) => !/^[a-z]+: /.test(l) && l !== '')
        .join('\n') + '\n';
    const file = path.join(dir, 'k.pem');
    writeFileSync(file, stripped, { mode: 0o600 });
    const out = execFileSync('openssl', ['pkcs8', '-in', file, '-passin', 'pass:open sesame'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }).toString();
    expect(out).toContain('-----BEGIN PRIVATE KEY-----');
    const back = crypto.createPrivateKey(out);
    expect(crypto.createPublicKey(back).export({ format: 'der', type: 'spki' }).toString('base64')).toBe(
      k.publicKey.public,
    );
    // and the public key id via openssl's SPKI
    const spki = execFileSync('openssl', [
      'pkey',
      '-in',
      file,
      '-passin',
      'pass:open sesame',
      '-pubout',
      '-outform',
      'DER',
    ]);
    expect(spki.toString('base64')).toBe(k.publicKey.public);
    expect(() =>
      execFileSync('openssl', ['pkcs8', '-in', file, '-passin', 'pass:wrong'], { stdio: ['ignore', 'pipe', 'pipe'] }),
    ).toThrow();
    // our reader agrees
    expect(decodeKeyPem(pem, 'open sesame').key.publicKey.id).toBe(k.publicKey.id);
  });
});
