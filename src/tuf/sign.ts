/**
 * Local signing (N:tuf/data/types.go, N:tuf/signed/sign.go, N:tuf/data/keys.go Sign):
 * ecdsa = SHA-256, raw r||s; rsa = rsapss SHA-256 salt 32; ed25519 = eddsa.
 * The private key lives only in the closure: the Signer has no field that could be logged or serialised.
 */
import crypto from 'node:crypto';
import { SignetError } from '../errors.js';
import type { PublicKey, SignatureMethod, Signer } from './types.js';

export function localSigner(privateKey: crypto.KeyObject, publicKey: PublicKey): Signer {
  if (privateKey.type !== 'private') {
    throw new SignetError('INVALID_KEY', 'localSigner needs a private key', {
      fix: 'pass the private KeyObject, not the public one',
    });
  }
  const kind = privateKey.asymmetricKeyType;
  const expected: Record<string, string[]> = {
    ec: ['ecdsa', 'ecdsa-x509'],
    rsa: ['rsa', 'rsa-x509'],
    ed25519: ['ed25519'],
  };
  if (kind === undefined || !(expected[kind] ?? []).includes(publicKey.keytype)) {
    throw new SignetError(
      'INVALID_KEY',
      `a ${kind ?? 'unknown'} private key cannot sign for a ${publicKey.keytype} public key`,
      {
        fix: 'use the private key that belongs to this public key',
      },
    );
  }
  if (kind === 'rsa' && (privateKey.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new SignetError('INVALID_KEY', 'RSA keys must be at least 2048 bits');
  }
  const sign = async (data: Buffer): Promise<{ method: SignatureMethod; sig: Buffer }> => {
    switch (kind) {
      case 'ec':
        return { method: 'ecdsa', sig: crypto.sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' }) };
      case 'rsa':
        return {
          method: 'rsapss',
          sig: crypto.sign('sha256', data, {
            key: privateKey,
            padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
            saltLength: 32,
          }),
        };
      default:
        return { method: 'eddsa', sig: crypto.sign(null, data, privateKey) };
    }
  };
  return Object.freeze({ publicKey, sign });
}
