import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSignetError } from '../../src/errors.js';
import {
  decodeKeyPem,
  decodePemBlocks,
  describePbes2,
  encodeKeyPem,
  generatePrivateKey,
  inspectKeyPem,
  publicKeyPem,
  toNotaryPkcs8,
  type PrivateKey,
} from '../../src/keys/index.js';
import { encodeKeyPemWithParams } from '../../src/keys/key-pem.js';
import { encryptPkcs8 } from '../../src/keys/pkcs8.js';
import {
  EncryptedPrivateKeyInfo,
  Pbes2Params,
  Pbkdf2Params,
  PrivateKeyInfo,
  parseOctetStringDer,
  parseOidDer,
} from '../../src/keys/asn1.js';
import { localSigner, publicKeyFromSpki, verifySignature } from '../../src/tuf/index.js';

const VEC = path.resolve(import.meta.dirname, '../fixtures/vectors');
const NOTARY_PASS: Record<string, string> = {
  root: 'root-pass-123',
  targets: 'targets-pass-123',
  snapshot: 'snapshot-pass-123',
  'targets/releases': 'delegation-pass-123',
};
const DOCKER_PASS = (role: string): string => (role === 'root' ? 'docker-root-pass' : 'docker-repo-pass');

function fixtureKeys(): Array<{ dir: string; name: string; id: string; pem: string; pass: string }> {
  const out = [];
  for (const dir of ['notary', 'docker']) {
    for (const name of readdirSync(path.join(VEC, dir, 'keys'))) {
      const m = /^(.+)-([0-9a-f]{64})\.key$/.exec(name);
      if (!m) continue;
      const pem = readFileSync(path.join(VEC, dir, 'keys', name), 'utf8');
      const role = inspectKeyPem(pem).meta.role;
      const pass = dir === 'notary' ? (NOTARY_PASS[role] ?? 'x') : DOCKER_PASS(role);
      out.push({ dir, name, id: m[2] as string, pem, pass });
    }
  }
  return out;
}

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(isSignetError(err) ? err.code : err).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

async function signVerifies(key: PrivateKey): Promise<boolean> {
  const signer = localSigner(key.keyObject, key.publicKey);
  const data = Buffer.from('signet test message');
  const { method, sig } = await signer.sign(data);
  return verifySignature(key.publicKey, method, data, sig);
}

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
