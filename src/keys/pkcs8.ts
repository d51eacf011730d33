/**
 * PKCS#8 as notary writes it (N:tuf/utils/x509.go): the inner PrivateKeyInfo with notary's quirks,
 * encrypted with PBES2 / PBKDF2-HMAC-SHA1 (2048 iterations, 8-byte salt, no PRF element) / AES-256-CBC.
 * Reading is lenient: standard PKCS#8 encrypted with any PBES2 PRF and AES-CBC we know, else
 * whatever node:crypto can open. The PEM files are key-pem.ts; pre-PKCS#8 PEMs are legacy-pem.ts.
 */
import * as crypto from 'node:crypto';
import { SignetError, isSignetError } from '../errors.js';
import { derChildren, derElement, oidText, type DerElement } from '../tuf/index.js';
import { OID, asn1, buf, derOf, octetStringDer, oidDer, parseDer, parseOctetStringDer } from './asn1.js';
import type { EncryptedPrivateKeyInfo, PrivateKeyInfo } from './asn1.js';
import { privateKeyFromKeyObject, type PrivateKey } from './private-key.js';

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

// ---------------------------------------------------------------------------------------------
// inner PrivateKeyInfo

/** notary's PrivateKeyInfo DER for `key` (EC version 1, RSA without NULL, Ed25519 96 bytes). */
export function toNotaryPkcs8(key: PrivateKey): Buffer {
  const { PrivateKeyInfo, AlgorithmIdentifier, OctetString } = asn1();
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

export function ed25519FromNotaryBytes(raw: Buffer): crypto.KeyObject {
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
  const { PrivateKeyInfo, AlgorithmIdentifier } = asn1();
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
  const { Pbkdf2Params, OctetString, Pbes2Params, AlgorithmIdentifier, EncryptedPrivateKeyInfo } = asn1();
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
  const { EncryptedPrivateKeyInfo, Pbes2Params, Pbkdf2Params } = asn1();
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
/** A PBKDF2 iteration count this reader runs (a key file cannot make it spin for hours). */
const iterationsInBounds = (n: number): boolean => n >= 1 && n <= MAX_ITERATIONS;

/**
 * The PBKDF2 iteration count of a PBES2 EncryptedPrivateKeyInfo, read with the minimal DER walk
 * (tuf's der.ts); undefined when the file is not of that shape.
 */
function pbes2Iterations(der: Buffer): number | undefined {
  try {
    const oidOf = (el: DerElement | undefined): string | undefined =>
      el?.tag === 0x06 ? oidText(der.subarray(el.start, el.end)) : undefined;
    const [algId] = derChildren(der, derElement(der, 0, der.length));
    const [scheme, params] = algId === undefined ? [] : derChildren(der, algId);
    if (oidOf(scheme) !== OID.pbes2 || params === undefined) return undefined;
    const [kdf] = derChildren(der, params);
    const [kdfOid, kdfParams] = kdf === undefined ? [] : derChildren(der, kdf);
    if (oidOf(kdfOid) !== OID.pbkdf2 || kdfParams === undefined) return undefined;
    const count = derChildren(der, kdfParams)[1];
    if (count?.tag !== 0x02 || count.end - count.start > 4 || count.end === count.start) return undefined;
    return der.subarray(count.start, count.end).readIntBE(0, count.end - count.start);
  } catch {
    return undefined;
  }
}

/** Decrypts an EncryptedPrivateKeyInfo. BAD_PASSPHRASE when the passphrase does not fit. */
export function decryptPkcs8(der: Buffer, passphrase: string): PrivateKey {
  // Fast path: node:crypto (OpenSSL) opens notary's PBES2 keys itself, without the ASN.1 library's
  // first-use cost on every `sign` (docs/performance.md, measurement 9); only with an iteration count
  // in bounds. Anything it cannot open (notary's Ed25519 form, a wrong passphrase) takes the full
  // path below, which says why.
  const count = pbes2Iterations(der);
  if (count !== undefined && iterationsInBounds(count)) {
    try {
      const ko = crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8', passphrase });
      if (ko.asymmetricKeyType === 'ec' || ko.asymmetricKeyType === 'rsa') return privateKeyFromKeyObject(ko);
    } catch {
      // the full path below
    }
  }
  const info = describePbes2(der);
  if (info === undefined) return decryptWithNode(der, passphrase);
  const spec = Object.values(PBES2_CIPHERS).find((c) => c.name === info.cipher);
  if (spec === undefined) return decryptWithNode(der, passphrase);
  if (info.keyLength !== undefined && info.keyLength !== spec.keyLen) {
    throw new SignetError('KEY_FILE', `PBKDF2 keyLength ${info.keyLength} does not fit ${info.cipher}`);
  }
  if (!iterationsInBounds(info.iterations)) {
    throw new SignetError('KEY_FILE', `PBKDF2 iteration count ${info.iterations} out of range`);
  }
  if (info.iv.length !== AES_IV_LEN) throw new SignetError('KEY_FILE', 'AES-CBC IV must be 16 bytes');
  const epki = parseDer(der, asn1().EncryptedPrivateKeyInfo);
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
