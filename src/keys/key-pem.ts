/**
 * notary's private key files (N:tuf/utils/x509.go): a PEM block with `role`/`gun`/`path` headers
 * around PKCS#8 (pkcs8.ts), or one of the legacy PEMs Go still reads (legacy-pem.ts); and the
 * `PUBLIC KEY` files `docker trust key generate` writes.
 */
import * as crypto from 'node:crypto';
import { SignetError } from '../errors.js';
import type { PublicKey } from '../tuf/index.js';
import { LEGACY_TYPES, decodeLegacyKey, isRfc1423Encrypted } from './legacy-pem.js';
import { decodePemBlocks, encodePem, type PemBlock } from './pem.js';
import { decryptPkcs8, encryptPkcs8, fromPkcs8, toNotaryPkcs8 } from './pkcs8.js';
import type { PrivateKey } from './private-key.js';

export interface KeyFileMeta {
  role: string;
  gun?: string;
  path?: string;
}

export const PKCS8_TYPES = ['ENCRYPTED PRIVATE KEY', 'PRIVATE KEY'] as const;
const KEY_TYPES = new Set<string>([...PKCS8_TYPES, ...LEGACY_TYPES]);

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
  } else {
    key = decodeLegacyKey(block, passphrase ?? '');
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
