/**
 * notary's private key files (N:tuf/utils/x509.go): PKCS#8 with notary's quirks, encrypted with
 * PBES2 / PBKDF2-HMAC-SHA1 (2048 iterations, 8-byte salt, no PRF element) / AES-256-CBC.
 *
 * Reading is lenient: notary's layout, standard PKCS#8 (encrypted with any PBES2 PRF and AES-CBC
 * we know, else whatever node:crypto can open), SEC1 `EC PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY`,
 * notary's legacy `ED25519 PRIVATE KEY`, and RFC 1423 (`Proc-Type: 4,ENCRYPTED`) legacy PEMs.
 */
import * as crypto from 'node:crypto';
import { OctetString } from '@peculiar/asn1-schema';
import { SignetError, isSignetError } from '../errors.js';
import type { PublicKey } from '../tuf/index.js';
import {
  AlgorithmIdentifier,
  EncryptedPrivateKeyInfo,
  OID,
  Pbes2Params,
  Pbkdf2Params,
  PrivateKeyInfo,
  buf,
  derOf,
  octetStringDer,
  oidDer,
  parseDer,
  parseOctetStringDer,
} from './asn1.js';
import { decodePemBlocks, encodePem, type PemBlock } from './pem.js';
import { privateKeyFromKeyObject, type PrivateKey } from './private-key.js';

export interface KeyFileMeta {
  role: string;
  gun?: string;
  path?: string;
}

export const NOTARY_PBKDF2_ITERATIONS = 2048;
const NOTARY_SALT_LEN = 8;
const AES_IV_LEN = 16;

const CURVE_OIDS: Record<string, string> = {
  prime256v1: OID.p256,
  secp384r1: OID.p384,
  secp521r1: OID.p521,
};

const PRF_DIGESTS: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};

const PBES2_CIPHERS: Record<string, { name: string; keyLen: number }> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLen: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLen: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyLen: 32 },
};

/** RFC 1423 DEK-Info ciphers that Go's x509.DecryptPEMBlock accepts. */
const LEGACY_CIPHERS: Record<string, { name: string; keyLen: number; ivLen: number }> = {
  'DES-CBC': { name: 'des-cbc', keyLen: 8, ivLen: 8 },
  'DES-EDE3-CBC': { name: 'des-ede3-cbc', keyLen: 24, ivLen: 8 },
  'AES-128-CBC': { name: 'aes-128-cbc', keyLen: 16, ivLen: 16 },
  'AES-192-CBC': { name: 'aes-192-cbc', keyLen: 24, ivLen: 16 },
  'AES-256-CBC': { name: 'aes-256-cbc', keyLen: 32, ivLen: 16 },
};

export const PKCS8_TYPES = ['ENCRYPTED PRIVATE KEY', 'PRIVATE KEY'] as const;
export const LEGACY_TYPES = ['EC PRIVATE KEY', 'RSA PRIVATE KEY', 'ED25519 PRIVATE KEY'] as const;
const KEY_TYPES = new Set<string>([...PKCS8_TYPES, ...LEGACY_TYPES]);

// ---------------------------------------------------------------------------------------------
// inner PrivateKeyInfo

/** notary's PrivateKeyInfo DER for `key` (EC version 1, RSA without NULL, Ed25519 96 bytes). */
export function toNotaryPkcs8(key: PrivateKey): Buffer {
  const info = new PrivateKeyInfo();
  const ko = key.keyObject;
  switch (key.keytype) {
    case 'ecdsa': {
      const curve = CURVE_OIDS[ko.asymmetricKeyDetails?.namedCurve ?? ''];
      if (curve === undefined) throw new SignetError('INVALID_KEY', 'unsupported elliptic curve');
      info.version = 1;
      info.privateKeyAlgorithm = new AlgorithmIdentifier(OID.ecPublicKey, oidDer(curve));
      info.privateKey = new OctetString(ko.export({ format: 'der', type: 'sec1' }));
      break;
    }
    case 'rsa':
      info.version = 0;
      info.privateKeyAlgorithm = new AlgorithmIdentifier(OID.rsaEncryption);
      info.privateKey = new OctetString(ko.export({ format: 'der', type: 'pkcs1' }));
      break;
    case 'ed25519': {
      info.version = 0;
      info.privateKeyAlgorithm = new AlgorithmIdentifier(OID.ed25519Notary);
      info.privateKey = new OctetString(ed25519NotaryBytes(ko));
      break;
    }
    default:
      throw new SignetError('INVALID_KEY', `unsupported key type ${String(key.keytype)}`);
  }
  const der = derOf(info);
  buf(info.privateKey.buffer).fill(0);
  return der;
}

