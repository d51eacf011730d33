/**
 * The storage contract of the trust server (N:server/storage/sqldb.go, N:server/handlers/changefeed.go, N:proto/signer.proto).
 * Every backend (SQLite, PostgreSQL) implements exactly these interfaces and runs the same
 * contract suite (`test/storage/contract.ts`). Bytes are the truth: `data` is stored and returned
 * verbatim, never re-serialised.
 */

/** One stored TUF file: a row (gun, role, version) with the exact bytes that were published. */
export interface StoredMeta {
  gun: string;
  role: string;
  version: number;
  /** lowercase hex sha256 of `data` */
  sha256: string;
  data: Buffer;
  /** when the row was written, millisecond precision */
  createdAt: Date;
}

/** One file of a publish. The sha256 is computed by the store. */
export interface MetaUpdate {
  role: string;
  /** integer in [0, 2^31-1] (notary stores it as an SQL integer) */
  version: number;
  data: Buffer;
  /**
   * When the file was first stored, for history carried over from another server (`signet server
   * import`); default: now. A timestamp's changefeed record takes the same time.
   */
  createdAt?: Date;
  /** hex sha256 of `data` when the caller has it already (the server's publish, for its audit entry) */
  sha256?: string;
}

/** A changefeed entry as notary-server returns it (N:server/handlers/changefeed.go); the server renames fields for the wire. */
export interface ChangeRecord {
  /** monotonically increasing integer, as a decimal string */
  id: string;
  /** Go RFC3339Nano in UTC, e.g. `2026-01-02T03:04:05.12Z` (trailing zeros of the fraction dropped) */
  createdAt: string;
  gun: string;
  /** timestamp version for 'update'; 0 for 'deletion' */
  version: number;
  /** hex sha256 of the timestamp bytes for 'update'; '' for 'deletion' */
  sha256: string;
  category: 'update' | 'deletion';
}

/** A server-held private key (timestamp / snapshot). `privateKey` is already encrypted by the signer. */
export interface ServerKeyRow {
  /** TUF key id */
  id: string;
  gun: string;
  role: 'timestamp' | 'snapshot';
  /** 'ecdsa' | 'ed25519' | … as the signer names it */
  algorithm: string;
  /** key JSON or base64, opaque to the store */
  publicKey: string;
  /** ciphertext, opaque to the store */
  privateKey: Buffer;
  /** millisecond precision */
  createdAt: Date;
  /** null until the key first signs (notary-signer "active" keys, N:proto/signer.proto) */
  lastUsed: Date | null;
}

/** A JSON value of an audit entry (integers only; no key material ever goes in). */
export type AuditValue =
  string | number | boolean | null | readonly AuditValue[] | { readonly [k: string]: AuditValue | undefined };

/** What a caller records; `seq`, `time`, `prev` and `hash` are set by the chain. Undefined fields are left out. */
export type AuditFields = { readonly [k: string]: AuditValue | undefined };

/** One stored entry of the hash-chained audit trail (storage/audit.ts). */
export interface AuditEntry {
  /** 1, 2, 3, … with no gaps, across restarts and servers */
  seq: number;
  /** milliseconds since the epoch (also inside `text` as `time`) */
  createdAt: number;
  /** canonical JSON of the entry: the caller's fields, seq, time, prev */
  text: string;
  /** lowercase hex sha256 of `text` */
  hash: string;
}

/** A break in the chain found by verification, named by the seq where it shows. */
export interface AuditProblem {
  seq: number;
  kind: 'missing' | 'order' | 'edited' | 'chain';
  message: string;
}

export interface AuditStore {
  /** Appends entries in a transaction of their own (records of refused requests). */
  append(fields: readonly AuditFields[]): Promise<AuditEntry[]>;
  /** Entries with seq > `afterSeq`, oldest first, at most `limit`. */
  list(opts: { afterSeq: number; limit: number }): Promise<AuditEntry[]>;
  /** The newest `limit` entries, newest first (the dashboard's recent list). */
  recent(limit: number): Promise<AuditEntry[]>;
  /** Called after each commit that appended entries, through this store handle only. */
  onAppend(listener: (entries: readonly AuditEntry[]) => void): () => void;
}

