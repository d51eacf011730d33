/**
 * cosign's key files. The private key is PEM `ENCRYPTED SIGSTORE PRIVATE KEY` (older files:
 * `ENCRYPTED COSIGN PRIVATE KEY`) whose body is the JSON that go-securesystemslib
 * `encrypted.Encrypt` writes over the PKCS #8 DER of the key (sigstore/cosign pkg/cosign/keys.go
 * marshalKeyPair; secure-systems-lab/go-securesystemslib encrypted/encrypted.go):
 *
 *   {"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":B64},
 *    "cipher":{"name":"nacl/secretbox","nonce":B64},"ciphertext":B64}
 *
 * (Go's encoding/json writes []byte as standard base64.) The secretbox key is scrypt(password,
 * salt, N, r, p, 32 bytes); the nonce is 24 random bytes. The public key is a PKIX `PUBLIC KEY` PEM.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  scrypt,
  type KeyObject,
} from 'node:crypto';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa';
import { SignetError } from '../errors.js';
import { decodePemBlocks, encodePem } from '../keys/index.js';

export const SIGSTORE_PRIVATE_KEY_PEM = 'ENCRYPTED SIGSTORE PRIVATE KEY';
export const COSIGN_PRIVATE_KEY_PEM = 'ENCRYPTED COSIGN PRIVATE KEY';

/** What Encrypt writes; every go-securesystemslib version decrypts it. */
const WRITE_PARAMS = { N: 32768, r: 8, p: 1 } as const;
/** Parameters we accept on read (bounded, so a crafted file cannot ask for gigabytes of scrypt memory). */
const ACCEPTED_N = new Set([1 << 15, 1 << 16, 1 << 17, 1 << 18, 1 << 20]);

interface EncryptedKeyJson {
  kdf: { name: string; params: { N: number; r: number; p: number }; salt: string };
  cipher: { name: string; nonce: string };
  ciphertext: string;
}

function deriveKey(password: string, salt: Buffer, p: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      Buffer.from(password, 'utf8'),
      salt,
      32,
      { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r + 64 * 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
}

/** The cosign PEM of a PKCS #8 private key, encrypted under `password` (may be empty, as cosign allows). */
export async function encryptCosignKey(pkcs8: Buffer, password: string): Promise<string> {
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const key = await deriveKey(password, salt, WRITE_PARAMS);
  const sealed = Buffer.from(xsalsa20poly1305(key, nonce).encrypt(pkcs8));
  const doc: EncryptedKeyJson = {
    kdf: { name: 'scrypt', params: { ...WRITE_PARAMS }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: sealed.toString('base64'),
  };
  return encodePem({ type: SIGSTORE_PRIVATE_KEY_PEM, headers: {}, bytes: Buffer.from(JSON.stringify(doc)) });
}

function badKey(file: string, what: string, cause?: unknown): SignetError {
  return new SignetError('KEY_FILE', `${file} is not a cosign private key: ${what}`, {
    fix: 'Pass a key made by "signet bridge generate-key" or "cosign generate-key-pair".',
    ...(cause !== undefined ? { cause } : {}),
  });
}

/** Decrypt a cosign private key PEM; `file` names it in errors. */
export async function decryptCosignKey(pem: string, password: string, file: string): Promise<KeyObject> {
  const block = decodePemBlocks(pem).find(
    (b) => b.type === SIGSTORE_PRIVATE_KEY_PEM || b.type === COSIGN_PRIVATE_KEY_PEM,
  );
  if (block === undefined) throw badKey(file, `no ${SIGSTORE_PRIVATE_KEY_PEM} or ${COSIGN_PRIVATE_KEY_PEM} PEM block`);
  let doc: EncryptedKeyJson;
  try {
    doc = JSON.parse(block.bytes.toString('utf8')) as EncryptedKeyJson;
  } catch (e) {
    throw badKey(file, 'the PEM body is not JSON', e);
  }
  const params = doc?.kdf?.params;
  if (doc?.kdf?.name !== 'scrypt' || doc.cipher?.name !== 'nacl/secretbox') throw badKey(file, 'unknown kdf or cipher');
  if (params === undefined || !ACCEPTED_N.has(params.N) || params.r !== 8 || params.p !== 1)
    throw badKey(file, 'unexpected scrypt parameters');
  const salt = Buffer.from(doc.kdf.salt ?? '', 'base64');
  const nonce = Buffer.from(doc.cipher.nonce ?? '', 'base64');
  const sealed = Buffer.from(doc.ciphertext ?? '', 'base64');
  if (nonce.length !== 24 || sealed.length < 16) throw badKey(file, 'bad nonce or ciphertext length');
  const key = await deriveKey(password, salt, params);
  let pkcs8: Uint8Array;
  try {
    pkcs8 = xsalsa20poly1305(key, nonce).decrypt(sealed);
  } catch (e) {
    throw new SignetError('BAD_PASSPHRASE', `the password does not decrypt ${file}`, {
      fix: 'Set COSIGN_PASSWORD (or COSIGN_PASSWORD_FILE) to the password the key was made with.',
      cause: e,
    });
  }
  try {
    return createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  } catch (e) {
    throw badKey(file, 'the decrypted key is not PKCS #8', e);
  }
}

/** A new ECDSA P-256 key pair: the encrypted private key PEM and the public key PEM. */
export async function generateCosignKeyPair(password: string): Promise<{ privatePem: string; publicPem: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privatePem = await encryptCosignKey(privateKey.export({ type: 'pkcs8', format: 'der' }), password);
  return { privatePem, publicPem: publicKeyPem(publicKey) };
}

export function publicKeyPem(key: KeyObject): string {
  return (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'pem' }).toString();
}

/** An ECDSA P-256 public key from a PKIX PEM (a private key's public half is refused: pass the .pub file). */
export function loadCosignPublicKey(pem: string, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw new SignetError('INVALID_KEY', `${file} is not a PEM public key`, {
      fix: 'Pass the cosign.pub file (PEM "PUBLIC KEY").',
      cause: e,
    });
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new SignetError('INVALID_KEY', `${file} is not an ECDSA P-256 public key`, {
      fix: 'Sigstore signatures here are ECDSA P-256 / SHA-256; pass that key.',
    });
  }
  return key;
}