/** notary/Go layout: public(32) ‖ Go private key (seed(32) ‖ public(32)). */
function ed25519NotaryBytes(ko: crypto.KeyObject): Buffer {
  const jwk = ko.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string' || typeof jwk.x !== 'string') throw new SignetError('INVALID_KEY', 'bad ed25519 key');
  const pub = Buffer.from(jwk.x, 'base64url');
  const seed = Buffer.from(jwk.d, 'base64url');
  const out = Buffer.concat([pub, seed, pub]);
  seed.fill(0);
  return out;
}

/** PKCS#8 PrivateKeyInfo for Ed25519 up to the 32-byte seed (RFC 8410 §7). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function ed25519FromNotaryBytes(raw: Buffer): crypto.KeyObject {
  if (raw.length !== 96)
    throw new SignetError('INVALID_KEY', `malformed ed25519 private key (${raw.length} bytes, want 96)`);
  const pub = raw.subarray(0, 32);
  const seed = raw.subarray(32, 64);
  // from the seed alone (RFC 8410 PKCS#8): a JWK would carry x too, and newer Node versions refuse a
  // mismatched x themselves, which would hide the INVALID_KEY below behind a parse error
  const ko = crypto.createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  // the seed determines the public key; refuse files whose stored public halves disagree with it
  const derived = Buffer.from(String(crypto.createPublicKey(ko).export({ format: 'jwk' }).x), 'base64url');
  if (!derived.equals(pub) || !derived.equals(raw.subarray(64, 96))) {
    throw new SignetError('INVALID_KEY', 'ed25519 private key does not match its public key');
  }
  return ko;
}

/** Parses a (notary or standard) PrivateKeyInfo. */
export function fromPkcs8(der: Buffer): PrivateKey {
  let info: PrivateKeyInfo;
  try {
    info = parseDer(der, PrivateKeyInfo);
  } catch (err) {
    throw new SignetError('KEY_FILE', 'private key is not valid PKCS#8', { cause: err });
  }
  const alg = info.privateKeyAlgorithm.algorithm;
  const inner = buf(info.privateKey.buffer);
  try {
    switch (alg) {
      case OID.ed25519Notary:
        return privateKeyFromKeyObject(ed25519FromNotaryBytes(inner));
      case OID.ed25519:
        return privateKeyFromKeyObject(crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
      case OID.ecPublicKey:
      case OID.rsaEncryption: {
        // hand node a standard v1 PrivateKeyInfo (RSA with NULL parameters)
        const std = new PrivateKeyInfo();
        std.version = 0;
        std.privateKeyAlgorithm =
          alg === OID.rsaEncryption
            ? new AlgorithmIdentifier(alg, new Uint8Array([5, 0]).buffer)
            : info.privateKeyAlgorithm;
        std.privateKey = info.privateKey;
        const stdDer = derOf(std);
        try {
          return privateKeyFromKeyObject(crypto.createPrivateKey({ key: stdDer, format: 'der', type: 'pkcs8' }));
        } finally {
          stdDer.fill(0);
        }
      }
      default:
        throw new SignetError('INVALID_KEY', `unsupported private key algorithm ${alg}`);
    }
  } catch (err) {
    if (isSignetError(err)) throw err;
    throw new SignetError('KEY_FILE', 'private key data is malformed', { cause: err });
  }
}

// ---------------------------------------------------------------------------------------------
// encryption (PBES2)

/** EncryptedPrivateKeyInfo exactly as notary writes it. `salt`/`iv` are for tests only. */
export function encryptPkcs8(inner: Buffer, passphrase: string, fixed?: { salt?: Buffer; iv?: Buffer }): Buffer {
  const salt = fixed?.salt ?? crypto.randomBytes(NOTARY_SALT_LEN);
  const iv = fixed?.iv ?? crypto.randomBytes(AES_IV_LEN);
  const key = crypto.pbkdf2Sync(Buffer.from(passphrase, 'utf8'), salt, NOTARY_PBKDF2_ITERATIONS, 32, 'sha1');
  const cipher = crypto.createCipheriv('aes-256-cbc', key, iv); // PKCS#7 padding, always added
  const ct = Buffer.concat([cipher.update(inner), cipher.final()]);
  key.fill(0);

  const kdf = new Pbkdf2Params();
  kdf.salt = new OctetString(salt);
  kdf.iterationCount = NOTARY_PBKDF2_ITERATIONS;
  const params = new Pbes2Params();
  params.keyDerivationFunc = new AlgorithmIdentifier(OID.pbkdf2, toArrayBuffer(derOf(kdf)));
  params.encryptionScheme = new AlgorithmIdentifier(OID.aes256cbc, octetStringDer(iv));
  const epki = new EncryptedPrivateKeyInfo();
  epki.encryptionAlgorithm = new AlgorithmIdentifier(OID.pbes2, toArrayBuffer(derOf(params)));
  epki.encryptedData = new OctetString(ct);
  return derOf(epki);
}

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

export interface Pbes2Info {
  prf: string; // digest name, 'sha1' when absent
  prfPresent: boolean;
  iterations: number;
  salt: Buffer;
  keyLength: number | undefined;
  cipher: string;
  iv: Buffer;
}

/** Describes the PBES2 parameters of an EncryptedPrivateKeyInfo (undefined if not PBES2/PBKDF2). */
export function describePbes2(der: Buffer): Pbes2Info | undefined {
  let epki: EncryptedPrivateKeyInfo;
  try {
    epki = parseDer(der, EncryptedPrivateKeyInfo);
  } catch (err) {
    throw new SignetError('KEY_FILE', 'encrypted private key is not valid PKCS#8', { cause: err });
  }
  const alg = epki.encryptionAlgorithm;
  if (alg.algorithm !== OID.pbes2 || alg.parameters === undefined) return undefined;
  try {
    const params = parseDer(alg.parameters, Pbes2Params);
    if (params.keyDerivationFunc.algorithm !== OID.pbkdf2 || params.keyDerivationFunc.parameters === undefined) {
      return undefined;
    }
    const kdf = parseDer(params.keyDerivationFunc.parameters, Pbkdf2Params);
    const cipher = PBES2_CIPHERS[params.encryptionScheme.algorithm];
    const prf = kdf.prf === undefined ? 'sha1' : PRF_DIGESTS[kdf.prf.algorithm];
    if (cipher === undefined || prf === undefined || params.encryptionScheme.parameters === undefined) return undefined;
    return {
      prf,
      prfPresent: kdf.prf !== undefined,
      iterations: kdf.iterationCount,
      salt: buf(kdf.salt.buffer),
      keyLength: kdf.keyLength,
      cipher: cipher.name,
      iv: parseOctetStringDer(params.encryptionScheme.parameters),
    };
  } catch (err) {
    if (isSignetError(err)) throw err;
    return undefined;
  }
}

const MAX_ITERATIONS = 10_000_000;

/** Decrypts an EncryptedPrivateKeyInfo. BAD_PASSPHRASE when the passphrase does not fit. */
export function decryptPkcs8(der: Buffer, passphrase: string): PrivateKey {
  const info = describePbes2(der);
  if (info === undefined) return decryptWithNode(der, passphrase);
  const spec = Object.values(PBES2_CIPHERS).find((c) => c.name === info.cipher);
  if (spec === undefined) return decryptWithNode(der, passphrase);
  if (info.keyLength !== undefined && info.keyLength !== spec.keyLen) {
    throw new SignetError('KEY_FILE', `PBKDF2 keyLength ${info.keyLength} does not fit ${info.cipher}`);
  }
  if (info.iterations < 1 || info.iterations > MAX_ITERATIONS) {
    throw new SignetError('KEY_FILE', `PBKDF2 iteration count ${info.iterations} out of range`);
  }
  if (info.iv.length !== AES_IV_LEN) throw new SignetError('KEY_FILE', 'AES-CBC IV must be 16 bytes');
  const epki = parseDer(der, EncryptedPrivateKeyInfo);
  const ct = buf(epki.encryptedData.buffer);
  if (ct.length === 0 || ct.length % 16 !== 0) {
    throw new SignetError('KEY_FILE', 'encrypted private key data has a bad length');
  }
  const key = crypto.pbkdf2Sync(Buffer.from(passphrase, 'utf8'), info.salt, info.iterations, spec.keyLen, info.prf);
  const decipher = crypto.createDecipheriv(info.cipher, key, info.iv);
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(ct), decipher.final()]);
  key.fill(0);
  try {
    // Like Go, the padding itself is not required to be valid; ASN.1 parsing ignores trailing bytes.
    return fromPkcs8(stripPkcs7(plain));
  } catch (err) {
    throw new SignetError('BAD_PASSPHRASE', 'the passphrase does not decrypt this private key', { cause: err });
  } finally {
    plain.fill(0);
  }
}

