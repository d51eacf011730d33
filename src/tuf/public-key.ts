/**
 * Public keys as notary lists them in metadata (N:tuf/data/keys.go).
 *  - `ecdsa` / `rsa`: keyval.public = base64 of PKIX SubjectPublicKeyInfo DER
 *  - `ecdsa-x509` / `rsa-x509`: keyval.public = base64 of PEM certificate text (leaf, then intermediates)
 *  - `ed25519`: keyval.public = base64 of the raw 32-byte key (not SPKI)
 * TUF key ID = sha256 hex of the canonical key JSON; canonical ID (N:tuf/utils/x509.go CanonicalKeyID) =
 * for *-x509 the TUF ID of the bare key inside the leaf certificate, otherwise the TUF ID.
 */
import crypto from 'node:crypto';
import { sha256Hex } from '../digest.js';
import { SignetError } from '../errors.js';
import { canonicalJson } from './canonical-json.js';
import { pemBlocks } from './pem.js';
import type { KeyJson, KeyType, PublicKey } from './types.js';

const KEY_TYPES: readonly string[] = ['ecdsa', 'ecdsa-x509', 'rsa', 'rsa-x509', 'ed25519'];

export function isKeyType(t: unknown): t is KeyType {
  return typeof t === 'string' && KEY_TYPES.includes(t);
}

export function isX509KeyType(t: string): boolean {
  return t === 'ecdsa-x509' || t === 'rsa-x509';
}

/** `{"keytype":T,"keyval":{"private":null,"public":B64}}` */
export function keyJson(keytype: KeyType, publicB64: string): KeyJson {
  return { keytype, keyval: { private: null, public: publicB64 } };
}

/** sha256 hex of the canonical key JSON (N:tuf/data/keys.go, `private:null` must be present). */
export function tufKeyId(keytype: string, publicB64: string): string {
  const bytes = canonicalJson({ keytype, keyval: { private: null, public: publicB64 } });
  return sha256Hex(bytes);
}

function decodeB64Strict(s: string, what: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) {
    throw new SignetError('INVALID_KEY', `${what} is not standard padded base64`);
  }
  return Buffer.from(s, 'base64');
}

function invalidKey(what: string, cause?: unknown): SignetError {
  return new SignetError('INVALID_KEY', what, {
    cause,
    fix: 'check that the key JSON lists the right keytype for its keyval.public encoding',
  });
}

/** The leaf certificate (first CERTIFICATE block) of an x509 key's PEM bundle. */
function leafCertificate(pk: { keytype: string; public: string }): crypto.X509Certificate {
  const pem = decodeB64Strict(pk.public, `${pk.keytype} key public value`).toString('utf8');
  const blocks = pemBlocks(pem);
  const first = blocks[0];
  if (first === undefined || first.type !== 'CERTIFICATE') {
    throw invalidKey(`${pk.keytype} key does not hold a PEM CERTIFICATE`);
  }
  try {
    return new crypto.X509Certificate(first.bytes);
  } catch (cause) {
    throw invalidKey(`${pk.keytype} key holds an unparsable certificate`, cause);
  }
}

function keyObjectOf(keytype: string, publicB64: string): crypto.KeyObject {
  try {
    switch (keytype) {
      case 'ecdsa':
      case 'rsa': {
        const ko = crypto.createPublicKey({
          key: decodeB64Strict(publicB64, `${keytype} key`),
          format: 'der',
          type: 'spki',
        });
        const want = keytype === 'ecdsa' ? 'ec' : 'rsa';
        if (ko.asymmetricKeyType !== want) throw invalidKey(`${keytype} key holds a ${ko.asymmetricKeyType} key`);
        return ko;
      }
      case 'ecdsa-x509':
      case 'rsa-x509': {
        const ko = leafCertificate({ keytype, public: publicB64 }).publicKey;
        const want = keytype === 'ecdsa-x509' ? 'ec' : 'rsa';
        if (ko.asymmetricKeyType !== want)
          throw invalidKey(`${keytype} certificate holds a ${ko.asymmetricKeyType} key`);
        return ko;
      }
      case 'ed25519': {
        const raw = decodeB64Strict(publicB64, 'ed25519 key');
        if (raw.length !== 32) throw invalidKey(`ed25519 public key must be 32 raw bytes, got ${raw.length}`);
        return crypto.createPublicKey({
          key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
          format: 'jwk',
        });
      }
      default:
        throw invalidKey(`unsupported key type ${JSON.stringify(keytype)}`);
    }
  } catch (err) {
    if (err instanceof SignetError) throw err;
    throw invalidKey(`${keytype} public key cannot be decoded: ${(err as Error).message}`, err);
  }
}

function canonicalIdOf(keytype: string, publicB64: string, id: string): string {
  if (!isX509KeyType(keytype)) return id;
  const spki = keyObjectOf(keytype, publicB64).export({ format: 'der', type: 'spki' });
  return tufKeyId(keytype === 'ecdsa-x509' ? 'ecdsa' : 'rsa', spki.toString('base64'));
}

/**
 * A PublicKey from key JSON; computes both IDs. Throws INVALID_KEY when the key cannot be decoded
 * (so an unusable key never gets an ID that signatures could match).
 */
export function publicKeyFromJson(json: KeyJson): PublicKey {
  const keytype = json.keytype as string;
  const pub = json.keyval?.public;
  if (!isKeyType(keytype)) throw invalidKey(`unsupported key type ${JSON.stringify(keytype)}`);
  if (typeof pub !== 'string') throw invalidKey('key JSON has no keyval.public string');
  const id = tufKeyId(keytype, pub);
  keyObjectOf(keytype, pub); // validates
  return { keytype, public: pub, id, canonicalId: canonicalIdOf(keytype, pub, id) };
}

/** A PublicKey from SPKI DER. keytype defaults from the key: 'ecdsa', 'rsa' or 'ed25519' (raw 32 bytes). */
export function publicKeyFromSpki(spkiDer: Buffer, keytype?: 'ecdsa' | 'rsa' | 'ed25519'): PublicKey {
  let ko: crypto.KeyObject;
  try {
    ko = crypto.createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
  } catch (cause) {
    throw invalidKey('SubjectPublicKeyInfo DER cannot be parsed', cause);
  }
  const kind = ko.asymmetricKeyType;
  const inferred = kind === 'ec' ? 'ecdsa' : kind === 'rsa' ? 'rsa' : kind === 'ed25519' ? 'ed25519' : undefined;
  if (inferred === undefined) throw invalidKey(`unsupported public key algorithm ${kind ?? 'unknown'}`);
  const type = keytype ?? inferred;
  if (type !== inferred) throw invalidKey(`key is ${kind}, not ${type}`);
  let pub: string;
  if (type === 'ed25519') {
    const jwk = ko.export({ format: 'jwk' });
    pub = Buffer.from(jwk.x ?? '', 'base64url').toString('base64');
  } else {
    // re-export so the DER is the normal form Go's MarshalPKIXPublicKey writes
    pub = ko.export({ format: 'der', type: 'spki' }).toString('base64');
  }
  const id = tufKeyId(type, pub);
  return { keytype: type, public: pub, id, canonicalId: id };
}

export function publicKeyToJson(pk: PublicKey): KeyJson {
  return keyJson(pk.keytype, pk.public);
}

/** The bare node:crypto key; for *-x509 keys, the leaf certificate's key. */
export function keyObjectFromPublicKey(pk: PublicKey): crypto.KeyObject {
  return keyObjectOf(pk.keytype, pk.public);
}
