/**
 * In-memory private keys: a node:crypto KeyObject plus the bare public key (with notary's key ID).
 * The object never serialises its secret: KeyObjects have no enumerable state, and `toJSON`
 * returns only the key type and ID.
 */
import * as crypto from 'node:crypto';
import { SignetError } from '../errors.js';
import { tufKeyId, type PublicKey } from '../tuf/index.js';

export type PrivateKeyType = 'ecdsa' | 'rsa' | 'ed25519';

export interface PrivateKey {
  keytype: PrivateKeyType;
  keyObject: crypto.KeyObject;
  /** bare (ecdsa/rsa/ed25519) public key; its id is the canonical key ID (the key file name) */
  publicKey: PublicKey;
}

const SUPPORTED_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);

/** Raw 32-byte Ed25519 public key, or SPKI DER for EC/RSA, as notary puts in `keyval.public`. */
export function publicKeyBytes(keyObject: crypto.KeyObject, keytype: PrivateKeyType): Buffer {
  const pub = keyObject.type === 'private' ? crypto.createPublicKey(keyObject) : keyObject;
  if (keytype === 'ed25519') {
    const jwk = pub.export({ format: 'jwk' });
    if (typeof jwk.x !== 'string') throw new SignetError('INVALID_KEY', 'ed25519 key without public part');
    return Buffer.from(jwk.x, 'base64url');
  }
  return pub.export({ format: 'der', type: 'spki' });
}

export function keyTypeOf(keyObject: crypto.KeyObject): PrivateKeyType {
  switch (keyObject.asymmetricKeyType) {
    case 'ec': {
      const curve = keyObject.asymmetricKeyDetails?.namedCurve ?? '';
      if (!SUPPORTED_CURVES.has(curve)) {
        throw new SignetError('INVALID_KEY', `unsupported elliptic curve ${curve || '(unknown)'}; use P-256`);
      }
      return 'ecdsa';
    }
    case 'rsa': {
      const bits = keyObject.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < 2048) throw new SignetError('INVALID_KEY', `RSA key of ${bits} bits is too small (minimum 2048)`);
      return 'rsa';
    }
    case 'ed25519':
      return 'ed25519';
    default:
      throw new SignetError('INVALID_KEY', `unsupported private key type ${keyObject.asymmetricKeyType ?? '(none)'}`);
  }
}

/** Wraps a private KeyObject into a PrivateKey (computes the public key and its ID). */
export function privateKeyFromKeyObject(keyObject: crypto.KeyObject): PrivateKey {
  if (keyObject.type !== 'private') throw new SignetError('INVALID_KEY', 'not a private key');
  const keytype = keyTypeOf(keyObject);
  const b64 = publicKeyBytes(keyObject, keytype).toString('base64');
  const id = tufKeyId(keytype, b64);
  const publicKey: PublicKey = { keytype, public: b64, id, canonicalId: id };
  const key = { keytype, keyObject, publicKey };
  Object.defineProperty(key, 'toJSON', {
    enumerable: false,
    value: () => ({ keytype, id }),
  });
  return key;
}

/** A new private key; default ECDSA P-256 (what notary and docker generate). */
export function generatePrivateKey(keytype: PrivateKeyType = 'ecdsa'): PrivateKey {
  switch (keytype) {
    case 'ecdsa':
      return privateKeyFromKeyObject(crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey);
    case 'rsa':
      return privateKeyFromKeyObject(crypto.generateKeyPairSync('rsa', { modulusLength: 4096 }).privateKey);
    case 'ed25519':
      return privateKeyFromKeyObject(crypto.generateKeyPairSync('ed25519').privateKey);
    default:
      throw new SignetError('INVALID_KEY', `cannot generate keys of type ${String(keytype)}`);
  }
}