function stripPkcs7(b: Buffer): Buffer {
  const n = b[b.length - 1] ?? 0;
  if (n < 1 || n > 16 || n > b.length) return b;
  for (let i = b.length - n; i < b.length; i++) if (b[i] !== n) return b;
  return b.subarray(0, b.length - n);
}

function decryptWithNode(der: Buffer, passphrase: string): PrivateKey {
  let ko: crypto.KeyObject;
  try {
    ko = crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8', passphrase });
  } catch (err) {
    throw new SignetError(
      'BAD_PASSPHRASE',
      'the passphrase does not decrypt this private key (or its encryption is unsupported)',
      {
        cause: err,
      },
    );
  }
  return privateKeyFromKeyObject(ko);
}

// ---------------------------------------------------------------------------------------------
// legacy PEM (SEC1 / PKCS#1 / notary ED25519, optionally RFC 1423-encrypted)

/** OpenSSL EVP_BytesToKey with MD5 and one iteration, as used by RFC 1423 PEM encryption. */
export function evpBytesToKeyMd5(passphrase: Buffer, salt: Buffer, keyLen: number): Buffer {
  const parts: Buffer[] = [];
  let prev = Buffer.alloc(0);
  let len = 0;
  while (len < keyLen) {
    prev = crypto
      .createHash('md5')
      .update(Buffer.concat([prev, passphrase, salt]))
      .digest();
    parts.push(prev);
    len += prev.length;
  }
  const out = Buffer.concat(parts);
  const key = Buffer.from(out.subarray(0, keyLen));
  out.fill(0);
  return key;
}

