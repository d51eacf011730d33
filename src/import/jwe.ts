/**
 * notary-signer's encrypted private keys: a compact JWE made by jose2go (`jose.Encrypt` in
 * notary `signer/keydbstore/sql_keydbstore.go`), key wrap PBES2-HS256+A128KW (RFC 7518 §4.8:
 * PBKDF2-HMAC-SHA256 over `alg || 0x00 || p2s`, p2c rounds, then AES key unwrap, RFC 3394) and
 * content encryption A256GCM with the protected header (base64url, ASCII) as additional data.
 */
import crypto from 'node:crypto';
import { SignetError } from '../errors.js';

const ALG = 'PBES2-HS256+A128KW';
const ENC = 'A256GCM';
/** jose2go uses 8192 rounds; far more is a crafted row meant to burn CPU. */
const MAX_P2C = 1_000_000;

function b64u(s: string, what: string): Buffer {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw malformed(`${what} is not base64url`);
  return Buffer.from(s, 'base64url');
}

function malformed(detail: string): SignetError {
  return new SignetError('KEY_FILE', `notary-signer key is not a JWE this import can read: ${detail}`);
}

/** Decrypts one `private_keys.private` value with its passphrase; the plaintext is notary's private key bytes. */
export function decryptSignerKey(jwe: string, passphrase: string): Buffer {
  const parts = jwe.trim().split('.');
  if (parts.length !== 5) throw malformed(`expected 5 compact parts, got ${parts.length}`);
  const [h, ek, ivB, ctB, tagB] = parts as [string, string, string, string, string];
  let header: { alg?: unknown; enc?: unknown; p2s?: unknown; p2c?: unknown };
  try {
    header = JSON.parse(b64u(h, 'header').toString('utf8')) as typeof header;
  } catch (cause) {
    if (cause instanceof SignetError) throw cause;
    throw malformed('the protected header is not JSON');
  }
  if (header.alg !== ALG || header.enc !== ENC) {
    throw malformed(`alg ${String(header.alg)} / enc ${String(header.enc)}, expected ${ALG} / ${ENC}`);
  }
  const p2c = header.p2c;
  if (typeof p2c !== 'number' || !Number.isInteger(p2c) || p2c < 1 || p2c > MAX_P2C) throw malformed('bad p2c');
  if (typeof header.p2s !== 'string') throw malformed('no p2s');
  const salt = Buffer.concat([Buffer.from(ALG, 'ascii'), Buffer.from([0]), b64u(header.p2s, 'p2s')]);
  const kek = crypto.pbkdf2Sync(Buffer.from(passphrase, 'utf8'), salt, p2c, 16, 'sha256');
  let cek: Buffer;
  try {
    const unwrap = crypto.createDecipheriv('id-aes128-wrap', kek, Buffer.from('A6A6A6A6A6A6A6A6', 'hex'));
    cek = Buffer.concat([unwrap.update(b64u(ek, 'encrypted key')), unwrap.final()]);
  } catch (cause) {
    throw new SignetError('BAD_PASSPHRASE', 'a notary-signer key does not unwrap: wrong passphrase for its alias?', {
      cause,
    });
  }
  if (cek.length !== 32) throw malformed(`content key is ${cek.length} bytes, expected 32`);
  try {
    const d = crypto.createDecipheriv('aes-256-gcm', cek, b64u(ivB, 'iv'));
    d.setAAD(Buffer.from(h, 'ascii'));
    d.setAuthTag(b64u(tagB, 'tag'));
    return Buffer.concat([d.update(b64u(ctB, 'ciphertext')), d.final()]);
  } catch (cause) {
    throw new SignetError('KEY_FILE', 'a notary-signer key fails its integrity check', { cause });
  }
}

/** notary's private bytes to a key: ECDSA is SEC 1 DER (`x509.MarshalECPrivateKey`), RSA PKCS #1 DER. */
export function signerPrivateKey(algorithm: string, plain: Buffer): crypto.KeyObject {
  const type = algorithm === 'ecdsa' ? 'sec1' : algorithm === 'rsa' ? 'pkcs1' : undefined;
  if (type === undefined)
    throw new SignetError('INVALID_KEY', `notary-signer key algorithm ${algorithm} is not supported`);
  try {
    return crypto.createPrivateKey({ key: plain, format: 'der', type });
  } catch (cause) {
    throw new SignetError('KEY_FILE', `a decrypted notary-signer ${algorithm} key does not parse`, { cause });
  }
}
