/**
 * The built-in signer: ECDSA P-256 keys generated in-process, stored through the storage layer's
 * key table with the private part encrypted (KeyCipher), decrypted keys kept in memory.
 * Mirrors notary-signer's behaviour (N:server/handlers/default.go, N:proto/signer.proto): `Create` hands out an existing unused
 * key of the same gun/role/algorithm; a key becomes "used" once it has signed.
 */
import crypto from 'node:crypto';
import { SignetError } from '../errors.js';
import type { AuditFields, ServerKeyRow, ServerKeyStore } from '../storage/index.js';
import { localSigner, publicKeyFromSpki, type PublicKey, type RootSigned, type Signer } from '../tuf/index.js';
import { KeyCipher } from './cipher.js';
import type { ServerKeyRole, ServerSigner } from './types.js';

const ALGORITHM = 'ecdsa';
const ABSENT_TTL_MS = 5_000;
/**
 * Keys (rows, decrypted signers) kept in memory at most, oldest dropped first: memory must not
 * grow with the number of repositories. A dropped key costs one row lookup and one AES-GCM
 * decryption when it signs again.
 */
const MAX_HELD = 500;

function keep<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_HELD) map.delete(map.keys().next().value as string);
}

export interface LocalSignerOptions {
  keys: ServerKeyStore;
  passphrase: string;
  now?: () => Date;
}

interface HeldKey {
  row: ServerKeyRow;
  publicKey: PublicKey;
}

function aad(row: { gun: string; role: string; id: string }): string {
  return `${row.gun}\u0000${row.role}\u0000${row.id}`;
}

export class LocalServerSigner implements ServerSigner {
  readonly #keys: ServerKeyStore;
  readonly #cipher: KeyCipher;
  readonly #now: () => Date;
  /** key id → decrypted signer (never serialised) */
  readonly #signers = new Map<string, Promise<Signer>>();
  /** key id → row as last read (rows never change except lastUsed) */
  readonly #rows = new Map<string, HeldKey>();
  readonly #used = new Set<string>();
  /** key id → time until which "not held" is trusted without asking the database again */
  readonly #absent = new Map<string, number>();

  constructor(opts: LocalSignerOptions) {
    this.#keys = opts.keys;
    this.#cipher = new KeyCipher(opts.passphrase);
    this.#now = opts.now ?? (() => new Date());
  }

  toJSON(): string {
    return '[LocalServerSigner]';
  }

  #remember(row: ServerKeyRow): HeldKey {
    // a small Buffer may be a slice of Node's shared 8 KiB pool, and keeping it keeps the whole slab
    const blob = Buffer.allocUnsafeSlow(row.privateKey.length);
    row.privateKey.copy(blob);
    const held = {
      row: { ...row, privateKey: blob },
      publicKey: publicKeyFromSpki(Buffer.from(row.publicKey, 'base64'), 'ecdsa'),
    };
    keep(this.#rows, row.id, held);
    if (this.#used.size >= 100 * MAX_HELD) this.#used.clear();
    if (row.lastUsed !== null) this.#used.add(row.id);
    return held;
  }

  async #row(id: string): Promise<HeldKey | null> {
    const cached = this.#rows.get(id);
    if (cached !== undefined) return cached;
    // Client-held keys are looked up on every publish; another server sharing the database may
    // create a key meanwhile, so a miss is only remembered briefly. (It also keeps lookups out of
    // a publish transaction, which must not wait for a second database connection.)
    const until = this.#absent.get(id);
    if (until !== undefined && until > Date.now()) return null;
    const row = await this.#keys.get(id);
    if (row === null) {
      if (this.#absent.size > 10_000) this.#absent.clear();
      this.#absent.set(id, Date.now() + ABSENT_TTL_MS);
      return null;
    }
    this.#absent.delete(id);
    return this.#remember(row);
  }

  async #create(gun: string, role: ServerKeyRole, audit: AuditFields | undefined): Promise<PublicKey> {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const pk = publicKeyFromSpki(spki, 'ecdsa');
    const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
    const row: ServerKeyRow = {
      id: pk.id,
      gun,
      role,
      algorithm: ALGORITHM,
      publicKey: spki.toString('base64'),
      privateKey: await this.#cipher.encrypt(pkcs8, aad({ gun, role, id: pk.id })),
      createdAt: this.#now(),
      lastUsed: null,
    };
    await this.#keys.insert(
      row,
      audit === undefined ? undefined : { ...audit, gun, role, keyId: pk.id, algorithm: ALGORITHM },
    );
    this.#absent.delete(row.id);
    this.#remember(row);
    keep(this.#signers, pk.id, Promise.resolve(localSigner(privateKey, pk)));
    return pk;
  }

