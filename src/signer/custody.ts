/**
 * Where the private halves of server-held keys are kept, for ServerKeyring (keyring.ts). A key row
 * always holds GUN, role, algorithm, public key and times; its `privateKey` column holds what the
 * custody stores: the PKCS#8 key encrypted under the signer passphrase (EncryptedCustody, here), or
 * a PKCS#11 URI naming the key on a token (Pkcs11Custody, pkcs11-custody.ts; never key bytes).
 * Each custody refuses the other's rows at start-up, so a database is never served half-usable.
 */
import crypto from 'node:crypto';
import { SignetError } from '../errors.js';
import type { ServerKeyRow } from '../storage/index.js';
import { localSigner, publicKeyFromSpki, type PublicKey, type Signer } from '../tuf/index.js';
import { KeyCipher } from './cipher.js';
import type { ServerKeyRole } from './types.js';

/** The identity a stored private half is bound to (the cipher's associated data). */
export interface KeyIdentity {
  gun: string;
  role: string;
  id: string;
}

export interface KeyCustody {
  /** A new ECDSA P-256 key: its public key, what its row's `privateKey` column holds, and a Signer. */
  generate(gun: string, role: ServerKeyRole): Promise<{ publicKey: PublicKey; stored: Buffer; signer: Signer }>;
  /** The Signer of a stored key. */
  signer(row: ServerKeyRow, publicKey: PublicKey): Promise<Signer>;
  /** Start-up check with a stored row (null: none stored): this custody can sign with it. */
  check(row: ServerKeyRow | null): Promise<void>;
  /** Stores an existing private key (`signet server import`); absent = this custody cannot. */
  wrap?(key: crypto.KeyObject, identity: KeyIdentity): Promise<Buffer>;
  /** Removes a private half whose row is gone (deleted, or its insert failed); absent = nothing to remove. */
  destroy?(stored: Buffer): Promise<void>;
}

const TOKEN_PREFIX = Buffer.from('pkcs11:');

/** Whether a row's `privateKey` column names a token key rather than holding an encrypted key. */
export function isTokenStored(stored: Buffer): boolean {
  return stored.subarray(0, TOKEN_PREFIX.length).equals(TOKEN_PREFIX);
}

function aad(row: KeyIdentity): string {
  return `${row.gun}\u0000${row.role}\u0000${row.id}`;
}

/** Keys generated in-process, stored encrypted (KeyCipher: AES-256-GCM, row identity as associated data). */
export class EncryptedCustody implements KeyCustody {
  readonly #cipher: KeyCipher;

  constructor(passphrase: string) {
    this.#cipher = new KeyCipher(passphrase);
  }

  toJSON(): string {
    return '[EncryptedCustody]';
  }

  async generate(gun: string, role: ServerKeyRole): Promise<{ publicKey: PublicKey; stored: Buffer; signer: Signer }> {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pk = publicKeyFromSpki(publicKey.export({ type: 'spki', format: 'der' }), 'ecdsa');
    const stored = await this.wrap(privateKey, { gun, role, id: pk.id });
    return { publicKey: pk, stored, signer: localSigner(privateKey, pk) };
  }

  wrap(key: crypto.KeyObject, identity: KeyIdentity): Promise<Buffer> {
    return this.#cipher.encrypt(key.export({ type: 'pkcs8', format: 'der' }), aad(identity));
  }

  async signer(row: ServerKeyRow, publicKey: PublicKey): Promise<Signer> {
    const der = await this.#cipher.decrypt(row.privateKey, aad(row));
    let key: crypto.KeyObject;
    try {
      key = crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } catch (cause) {
      throw new SignetError('KEY_FILE', 'a stored server key does not decode', { cause });
    }
    return localSigner(key, publicKey);
  }

  /**
   * The passphrase decrypts a stored key. A server started with another passphrase would otherwise
   * run healthy and fail every request that needs a stored key.
   */
  async check(row: ServerKeyRow | null): Promise<void> {
    if (row === null) return;
    if (isTokenStored(row.privateKey))
      throw new SignetError('USAGE', 'the server keys in this database are on a PKCS#11 token', {
        fix: 'start the signer service with --pkcs11 <token URI> (and --pkcs11-module, --pkcs11-pin-file), as it was started when it made them',
      });
    try {
      await this.#cipher.decrypt(row.privateKey, aad(row));
    } catch (cause) {
      throw new SignetError(
        'BAD_PASSPHRASE',
        'the signer passphrase does not decrypt the server keys stored in the database',
        {
          cause,
          fix: 'start with the passphrase the keys were first stored with (--signer-passphrase-file, SIGNET_SIGNER_PASSPHRASE_FILE or SIGNET_SIGNER_PASSPHRASE; by default <data-dir>/signer.passphrase)',
        },
      );
    }
  }
}