function isRfc1423Encrypted(block: PemBlock): boolean {
  return (block.headers['Proc-Type'] ?? '').includes('ENCRYPTED');
}

function decryptRfc1423(block: PemBlock, passphrase: string): Buffer {
  const dek = block.headers['DEK-Info'] ?? '';
  const comma = dek.indexOf(',');
  const name = (comma < 0 ? dek : dek.slice(0, comma)).trim().toUpperCase();
  const spec = LEGACY_CIPHERS[name];
  if (spec === undefined) throw new SignetError('KEY_FILE', `unsupported PEM encryption ${JSON.stringify(name)}`);
  const ivHex = comma < 0 ? '' : dek.slice(comma + 1).trim();
  if (!/^[0-9a-fA-F]*$/.test(ivHex) || ivHex.length !== spec.ivLen * 2) {
    throw new SignetError('KEY_FILE', 'malformed DEK-Info IV');
  }
  const iv = Buffer.from(ivHex, 'hex');
  if (block.bytes.length === 0 || block.bytes.length % spec.ivLen !== 0) {
    throw new SignetError('KEY_FILE', 'encrypted PEM data has a bad length');
  }
  const key = evpBytesToKeyMd5(Buffer.from(passphrase, 'utf8'), iv.subarray(0, 8), spec.keyLen);
  let decipher: crypto.Decipher;
  try {
    decipher = crypto.createDecipheriv(spec.name, key, iv);
  } catch (err) {
    key.fill(0);
    throw new SignetError('KEY_FILE', `PEM encryption ${name} is not supported by this Node/OpenSSL`, { cause: err });
  }
  try {
    return Buffer.concat([decipher.update(block.bytes), decipher.final()]);
  } catch (err) {
    throw new SignetError('BAD_PASSPHRASE', 'the passphrase does not decrypt this private key', { cause: err });
  } finally {
    key.fill(0);
  }
}

