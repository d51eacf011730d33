/**
 * The one handling of server-held keys, shared by the trust server's built-in signer
 * (local-signer.ts) and the gRPC signer service (grpc/service.ts): ECDSA P-256 keys whose rows
 * (GUN, role, public key, times) are in the storage layer's key table, the private part kept by a
 * KeyCustody (custody.ts: encrypted in the row, or on a PKCS#11 token the row names), rows and
 * signers cached in memory.
 * notary-signer's lifecycle (N:signer/keydbstore/sql_keydbstore.go, keydbstore.go): `unusedOrNew`
 * hands out a created-but-never-used key of the same gun/role/algorithm again; a key becomes
 * "used" once it has signed.
 */
import crypto from 'node:crypto';
import { SignetError } from '../errors.js';
import type { AuditFields, ServerKeyRow, ServerKeyStore } from '../storage/index.js';
import { publicKeyFromSpki, type PublicKey, type Signer } from '../tuf/index.js';
import { EncryptedCustody, type KeyCustody } from './custody.js';
import type { ServerKeyRole } from './types.js';

/** The only algorithm this signer makes and signs with. */
export const SERVER_KEY_ALGORITHM = 'ecdsa';
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

export interface HeldKey {
  row: ServerKeyRow;
  publicKey: PublicKey;
}

export class ServerKeyring {
  readonly #keys: ServerKeyStore;
  readonly #custody: KeyCustody;
  readonly #now: () => Date;
  /** key id → signer (a decrypted key or a token key; never serialised) */
  readonly #signers = new Map<string, Promise<Signer>>();
  /** key id → row as last read (rows never change except lastUsed) */
  readonly #rows = new Map<string, HeldKey>();
  readonly #used = new Set<string>();
  /** key id → time until which "not held" is trusted without asking the database again */
  readonly #absent = new Map<string, number>();

  /** `custody` keeps the private parts; else they are encrypted under `passphrase` (EncryptedCustody). */
  constructor(opts: { keys: ServerKeyStore; passphrase?: string; custody?: KeyCustody; now?: () => Date }) {
    this.#keys = opts.keys;
    const custody = opts.custody ?? (opts.passphrase !== undefined ? new EncryptedCustody(opts.passphrase) : undefined);
    if (custody === undefined)
      throw new SignetError('USAGE', 'server keys need a signer passphrase or a PKCS#11 token');
    this.#custody = custody;
    this.#now = opts.now ?? (() => new Date());
  }

  toJSON(): string {
    return '[ServerKeyring]';
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

  /** The stored key with this id, or null. */
  async get(id: string): Promise<HeldKey | null> {
    const cached = this.#rows.get(id);
    if (cached !== undefined) return cached;
    // Client-held keys are looked up on every publish; another process sharing the database may
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

  /**
   * The key as the database holds it now (no cache): a key another instance sharing the database
   * deleted is forgotten here too. The signer service signs only with keys still stored.
   */
  async current(id: string): Promise<HeldKey | null> {
    const row = await this.#keys.get(id);
    if (row === null) {
      this.#forget(id);
      return null;
    }
    const cached = this.#rows.get(id);
    if (cached !== undefined && cached.row.publicKey === row.publicKey) {
      if (row.lastUsed !== null) this.#used.add(id);
      return cached;
    }
    this.#signers.delete(id);
    return this.#remember(row);
  }

  #forget(id: string): void {
    this.#rows.delete(id);
    this.#signers.delete(id);
    this.#used.delete(id);
  }

  /** A new key, stored with `audit` (plus gun, role, keyId, algorithm) in one transaction when given. */
  async create(gun: string, role: ServerKeyRole, audit?: AuditFields): Promise<PublicKey> {
    const { publicKey: pk, stored, signer } = await this.#custody.generate(gun, role);
    const row: ServerKeyRow = {
      id: pk.id,
      gun,
      role,
      algorithm: SERVER_KEY_ALGORITHM,
      publicKey: pk.public,
      privateKey: stored,
      createdAt: this.#now(),
      lastUsed: null,
    };
    try {
      await this.#keys.insert(
        row,
        audit === undefined ? undefined : { ...audit, gun, role, keyId: pk.id, algorithm: SERVER_KEY_ALGORITHM },
      );
    } catch (err) {
      // a key no row records would never be used or deleted: removed again (a token object)
      await this.#custody.destroy?.(stored).catch(() => undefined);
      throw err;
    }
    this.#absent.delete(row.id);
    this.#remember(row);
    keep(this.#signers, pk.id, Promise.resolve(signer));
    return pk;
  }

  /** notary-signer's `Create`: an unused key of gun+role handed out again, else a new one. */
  async unusedOrNew(
    gun: string,
    role: ServerKeyRole,
    audit?: AuditFields,
  ): Promise<{ key: PublicKey; created: boolean }> {
    const unused = await this.#keys.findUnused(gun, role, SERVER_KEY_ALGORITHM);
    if (unused !== null && !this.#used.has(unused.id)) return { key: this.#remember(unused).publicKey, created: false };
    return { key: await this.create(gun, role, audit), created: true };
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
    if (this.#custody.wrap === undefined)
      throw new SignetError('USAGE', 'keys cannot be imported into this signer (its keys are generated on a token)');
    const stored = await this.#custody.wrap(privateKey, { gun: key.gun, role: key.role, id: pk.id });
    await this.#keys.insert({
      id: pk.id,
      gun: key.gun,
      role: key.role,
      algorithm: SERVER_KEY_ALGORITHM,
      publicKey: spki.toString('base64'),
      privateKey: stored,
      createdAt: key.createdAt,
      lastUsed: key.lastUsed,
    });
    this.#absent.delete(pk.id);
    return { id: pk.id, imported: true };
  }

  /** The signer of a held key (decrypted or looked up once, then kept in memory). */
  signer(held: HeldKey): Promise<Signer> {
    const id = held.row.id;
    let s = this.#signers.get(id);
    if (s === undefined) {
      s = this.#custody.signer(held.row, held.publicKey);
      keep(this.#signers, id, s);
      s.catch(() => this.#signers.delete(id));
    }
    return s;
  }

  /**
   * Start-up check: the custody can use a stored key (the passphrase decrypts it; a token-held key
   * is not served by the passphrase and the reverse). A signer that cannot would otherwise run
   * healthy and fail every request that needs a stored key.
   */
  async checkPassphrase(): Promise<void> {
    await this.#custody.check(await this.#keys.first());
  }

  /** Marks keys as used; unknown ids are ignored. */
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

  /** Deletes a key (and forgets it here); an unknown id is not an error. Returns whether a key was deleted. */
  async delete(id: string, audit?: AuditFields): Promise<boolean> {
    const destroy = this.#custody.destroy?.bind(this.#custody);
    const row = destroy !== undefined ? await this.#keys.get(id) : null;
    const deleted = await this.#keys.delete(id, audit);
    this.#forget(id);
    // the row (and its audit entry) goes first: a token object left by a failure here signs nothing
    if (deleted && row !== null && destroy !== undefined) await destroy(row.privateKey);
    return deleted;
  }
}
