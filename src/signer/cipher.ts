/**
 * Encryption at rest of server-held private keys: AES-256-GCM under a key derived with scrypt from
 * the server's signer passphrase and a per-blob salt; the row identity (gun, role, key id) is the
 * associated data, so a ciphertext copied to another row does not decrypt.
 * Blob = "SGK1" | salt(16) | iv(12) | tag(16) | ciphertext(PKCS#8 DER).
 */
import crypto from 'node:crypto';
import { SignetError } from '../errors.js';

const MAGIC = Buffer.from('SGK1');
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

export class KeyCipher {
  readonly #passphrase: Buffer;
  readonly #derived = new Map<string, Promise<Buffer>>();
  readonly #salt = crypto.randomBytes(16);

  constructor(passphrase: string) {
    if (passphrase.length === 0) throw new SignetError('USAGE', 'the signer passphrase must not be empty');
    this.#passphrase = Buffer.from(passphrase, 'utf8');
  }

  #key(salt: Buffer): Promise<Buffer> {
    const k = salt.toString('hex');
    let p = this.#derived.get(k);
    if (p === undefined) {
      p = new Promise<Buffer>((resolve, reject) =>
        crypto.scrypt(this.#passphrase, salt, 32, SCRYPT, (err, key) => (err ? reject(err) : resolve(key))),
      );
      this.#derived.set(k, p);
    }
    return p;
  }

  async encrypt(plain: Buffer, aad: string): Promise<Buffer> {
    const key = await this.#key(this.#salt);
    const iv = crypto.randomBytes(12);
    const c = crypto.createCipheriv('aes-256-gcm', key, iv);
    c.setAAD(Buffer.from(aad, 'utf8'));
    const ct = Buffer.concat([c.update(plain), c.final()]);
    return Buffer.concat([MAGIC, this.#salt, iv, c.getAuthTag(), ct]);
  }

  async decrypt(blob: Buffer, aad: string): Promise<Buffer> {
    if (blob.length < 48 + 1 || !blob.subarray(0, 4).equals(MAGIC)) {
      throw new SignetError('KEY_FILE', 'stored server key is not in the expected encrypted format');
    }
    const salt = blob.subarray(4, 20);
    const iv = blob.subarray(20, 32);
    const tag = blob.subarray(32, 48);
    const key = await this.#key(salt);
    try {
      const d = crypto.createDecipheriv('aes-256-gcm', key, iv);
      d.setAAD(Buffer.from(aad, 'utf8'));
      d.setAuthTag(tag);
      return Buffer.concat([d.update(blob.subarray(48)), d.final()]);
    } catch (cause) {
      throw new SignetError('BAD_PASSPHRASE', 'cannot decrypt a stored server key: wrong signer passphrase?', {
        cause,
        fix: 'start the server with the passphrase it was first started with (SIGNET_SIGNER_PASSPHRASE or --signer-passphrase-file)',
      });
    }
  }

  /** No key material in logs or JSON. */
  toJSON(): string {
    return '[KeyCipher]';
  }
}