function fromLegacyDer(type: string, der: Buffer): PrivateKey {
  try {
    switch (type) {
      case 'EC PRIVATE KEY':
        return privateKeyFromKeyObject(crypto.createPrivateKey({ key: der, format: 'der', type: 'sec1' }));
      case 'RSA PRIVATE KEY':
        return privateKeyFromKeyObject(crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs1' }));
      default:
        return privateKeyFromKeyObject(ed25519FromNotaryBytes(der));
    }
  } catch (err) {
    if (isSignetError(err)) throw err;
    throw new SignetError('KEY_FILE', `malformed ${type}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------------------------
// PEM files

/** The first private key block of a PEM text (skips e.g. `EC PARAMETERS`). */
export function findKeyBlock(pem: string): PemBlock {
  const blocks = decodePemBlocks(pem);
  const block = blocks.find((b) => KEY_TYPES.has(b.type));
  if (block === undefined) {
    const seen = blocks.map((b) => b.type).join(', ');
    throw new SignetError(
      'KEY_FILE',
      seen ? `no supported private key PEM block (found ${seen})` : 'no PEM private key found',
      {
        fix: 'expected ENCRYPTED PRIVATE KEY, PRIVATE KEY, EC PRIVATE KEY, RSA PRIVATE KEY or ED25519 PRIVATE KEY',
      },
    );
  }
  return block;
}

export function metaOf(block: PemBlock): KeyFileMeta {
  const meta: KeyFileMeta = { role: block.headers['role'] ?? '' };
  const gun = block.headers['gun'];
  if (gun) meta.gun = gun;
  const path = block.headers['path'];
  if (path) meta.path = path;
  return meta;
}

export function isEncryptedBlock(block: PemBlock): boolean {
  return block.type === 'ENCRYPTED PRIVATE KEY' || isRfc1423Encrypted(block);
}

/** Reads the PEM headers and whether the key is encrypted, without decrypting. */
export function inspectKeyPem(pem: string): { meta: KeyFileMeta; encrypted: boolean; type: string } {
  const block = findKeyBlock(pem);
  return { meta: metaOf(block), encrypted: isEncryptedBlock(block), type: block.type };
}

/**
 * Decodes a private key PEM. `passphrase` is needed only when the key is encrypted; then a wrong
 * one gives BAD_PASSPHRASE and a missing one PASSPHRASE_REQUIRED.
 */
export function decodeKeyPem(
  pem: string,
  passphrase: string | undefined,
): { key: PrivateKey; meta: KeyFileMeta; encrypted: boolean } {
  const block = findKeyBlock(pem);
  const meta = metaOf(block);
  const encrypted = isEncryptedBlock(block);
  if (encrypted && (passphrase === undefined || passphrase === '')) {
    throw new SignetError(
      'PASSPHRASE_REQUIRED',
      `the ${meta.role || 'private'} key is encrypted and no passphrase was given`,
    );
  }
  let key: PrivateKey;
  if (block.type === 'ENCRYPTED PRIVATE KEY') {
    key = decryptPkcs8(block.bytes, passphrase ?? '');
  } else if (block.type === 'PRIVATE KEY') {
    key = fromPkcs8(block.bytes);
  } else if (encrypted) {
    const der = decryptRfc1423(block, passphrase ?? '');
    try {
      key = fromLegacyDer(block.type, der);
    } catch (err) {
      throw new SignetError('BAD_PASSPHRASE', 'the passphrase does not decrypt this private key', { cause: err });
    } finally {
      der.fill(0);
    }
  } else {
    key = fromLegacyDer(block.type, block.bytes);
  }
  block.bytes.fill(0);
  return { key, meta, encrypted };
}

/**
 * notary's key file bytes: `ENCRYPTED PRIVATE KEY` (or `PRIVATE KEY` for an empty passphrase) with
 * the `gun`/`path`/`role` headers that are set, sorted as Go's pem.Encode writes them.
 */
export function encodeKeyPem(key: PrivateKey, meta: KeyFileMeta, passphrase: string): string {
  return encodeKeyPemWithParams(key, meta, passphrase);
}

/** encodeKeyPem with a fixed salt/IV: for reproducing a file byte for byte in tests only. */
export function encodeKeyPemWithParams(
  key: PrivateKey,
  meta: KeyFileMeta,
  passphrase: string,
  fixed?: { salt?: Buffer; iv?: Buffer },
): string {
  const inner = toNotaryPkcs8(key);
  const headers: Record<string, string> = {};
  if (meta.role) headers['role'] = meta.role;
  if (meta.gun) headers['gun'] = meta.gun;
  if (meta.path) headers['path'] = meta.path;
  try {
    if (passphrase === '') return encodePem({ type: 'PRIVATE KEY', headers, bytes: inner });
    return encodePem({ type: 'ENCRYPTED PRIVATE KEY', headers, bytes: encryptPkcs8(inner, passphrase, fixed) });
  } finally {
    inner.fill(0);
  }
}

/**
 * `PUBLIC KEY` PEM (SPKI DER) with a `role` header, as `docker trust key generate` writes NAME.pub.
 * x509 keys are returned as their certificate PEM text.
 */
export function publicKeyPem(key: PrivateKey | PublicKey, role?: string): string {
  const pk: PublicKey = 'keyObject' in key ? key.publicKey : key;
  const headers: Record<string, string> = role ? { role } : {};
  switch (pk.keytype) {
    case 'ecdsa':
    case 'rsa':
      return encodePem({ type: 'PUBLIC KEY', headers, bytes: Buffer.from(pk.public, 'base64') });
    case 'ed25519': {
      const ko = crypto.createPublicKey({
        key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(pk.public, 'base64').toString('base64url') },
        format: 'jwk',
      });
      return encodePem({ type: 'PUBLIC KEY', headers, bytes: ko.export({ format: 'der', type: 'spki' }) });
    }
    case 'ecdsa-x509':
    case 'rsa-x509':
      return Buffer.from(pk.public, 'base64').toString('utf8');
    default:
      throw new SignetError('INVALID_KEY', `unsupported public key type ${String(pk.keytype)}`);
  }
}