/**
 * A change of a GUN's current metadata, seen by `MetaStore.onChange`: a stored timestamp
 * (`version`) or a deletion (`deleted`, version 0); `resync` = changes may have been missed.
 */
export type StoreChange = { kind: 'gun'; gun: string; version: number; deleted: boolean } | { kind: 'resync' };

export interface MetaReader {
  /** The row of `role` in `gun` with the highest version, or null if the role has no rows. */
  getLatest(gun: string, role: string): Promise<StoredMeta | null>;
  /** The row with exactly this version, or null. */
  getByVersion(gun: string, role: string, version: number): Promise<StoredMeta | null>;
  /**
   * A row of `role` in `gun` whose bytes hash to `sha256hex` (compared lowercase), or null.
   * If several versions have identical bytes (impossible for signed TUF files, whose version is
   * inside the bytes), the highest version is returned.
   */
  getByChecksum(gun: string, role: string, sha256hex: string): Promise<StoredMeta | null>;
}

export interface MetaTx extends MetaReader {
  /**
   * All-or-nothing: every update's version must be strictly greater than every stored version of
   * that role and must not repeat (same role, same version) within the call; otherwise throws
   * SignetError('CONFLICT') with details `{role, version}` and writes nothing (the whole enclosing
   * `withGun` is then rolled back when the error propagates). A timestamp update also appends a
   * changefeed 'update' record (its version and the sha256 of its bytes). An empty list is a no-op.
   * `gun` must be the GUN the transaction was opened for, else SignetError('INTERNAL').
   * Reads made through the same `tx` after this call see these rows.
   * A version outside [0, 2^31-1] or non-integer throws SignetError('USAGE').
   */
  updateMany(gun: string, updates: MetaUpdate[]): Promise<void>;
  /**
   * Appends an audit entry in this transaction: it is committed with the writes (and only if they
   * are), before `withGun` resolves. Entries of one transaction get consecutive seqs, in call order.
   */
  audit(fields: AuditFields): void;
}

export interface MetaStore extends MetaReader {
  /**
   * Runs `fn` in one transaction holding an exclusive lock on `gun` (in-process mutex per GUN,
   * plus on PostgreSQL `pg_advisory_xact_lock` on a hash of the GUN so several servers sharing a
   * database serialise too). Concurrent `withGun` calls on one GUN never interleave: the reads
   * inside see every write committed before the lock was taken. Different GUNs do not wait for
   * each other. If `fn` throws, nothing written through `tx` is kept and the error propagates
   * unchanged. Writes become visible to other readers only when `fn` has resolved and the commit
   * succeeded. A deadlock / serialisation failure while taking the lock or committing (PostgreSQL),
   * or a database kept busy by another process (SQLite), is retried a few times (on PostgreSQL by
   * re-running `fn`), then SignetError('CONFLICT'). Errors thrown by `fn` are never retried.
   * A unique-key race with another writer is CONFLICT. Any other database failure: STORAGE.
   * Do not call `withGun` for the same GUN from inside `fn` (it would wait for itself).
   */
  withGun<T>(gun: string, fn: (tx: MetaTx) => Promise<T>): Promise<T>;
  /** Same as `withGun(gun, tx => tx.updateMany(gun, updates))`. */
  updateMany(gun: string, updates: MetaUpdate[]): Promise<void>;
  /**
   * Hard-deletes every TUF row whose GUN equals `gun` exactly (no prefix matching: deleting `a/b`
   * leaves `a/b2`) and, if any row existed, appends a changefeed 'deletion' record (version 0,
   * sha256 ''). Server-held keys are NOT deleted. Takes the same per-GUN lock as `withGun`.
   * Returns whether anything was deleted. `audit` (with `deleted` set to the result) is appended to
   * the audit trail in the same transaction.
   */
  deleteGun(gun: string, audit?: AuditFields): Promise<boolean>;
  /**
   * notary's changefeed query (N:server/handlers/changefeed.go, `N:server/storage/sqldb.go` GetChanges):
   * - `changeId` '' = from the beginning; a negative id (e.g. '-1') = from the latest, going backwards;
   *   any other id is excluded from the result (strictly after it, or strictly before it backwards);
   * - `records` < 0 = go backwards taking |records|; 0 = 100;
   * - `gun` undefined or '' = all GUNs, else exactly that GUN;
   * - the result is always oldest first.
   * A `changeId` that is not a decimal integer throws SignetError('USAGE') with details
   * `{param: 'change_id'}`; a non-finite `records`, USAGE with `{param: 'records'}`.
   */
  getChanges(opts: { changeId: string; records: number; gun?: string }): Promise<ChangeRecord[]>;
  /** Server-held keys (signer); rows are stored as given (already encrypted). */
  keys: ServerKeyStore;
  /** The hash-chained audit trail. */
  audit: AuditStore;
  /**
   * Changes committed by other processes sharing the database (PostgreSQL LISTEN/NOTIFY on
   * `signet_changes`, sent by every publish and delete in its transaction), for cache
   * invalidation; after a lost connection, one `resync`. SQLite (one process per file): never called.
   */
  onChange(listener: (change: StoreChange) => void): () => void;
  /** Whether other processes may write this database (PostgreSQL); change notices can then lag. */
  readonly shared: boolean;
  /** Number of distinct GUNs having at least one TUF row (for metrics). */
  countGuns(): Promise<number>;
  /** Resolves if the database answers a trivial query; else SignetError('STORAGE'). */
  ping(): Promise<void>;
  /** Closes the database handles; the store must not be used afterwards. */
  close(): Promise<void>;
}

