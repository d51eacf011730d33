/** Encrypted PKCS#8 keys: the ASN.1 structure matches notary's, and the PEM layout matches Go's pem.Encode. */
import * as crypto from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { describe, expect, it } from 'vitest';
import {
  decodeKeyPem,
  decodePemBlocks,
  describePbes2,
  encodeKeyPem,
  generatePrivateKey,
  toNotaryPkcs8,
} from '../../src/keys/index.js';
import { encodeKeyPemWithParams } from '../../src/keys/key-pem.js';
import { encryptPkcs8 } from '../../src/keys/pkcs8.js';
import { asn1, parseOctetStringDer, parseOidDer } from '../../src/keys/asn1.js';

const { EncryptedPrivateKeyInfo, Pbes2Params, Pbkdf2Params, PrivateKeyInfo } = asn1();
import { expectCode, fixtureKeys } from './pkcs8-helpers.js';

describe('(d) structure matches notary', () => {
  function structure(pem: string): Record<string, unknown> {
    const block = decodePemBlocks(pem)[0];
    if (!block) throw new Error('no block');
    const epki = AsnConvert.parse(block.bytes, EncryptedPrivateKeyInfo);
    const p = AsnConvert.parse(epki.encryptionAlgorithm.parameters as ArrayBuffer, Pbes2Params);
    const kdf = AsnConvert.parse(p.keyDerivationFunc.parameters as ArrayBuffer, Pbkdf2Params);
    return {
      type: block.type,
      headerKeys: Object.keys(block.headers),
      outer: epki.encryptionAlgorithm.algorithm,
      kdf: p.keyDerivationFunc.algorithm,
      saltLen: kdf.salt.byteLength,
      iterations: kdf.iterationCount,
      keyLength: kdf.keyLength,
      prf: kdf.prf,
      enc: p.encryptionScheme.algorithm,
      ivLen: parseOctetStringDer(p.encryptionScheme.parameters as ArrayBuffer).length,
      ctLen: epki.encryptedData.byteLength,
    };
  }

  it('same OIDs, 2048 iterations, 8-byte salt, 16-byte IV, no PRF, no keyLength', () => {
    const fixture = fixtureKeys().find((k) => k.name.startsWith('targets-3b6'));
    if (!fixture) throw new Error('no fixture');
    const theirs = structure(fixture.pem);
    const ours = structure(encodeKeyPem(generatePrivateKey(), { role: 'targets', gun: 'example.com/x' }, 'pw'));
    expect(theirs).toMatchObject({
      type: 'ENCRYPTED PRIVATE KEY',
      outer: '1.2.840.113549.1.5.13',
      kdf: '1.2.840.113549.1.5.12',
      saltLen: 8,
      iterations: 2048,
      keyLength: undefined,
      prf: undefined,
      enc: '2.16.840.1.101.3.4.1.42',
      ivLen: 16,
    });
    expect(ours).toEqual({ ...theirs });
    const info = describePbes2(decodePemBlocks(fixture.pem)[0]?.bytes as Buffer);
    expect(info).toMatchObject({ prf: 'sha1', prfPresent: false, iterations: 2048, cipher: 'aes-256-cbc' });
  });

  it('re-encoding a notary key with its own salt and IV gives the identical file', () => {
    for (const k of fixtureKeys()) {
      const { key, meta } = decodeKeyPem(k.pem, k.pass);
      const info = describePbes2(decodePemBlocks(k.pem)[0]?.bytes as Buffer);
      if (!info) throw new Error('not pbes2');
      expect(encodeKeyPemWithParams(key, meta, k.pass, { salt: info.salt, iv: info.iv })).toBe(k.pem);
    }
  });

  it('inner PrivateKeyInfo quirks: EC version 1 + curve OID, RSA no NULL, Ed25519 96 bytes', () => {
    const ec = AsnConvert.parse(toNotaryPkcs8(generatePrivateKey('ecdsa')), PrivateKeyInfo);
    expect(ec.version).toBe(1);
    expect(ec.privateKeyAlgorithm.algorithm).toBe('1.2.840.10045.2.1');
    expect(parseOidDer(ec.privateKeyAlgorithm.parameters as ArrayBuffer)).toBe('1.2.840.10045.3.1.7');

    const edKey = generatePrivateKey('ed25519');
    const ed = AsnConvert.parse(toNotaryPkcs8(edKey), PrivateKeyInfo);
    expect(ed.version).toBe(0);
    expect(ed.privateKeyAlgorithm.algorithm).toBe('1.3.6.1.4.1.11591.15.1');
    expect(ed.privateKeyAlgorithm.parameters).toBeUndefined();
    const raw = Buffer.from(ed.privateKey.buffer);
    expect(raw.length).toBe(96);
    const pub = Buffer.from(edKey.publicKey.public, 'base64');
    expect(raw.subarray(0, 32)).toEqual(pub);
    expect(raw.subarray(64, 96)).toEqual(pub);
    const seed = Buffer.from(String(edKey.keyObject.export({ format: 'jwk' }).d), 'base64url');
    expect(raw.subarray(32, 64)).toEqual(seed);
  });

  it('RSA: version 0, rsaEncryption without NULL parameter, PKCS#1 inside', () => {
    const ko = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const pem = ko.export({ format: 'pem', type: 'pkcs1' }).toString();
    const key = decodeKeyPem(pem, undefined).key;
    expect(key.keytype).toBe('rsa');
    const der = toNotaryPkcs8(key);
    const info = AsnConvert.parse(der, PrivateKeyInfo);
    expect(info.version).toBe(0);
    expect(info.privateKeyAlgorithm.algorithm).toBe('1.2.840.113549.1.1.1');
    expect(info.privateKeyAlgorithm.parameters).toBeUndefined();
    expect(Buffer.from(info.privateKey.buffer)).toEqual(ko.export({ format: 'der', type: 'pkcs1' }));
    // AlgorithmIdentifier is exactly SEQUENCE { OID } (no 05 00)
    expect(der.includes(Buffer.from('300b06092a864886f70d010101', 'hex'))).toBe(true);
    const round = decodeKeyPem(encodeKeyPem(key, { role: 'alice' }, 'pw'), 'pw').key;
    expect(round.publicKey.id).toBe(key.publicKey.id);
  });

  it('PKCS#7 padding is always added (16 bytes when the plaintext is block aligned)', () => {
    const aligned = Buffer.alloc(32, 7);
    const der = encryptPkcs8(aligned, 'pw', { salt: Buffer.alloc(8, 1), iv: Buffer.alloc(16, 2) });
    const epki = AsnConvert.parse(der, EncryptedPrivateKeyInfo);
    expect(epki.encryptedData.byteLength).toBe(48);
  });
});

