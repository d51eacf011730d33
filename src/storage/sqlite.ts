/**
 * SQLite backend: one file in WAL mode, two connections. The reader connection serves every read
 * outside a publish, so GETs never wait for a writer. Writes are short: `withGun` takes an
 * in-process per-GUN lock, buffers the rows written through its `tx` (its reads see them), and
 * when `fn` resolves applies them in one BEGIN IMMEDIATE transaction that re-checks the versions
 * (so a second process writing the same file cannot cause a lost update). SQLite has one writer
 * at a time, so holding its write lock while `fn` awaits signing would stall every other GUN.
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely, SqliteDialect, sql, type SqliteDatabase, type SqliteStatement } from 'kysely';
import { openSqlite, type SqliteConnection, type SqliteEngine } from './sqlite-driver.js';
import { SignetError } from '../errors.js';
import { migrateToLatestOrThrow } from './migrate.js';
import {
  applyRows,
  checkAgainst,
  checkBatch,
  deleteGunRows,
  maxVersions,
  prepareRows,
  type Db,
  type PreparedRow,
} from './queries.js';
import type { DatabaseSchema } from './schema/index.js';
import { KyselyServerKeyStore } from './server-keys.js';
import { StoreBase } from './store-base.js';
import type { AuditFields, MetaStore, MetaTx, MetaUpdate, StoredMeta, StoreLogger } from './types.js';
import { conflict, isRetryable, isUniqueViolation, storageError } from './db-errors.js';

const STATEMENT_CACHE = 128;
const COMMIT_ATTEMPTS = 4;
const BUSY_TIMEOUT_MS = 2000;
const CACHE_KIB = 4096;

/**
 * Kysely prepares every query anew; SQLite statements are reusable, so keep the most
 * recent ones (LRU). Safe because Kysely runs one query at a time per connection and we never
 * stream (iterate) results.
 */
function withStatementCache(db: SqliteConnection): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => db.close(),
    prepare(text: string): SqliteStatement {
      const hit = cache.get(text);
      if (hit !== undefined) {
        cache.delete(text);
        cache.set(text, hit);
        return hit;
      }
      const stmt = db.prepare(text);
      cache.set(text, stmt);
      if (cache.size > STATEMENT_CACHE) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) cache.delete(oldest);
      }
      return stmt;
    },
  };
}

function openConnection(file: string, readOnly: boolean, engine?: SqliteEngine): SqliteConnection {
  const db = openSqlite(file, engine === undefined ? {} : { engine });
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // page cache per connection (better-sqlite3's build default is 16 MiB, SQLite's 2 MiB): current
    // metadata is served from the server's own cache, so more would only hold memory (docs/performance.md)
    db.exec(`PRAGMA cache_size = -${CACHE_KIB}`);
    if (readOnly) {
      db.exec('PRAGMA query_only = ON');
    } else {
      db.exec('PRAGMA journal_mode = WAL');
      // FULL: a publish acknowledged to a client survives an OS crash too; otherwise clients could
      // hold newer metadata than the server after a restart (they would then see a rollback).
      db.exec('PRAGMA synchronous = FULL');
    }
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * Kysely takes no migration lock on SQLite, so two processes starting on one fresh file could both
 * create the tables. Run the migrator inside BEGIN IMMEDIATE (SQLite DDL is transactional): the
 * second process waits, then finds nothing to do. Busy beyond the timeout is retried.
 */
async function migrateExclusively(writer: Db, logger: StoreLogger): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await sql`begin immediate`.execute(writer);
    } catch (err) {
      if (isRetryable(err) && attempt < COMMIT_ATTEMPTS) {
        logger.warn({ attempt }, 'SQLite database busy while migrating, retrying');
        await new Promise((r) => setTimeout(r, 50 * attempt));
        continue;
      }
      throw err;
    }
    try {
      await migrateToLatestOrThrow(writer, 'sqlite');
      await sql`commit`.execute(writer);
      return;
    } catch (err) {
      await sql`rollback`.execute(writer).catch(() => undefined);
      throw err;
    }
  }
}

export async function openSqliteStore(file: string, logger: StoreLogger, engine?: SqliteEngine): Promise<MetaStore> {
  let wdb: SqliteConnection | undefined;
  let rdb: SqliteConnection | undefined;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const fresh = !existsSync(file);
    wdb = openConnection(file, false, engine);
    // server keys live here (encrypted, still): owner-only; SQLite gives -wal/-shm the same mode
    if (fresh) chmodSync(file, 0o600);
  } catch (err) {
    throw new SignetError('STORAGE', `cannot open SQLite database ${file}: ${(err as Error).message}`, {
      cause: err,
      fix: 'check that the data directory exists and is writable by the server user',
    });
  }
  const writer = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: withStatementCache(wdb) }) });
  try {
    await migrateExclusively(writer, logger);
    rdb = openConnection(file, true, engine);
  } catch (err) {
    await writer.destroy();
    throw storageError(err, `opening SQLite database ${file}`);
  }
  const reader = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: withStatementCache(rdb) }) });
  return new SqliteStore(reader, writer, logger);
}

class SqliteStore extends StoreBase {
  readonly keys: KyselyServerKeyStore;
  protected readonly dialect = 'sqlite';

  constructor(
    reader: Db,
    private readonly writer: Db,
    logger: StoreLogger,
  ) {
    super(reader, logger);
    this.keys = new KyselyServerKeyStore(reader, writer, async (body, audit) => {
      await this.audited('storing a server key', body, () => [typeof audit === 'function' ? audit() : audit]);
    });
  }

