/**
 * Private key PEMs from before PKCS#8, which notary and Go still read (N:tuf/utils/x509.go
 * ParsePEMPrivateKey): SEC1 `EC PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY`, notary's `ED25519 PRIVATE
 * KEY`, each possibly encrypted as RFC 1423 (`Proc-Type: 4,ENCRYPTED`, Go x509.DecryptPEMBlock).
 */
import * as crypto from 'node:crypto';
import { SignetError, isSignetError } from '../errors.js';
import type { PemBlock } from './pem.js';
import { ed25519FromNotaryBytes } from './pkcs8.js';
import { privateKeyFromKeyObject, type PrivateKey } from './private-key.js';

export const LEGACY_TYPES = ['EC PRIVATE KEY', 'RSA PRIVATE KEY', 'ED25519 PRIVATE KEY'] as const;

/** RFC 1423 DEK-Info ciphers that Go's x509.DecryptPEMBlock accepts. */
const LEGACY_CIPHERS: Record<string, { name: string; keyLen: number; ivLen: number }> = {
  'DES-CBC': { name: 'des-cbc', keyLen: 8, ivLen: 8 },
  'DES-EDE3-CBC': { name: 'des-ede3-cbc', keyLen: 24, ivLen: 8 },
  'AES-128-CBC': { name: 'aes-128-cbc', keyLen: 16, ivLen: 16 },
  'AES-192-CBC': { name: 'aes-192-cbc', keyLen: 24, ivLen: 16 },
  'AES-256-CBC': { name: 'aes-256-cbc', keyLen: 32, ivLen: 16 },
};

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

export function isRfc1423Encrypted(block: PemBlock): boolean {
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

/** The key of a legacy block; an encrypted one needs the passphrase (a wrong one: BAD_PASSPHRASE). */
export function decodeLegacyKey(block: PemBlock, passphrase: string): PrivateKey {
  if (!isRfc1423Encrypted(block)) return fromLegacyDer(block.type, block.bytes);
  const der = decryptRfc1423(block, passphrase);
  try {
    return fromLegacyDer(block.type, der);
  } catch (err) {
    throw new SignetError('BAD_PASSPHRASE', 'the passphrase does not decrypt this private key', { cause: err });
  } finally {
    der.fill(0);
  }
}