describe('PEM layout (Go pem.Encode)', () => {
  it('sorted headers, blank line, 64 columns, LF, trailing newline', () => {
    const pem = encodeKeyPem(
      generatePrivateKey(),
      { role: 'targets', gun: 'docker.io/library/foo', path: 'abc' },
      'pw',
    );
    const lines = pem.split('\n');
    expect(lines[0]).toBe('-----BEGIN ENCRYPTED PRIVATE KEY-----');
    expect(lines.slice(1, 5)).toEqual(['gun: docker.io/library/foo', 'path: abc', 'role: targets', '']);
    expect(pem.endsWith('-----END ENCRYPTED PRIVATE KEY-----\n')).toBe(true);
    const body = lines.slice(5, lines.length - 2);
    for (const l of body.slice(0, -1)) expect(l.length).toBe(64);
    expect(pem.includes('\r')).toBe(false);
  });
  it('empty passphrase → PRIVATE KEY, readable without passphrase', () => {
    const k = generatePrivateKey();
    const pem = encodeKeyPem(k, { role: 'root' }, '');
    expect(pem.startsWith('-----BEGIN PRIVATE KEY-----\nrole: root\n\n')).toBe(true);
    const d = decodeKeyPem(pem, undefined);
    expect(d.encrypted).toBe(false);
    expect(d.key.publicKey.id).toBe(k.publicKey.id);
  });
  it('refuses header values with line breaks', () => {
    expectCode(() => encodeKeyPem(generatePrivateKey(), { role: 'x\ny' }, 'pw'), 'KEY_FILE');
  });
  it('no key material in JSON or inspect output', () => {
    const k = generatePrivateKey();
    const json = JSON.stringify(k);
    expect(JSON.parse(json)).toEqual({ keytype: 'ecdsa', id: k.publicKey.id });
    const jwkD = String(k.keyObject.export({ format: 'jwk' }).d);
    expect(json.includes(jwkD)).toBe(false);
  });
});