  async withGun<T>(gun: string, fn: (tx: MetaTx) => Promise<T>): Promise<T> {
    this.assertOpen();
    return this.locks.run(gun, async () => {
      const tx = new SqliteTx(this, gun);
      let result: T;
      try {
        result = await fn(tx);
      } finally {
        tx.open = false;
      }
      if (tx.pending.length > 0 || tx.audits.length > 0) await this.commit(gun, tx.pending, tx.audits);
      return result;
    });
  }

  /** Highest stored version per role, read through the reader connection. */
  storedMax(gun: string, roles: string[]): Promise<Map<string, number>> {
    return maxVersions(this.reader, gun, roles);
  }

  /** Runs `body` in BEGIN IMMEDIATE on the writer connection, retrying while the file is busy. */
  protected async writeTx<T>(what: string, body: (db: Db) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.writer.connection().execute(async (conn) => {
          await sql`begin immediate`.execute(conn);
          try {
            const out = await body(conn);
            await sql`commit`.execute(conn);
            return out;
          } catch (err) {
            await sql`rollback`.execute(conn).catch(() => undefined);
            throw err;
          }
        });
      } catch (err) {
        if (err instanceof SignetError) throw err;
        if (isRetryable(err) && attempt < COMMIT_ATTEMPTS) {
          this.logger.warn({ err, attempt, what }, 'SQLite database busy, retrying');
          await new Promise((r) => setTimeout(r, 20 * attempt));
          continue;
        }
        if (isRetryable(err)) {
          throw new SignetError('CONFLICT', `${what}: the SQLite database stayed busy`, {
            cause: err,
            fix: 'another process is writing the same database file; retry later',
          });
        }
        throw storageError(err, what);
      }
    }
  }

  private async commit(gun: string, rows: PreparedRow[], audits: AuditFields[]): Promise<void> {
    try {
      await this.audited(`storing metadata of ${gun}`, (conn) => applyRows(conn, gun, rows), audits);
    } catch (err) {
      if (isUniqueViolation(err) || isUniqueViolation((err as { cause?: unknown }).cause)) {
        const r = rows[0] ?? { role: 'audit', version: 0 };
        throw conflict(r.role, r.version, 'another writer stored the same version first');
      }
      throw err;
    }
  }

  async deleteGun(gun: string, audit?: AuditFields): Promise<boolean> {
    this.assertOpen();
    return this.locks.run(gun, async () => {
      const { value } = await this.audited(
        `deleting ${gun}`,
        (conn) => deleteGunRows(conn, gun, Date.now()),
        // the entry says whether anything was deleted, known only inside the transaction
        (deleted) => (audit === undefined ? [] : [{ ...audit, deleted }]),
      );
      return value;
    });
  }

  protected async closeHandles(): Promise<void> {
    await this.reader.destroy();
    await this.writer.destroy();
  }
}

/** A publish in progress: stored rows read through the reader, plus this publish's own rows. */
class SqliteTx implements MetaTx {
  open = true;
  readonly pending: PreparedRow[] = [];
  readonly audits: AuditFields[] = [];

  constructor(
    private readonly store: SqliteStore,
    private readonly gun: string,
  ) {}

  private own(gun: string, pick: (r: PreparedRow) => boolean): StoredMeta | null {
    if (gun !== this.gun) return null;
    let best: PreparedRow | undefined;
    for (const r of this.pending) if (pick(r) && (best === undefined || r.version > best.version)) best = r;
    return best === undefined
      ? null
      : {
          gun,
          role: best.role,
          version: best.version,
          sha256: best.sha256,
          data: best.data,
          createdAt: new Date(best.createdAt),
        };
  }

  private assertOpen(): void {
    if (!this.open) throw new SignetError('INTERNAL', 'metadata transaction used after withGun finished');
  }

  async getLatest(gun: string, role: string): Promise<StoredMeta | null> {
    this.assertOpen();
    return this.own(gun, (r) => r.role === role) ?? this.store.getLatest(gun, role);
  }

  async getByVersion(gun: string, role: string, version: number): Promise<StoredMeta | null> {
    this.assertOpen();
    return (
      this.own(gun, (r) => r.role === role && r.version === version) ?? this.store.getByVersion(gun, role, version)
    );
  }

  async getByChecksum(gun: string, role: string, sha256hex: string): Promise<StoredMeta | null> {
    this.assertOpen();
    const want = sha256hex.toLowerCase();
    return this.own(gun, (r) => r.role === role && r.sha256 === want) ?? this.store.getByChecksum(gun, role, sha256hex);
  }

  audit(fields: AuditFields): void {
    this.assertOpen();
    this.audits.push(fields);
  }

  async updateMany(gun: string, updates: MetaUpdate[]): Promise<void> {
    this.assertOpen();
    if (gun !== this.gun) {
      throw new SignetError('INTERNAL', `transaction for ${this.gun} cannot write ${gun}`);
    }
    checkBatch(updates);
    if (updates.length === 0) return;
    let max: Map<string, number>;
    try {
      max = await this.store.storedMax(gun, [...new Set(updates.map((u) => u.role))]);
    } catch (err) {
      throw storageError(err, `reading versions of ${gun}`);
    }
    for (const r of this.pending) if ((max.get(r.role) ?? -1) < r.version) max.set(r.role, r.version);
    checkAgainst(updates, max);
    this.pending.push(...prepareRows(updates, Date.now()));
  }
}
