/**
 * Server-held keys on a PKCS#11 token (`signet server signer --pkcs11 URI`): generated on the token
 * and used there through the client's token access (keys/pkcs11: one implementation), labelled with
 * their key ID (keys/pkcs11/server-keys.ts). The key row keeps GUN, role, public key and times as for
 * the encrypted store; its `privateKey` column holds only the URI naming the token object
 * (`pkcs11:token=L;object=<key ID>;id=…`, no module, no PIN). Signatures are CKM_ECDSA over SHA-256,
 * the raw r‖s notary expects.
 */
import { SignetError } from '../errors.js';
import { TokenServerKeys, type Pkcs11Settings } from '../keys/index.js';
import type { ServerKeyRow } from '../storage/index.js';
import type { PublicKey, Signer } from '../tuf/index.js';
import { isTokenStored, type KeyCustody } from './custody.js';

export class Pkcs11Custody implements KeyCustody {
  readonly #token: TokenServerKeys;

  constructor(tokenUri: string, settings: Pkcs11Settings) {
    this.#token = new TokenServerKeys(tokenUri, settings);
  }

  toJSON(): string {
    return '[Pkcs11Custody]';
  }

  #signer(uri: string, publicKey: PublicKey): Signer {
    const token = this.#token;
    return Object.freeze({
      publicKey,
      sign: async (data: Buffer): Promise<{ method: 'ecdsa'; sig: Buffer }> => ({
        method: 'ecdsa',
        sig: await token.sign(uri, publicKey.id, data),
      }),
    });
  }

  async generate(): Promise<{ publicKey: PublicKey; stored: Buffer; signer: Signer }> {
    const { publicKey, uri } = await this.#token.generate();
    return { publicKey, stored: Buffer.from(uri, 'utf8'), signer: this.#signer(uri, publicKey) };
  }

  signer(row: ServerKeyRow, publicKey: PublicKey): Promise<Signer> {
    if (!isTokenStored(row.privateKey))
      return Promise.reject(
        new SignetError('KEY_FILE', `key ${row.id} is in the encrypted key store, not on the PKCS#11 token`),
      );
    return Promise.resolve(this.#signer(row.privateKey.toString('utf8'), publicKey));
  }

  /** The token opens with the module and PIN given; the database holds no encrypted keys. */
  async check(row: ServerKeyRow | null): Promise<void> {
    if (row !== null && !isTokenStored(row.privateKey))
      throw new SignetError(
        'USAGE',
        'the server keys in this database are encrypted with a signer passphrase, not on a PKCS#11 token',
        {
          fix: 'start this data directory without --pkcs11 (with its signer passphrase), or give the PKCS#11 signer its own --data-dir / --database',
        },
      );
    await this.#token.check();
  }

  async destroy(stored: Buffer): Promise<void> {
    if (isTokenStored(stored)) await this.#token.destroy(stored.toString('utf8'));
  }
}