  /**
   * Takes over a key another signer held (notary-signer's `private_keys`, via `signet server import`):
   * stored encrypted like a key made here, keeping its creation and last-use times. ECDSA P-256 only,
   * as this signer signs with nothing else. Returns false when the key is already stored (re-runs).
   */
  async importKey(key: {
    gun: string;
    role: ServerKeyRole;
    privateKey: crypto.KeyObject;
    createdAt: Date;
    lastUsed: Date | null;
  }): Promise<{ id: string; imported: boolean }> {
    const { privateKey } = key;
    if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new SignetError('INVALID_KEY', `server keys must be ECDSA P-256; the ${key.role} key of ${key.gun} is not`);
    }
    const spki = crypto.createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    const pk = publicKeyFromSpki(spki, 'ecdsa');
    if ((await this.#keys.get(pk.id)) !== null) return { id: pk.id, imported: false };
    const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
    await this.#keys.insert({
      id: pk.id,
      gun: key.gun,
      role: key.role,
      algorithm: ALGORITHM,
      publicKey: spki.toString('base64'),
      privateKey: await this.#cipher.encrypt(pkcs8, aad({ gun: key.gun, role: key.role, id: pk.id })),
      createdAt: key.createdAt,
      lastUsed: key.lastUsed,
    });
    this.#absent.delete(pk.id);
    return { id: pk.id, imported: true };
  }

  async getOrCreateKey(gun: string, role: ServerKeyRole, root?: RootSigned, audit?: AuditFields): Promise<PublicKey> {
    if (root !== undefined) {
      for (const id of root.roles[role]?.keyids ?? []) {
        const held = await this.#row(id);
        if (held !== null && held.row.gun === gun && held.row.role === role) return held.publicKey;
      }
    }
    const unused = await this.#keys.findUnused(gun, role, ALGORITHM);
    if (unused !== null && !this.#used.has(unused.id)) return this.#remember(unused).publicKey;
    return this.#create(gun, role, audit);
  }

  rotateKey(gun: string, role: ServerKeyRole, audit?: AuditFields): Promise<PublicKey> {
    return this.#create(gun, role, audit);
  }

  async signerFor(gun: string, role: ServerKeyRole, root: RootSigned): Promise<Signer | null> {
    for (const id of root.roles[role]?.keyids ?? []) {
      const held = await this.#row(id);
      if (held === null || held.row.gun !== gun || held.row.role !== role) continue;
      let s = this.#signers.get(id);
      if (s === undefined) {
        s = this.#decrypt(held);
        keep(this.#signers, id, s);
        s.catch(() => this.#signers.delete(id));
      }
      return s;
    }
    return null;
  }

  async #decrypt(held: HeldKey): Promise<Signer> {
    const der = await this.#cipher.decrypt(held.row.privateKey, aad(held.row));
    let key: crypto.KeyObject;
    try {
      key = crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } catch (cause) {
      throw new SignetError('KEY_FILE', 'a stored server key does not decode', { cause });
    }
    return localSigner(key, held.publicKey);
  }

  /**
   * Start-up check: the passphrase decrypts a stored key. A server started with another passphrase
   * would otherwise run healthy and fail every publish that needs a stored key.
   */
  async checkPassphrase(): Promise<void> {
    const row = await this.#keys.first();
    if (row === null) return;
    try {
      await this.#cipher.decrypt(row.privateKey, aad(row));
    } catch (cause) {
      throw new SignetError(
        'BAD_PASSPHRASE',
        'the signer passphrase does not decrypt the server keys stored in the database',
        {
          cause,
          fix: 'start the server with the passphrase it was first started with (--signer-passphrase-file, SIGNET_SIGNER_PASSPHRASE_FILE or SIGNET_SIGNER_PASSPHRASE; by default <data-dir>/signer.passphrase)',
        },
      );
    }
  }

  async markUsed(keyIds: string[], at: Date): Promise<void> {
    for (const id of keyIds) {
      if (this.#used.has(id)) continue;
      try {
        await this.#keys.markUsed(id, at);
        this.#used.add(id);
        const held = this.#rows.get(id);
        if (held !== undefined) held.row = { ...held.row, lastUsed: at };
      } catch (err) {
        if (!(err instanceof SignetError && err.code === 'KEY_NOT_FOUND')) throw err;
      }
    }
  }
}