export interface ServerKeyStore {
  /**
   * Stores a new key; `audit` is appended to the audit trail in the same transaction. An existing
   * id throws SignetError('CONFLICT') and changes nothing.
   */
  insert(row: ServerKeyRow, audit?: AuditFields): Promise<void>;
  /** The key with this id, or null. */
  get(id: string): Promise<ServerKeyRow | null>;
  /**
   * The newest key (by createdAt, then id) for gun+role+algorithm whose `lastUsed` is null, or null
   * (notary-signer hands out a created-but-unused key again instead of creating another one).
   */
  findUnused(gun: string, role: string, algorithm: string): Promise<ServerKeyRow | null>;
  /** Every key of gun+role, oldest first (by createdAt, then id). */
  listFor(gun: string, role: string): Promise<ServerKeyRow[]>;
  /** Sets lastUsed = `at`. An unknown id throws SignetError('KEY_NOT_FOUND'). */
  markUsed(id: string, at: Date): Promise<void>;
  /**
   * Deletes the key with this id; `audit` (with `deleted` set to the result) is appended in the same
   * transaction. An unknown id deletes nothing and is not an error (notary-signer's DeleteKey,
   * N:signer/keydbstore/sql_keydbstore.go RemoveKey). Returns whether a key was deleted.
   */
  delete(id: string, audit?: AuditFields): Promise<boolean>;
  /** Any one key (the oldest), or null when none is stored: the start-up passphrase check. */
  first(): Promise<ServerKeyRow | null>;
  /**
   * Deletes the keys that never signed, were created before `createdBefore`, and belong to a GUN
   * with no published metadata (a client asked for a key and never published). Returns the count.
   */
  deleteUnpublished(createdBefore: Date): Promise<number>;
}

/** Options of `openStore`; config arrives as arguments, nothing is read from the environment. */
export interface OpenStoreOptions {
  /** `postgres://…` / `postgresql://…` for PostgreSQL; `sqlite:<path>` for an explicit SQLite file */
  database?: string;
  /** directory holding the SQLite file `signet.db` (created if missing); used when `database` is unset */
  dataDir?: string;
  /** receives retries and other recoverable trouble */
  logger?: StoreLogger;
  /** PostgreSQL pool size (default 10); at most half of it is used by `withGun` transactions */
  poolSize?: number;
  /**
   * PostgreSQL: run the role GETs as named prepared statements (default true). Turn off behind a
   * pooler in transaction mode that cannot keep prepared statements (PgBouncer before 1.21).
   */
  preparedStatements?: boolean;
  /** SQLite engine: the runtime's `node:sqlite` where it exists (default), else better-sqlite3 */
  sqliteEngine?: 'node' | 'better-sqlite3';
}

/** Where a store reports what it recovered from (a pino logger fits). */
export type StoreLogger = { warn(o: object, msg: string): void };
