/**
 * PostgreSQL backend: one `pg` Pool shared by reads and publishes, so several stateless servers
 * can share one database. `withGun` runs `fn` in a real transaction that first takes
 * `pg_advisory_xact_lock(namespace, hashtext(gun))`; the lock is released by COMMIT/ROLLBACK.
 * An in-process per-GUN mutex in front of it keeps waiting publishes from pinning pool clients.
 */
import { Kysely, PostgresDialect, sql, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import { SignetError } from '../errors.js';
import { appendAudit } from './audit.js';
import { migrateToLatestOrThrow } from './migrate.js';
import { ChangeListener, notifyChange } from './pg-changes.js';
import { applyRows, checkBatch, deleteGunRows, MetaQueries, prepareRows, type Db } from './queries.js';
import type { DatabaseSchema } from './schema/index.js';
import { KyselyServerKeyStore } from './server-keys.js';
import { StoreBase } from './store-base.js';
import type {
  AuditEntry,
  AuditFields,
  MetaStore,
  MetaTx,
  MetaUpdate,
  StoreChange,
  StoredMeta,
  StoreLogger,
} from './types.js';
import { Semaphore } from './concurrency.js';
import { conflict, isRetryable, isUniqueViolation, storageError } from './db-errors.js';

/** First key of the two-int4 advisory lock: 'SIGN' in ASCII, so other users of the database don't collide. */
const LOCK_NAMESPACE = 0x5349474e;
const TX_ATTEMPTS = 4;
/** Longest wait after a commit for this store's own change notice (see ChangeListener.heardOf). */
const NOTICE_WAIT_MS = 250;

/** Carries an error thrown by the caller's `fn` through the rollback, so it is rethrown unchanged. */
class FromCaller {
  constructor(readonly error: unknown) {}
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/**
 * Wraps the pool so the registered hot queries (role GETs) run as named prepared statements: pg
 * parses and plans each once per connection instead of once per request. Only a fixed set of SQL
 * texts is named, so the per-connection statement cache cannot grow without bound.
 */
function preparingPool(pool: pg.Pool, hot: Map<string, string>): PostgresPool {
  const wrapped = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      let w = wrapped.get(client);
      if (w === undefined) {
        const query = (text: unknown, values?: ReadonlyArray<unknown>): unknown => {
          const name = typeof text === 'string' ? hot.get(text) : undefined;
          if (name !== undefined) return client.query({ name, text: text as string, values: values as unknown[] });
          // eslint-disable-next-line @typescript-eslint/no-explicit-any -- passes Kysely's two call shapes through
          return (client.query as (...a: any[]) => unknown)(text, values);
        };
        w = { query, release: (destroy?: boolean) => client.release(destroy) } as unknown as PostgresPoolClient;
        wrapped.set(client, w);
      }
      return w;
    },
    end: () => pool.end(),
  };
}

export async function openPostgresStore(
  url: string,
  logger: StoreLogger,
  opts: { poolSize?: number; preparedStatements?: boolean } = {},
): Promise<MetaStore> {
  const poolSize = opts.poolSize ?? 10;
  // connectionTimeoutMillis: a starved or unreachable database fails as STORAGE instead of hanging
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 10_000 });
  // An idle client losing its connection emits 'error' on the pool; without a listener it would
  // crash the process. The next query gets a fresh client.
  pool.on('error', (err) => logger.warn({ err: err.message }, 'PostgreSQL idle client error'));
  const hot = new Map<string, string>();
  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool: preparingPool(pool, hot) }) });
  try {
    await migrateToLatestOrThrow(db, 'postgres');
  } catch (err) {
    await db.destroy().catch(() => undefined);
    const inner = err instanceof SignetError && err.cause !== undefined ? err.cause : err;
    throw new SignetError(
      'STORAGE',
      `cannot open PostgreSQL database ${redactUrl(url)}: ${inner instanceof Error ? inner.message : String(inner)}`,
      { cause: err, fix: 'check the database URL, that PostgreSQL is running, and the credentials' },
    );
  }
  const store = new PostgresStore(db, logger, poolSize, new ChangeListener(url, logger));
  if (opts.preparedStatements !== false) store.hotSql.forEach((text, i) => hot.set(text, `signet_hot_${i}`));
  return store;
}

class PostgresStore extends StoreBase {
  readonly keys: KyselyServerKeyStore;
  protected readonly dialect = 'postgres';
  /**
   * A transaction pins a pool client while `fn` may itself need one (the signer reads and inserts
   * keys). Letting at most half the pool into transactions keeps clients free for those and for
   * GETs, so a burst of publishes to many GUNs cannot exhaust the pool and wait on itself.
   */
  private readonly txSlots: Semaphore;

  constructor(
    private readonly db: Db,
    logger: StoreLogger,
    poolSize: number,
    private readonly changes: ChangeListener,
  ) {
    super(db, logger);
    this.keys = new KyselyServerKeyStore(db, db, async (body, audit) => {
      await this.audited('storing a server key', body, () => [typeof audit === 'function' ? audit() : audit]);
    });
    this.txSlots = new Semaphore(poolSize / 2);
  }

  override onChange(listener: (change: StoreChange) => void): () => void {
    return this.changes.subscribe(listener);
  }

  protected async writeTx<T>(what: string, body: (db: Db) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction().execute(body);
    } catch (err) {
      if (err instanceof SignetError) throw err;
      throw storageError(err, what);
    }
  }

  get hotSql(): string[] {
    return this.queries.hotSql;
  }

  /** Runs `body` in a transaction holding the GUN's advisory lock; retries transient failures. */
  private async lockedTx<T>(gun: string, what: string, body: (trx: Db) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute(async (trx) => {
          await sql`select pg_advisory_xact_lock(${LOCK_NAMESPACE}::int4, hashtext(${gun}))`.execute(trx);
          return body(trx);
        });
      } catch (err) {
        if (err instanceof FromCaller) throw err.error;
        if (err instanceof SignetError) throw err;
        if (isUniqueViolation(err)) {
          throw new SignetError('CONFLICT', `${what}: another writer stored the same version first`, { cause: err });
        }
        if (isRetryable(err)) {
          if (attempt < TX_ATTEMPTS) {
            this.logger.warn(
              { code: (err as { code?: unknown }).code, attempt, what },
              'PostgreSQL transaction retried',
            );
            await new Promise((r) => setTimeout(r, 10 * attempt));
            continue;
          }
          throw new SignetError('CONFLICT', `${what}: gave up after ${attempt} attempts`, { cause: err });
        }
        throw storageError(err, what);
      }
    }
  }

  async withGun<T>(gun: string, fn: (tx: MetaTx) => Promise<T>): Promise<T> {
    this.assertOpen();
    let entries: AuditEntry[] = [];
    let announced: number | undefined;
    const result = await this.locks.run(gun, () =>
      this.txSlots.run(() =>
        this.lockedTx(gun, `publishing ${gun}`, async (trx) => {
          const tx = new PostgresTx(trx, this.queries, gun);
          let out: T;
          try {
            out = await fn(tx);
          } catch (err) {
            throw new FromCaller(err);
          } finally {
            tx.open = false;
          }
          entries = await appendAudit(trx, 'postgres', tx.audits);
          if (tx.timestampVersion !== undefined) await notifyChange(trx, gun, tx.timestampVersion, false);
          announced = tx.timestampVersion;
          return out;
        }),
      ),
    );
    this.auditListeners.emit(entries);
    if (announced !== undefined) await this.changes.heardOf(gun, announced, NOTICE_WAIT_MS);
    return result;
  }

  async deleteGun(gun: string, audit?: AuditFields): Promise<boolean> {
    this.assertOpen();
    let entries: AuditEntry[] = [];
    const deleted = await this.locks.run(gun, () =>
      this.txSlots.run(() =>
        this.lockedTx(gun, `deleting ${gun}`, async (trx) => {
          const done = await deleteGunRows(trx, gun, Date.now());
          entries = audit === undefined ? [] : await appendAudit(trx, 'postgres', [{ ...audit, deleted: done }]);
          if (done) await notifyChange(trx, gun, 0, true);
          return done;
        }),
      ),
    );
    this.auditListeners.emit(entries);
    return deleted;
  }

  protected async closeHandles(): Promise<void> {
    await this.changes.close();
    await this.db.destroy();
  }
}

class PostgresTx implements MetaTx {
  open = true;
  readonly audits: AuditFields[] = [];
  /** the highest timestamp version written (for the change notice) */
  timestampVersion: number | undefined;

  constructor(
    private readonly trx: Db,
    private readonly queries: MetaQueries,
    private readonly gun: string,
  ) {}

  private assertOpen(): void {
    if (!this.open) throw new SignetError('INTERNAL', 'metadata transaction used after withGun finished');
  }

  private async read<T>(what: string, q: () => Promise<T>): Promise<T> {
    this.assertOpen();
    try {
      return await q();
    } catch (err) {
      throw storageError(err, what);
    }
  }

  getLatest(gun: string, role: string): Promise<StoredMeta | null> {
    return this.read(`reading ${gun} ${role}`, () => this.queries.getLatest(this.trx, gun, role));
  }

  getByVersion(gun: string, role: string, version: number): Promise<StoredMeta | null> {
    return this.read(`reading ${gun} ${role}`, () => this.queries.getByVersion(this.trx, gun, role, version));
  }

  getByChecksum(gun: string, role: string, sha256hex: string): Promise<StoredMeta | null> {
    return this.read(`reading ${gun} ${role}`, () => this.queries.getByChecksum(this.trx, gun, role, sha256hex));
  }

  audit(fields: AuditFields): void {
    this.assertOpen();
    this.audits.push(fields);
  }

  async updateMany(gun: string, updates: MetaUpdate[]): Promise<void> {
    this.assertOpen();
    if (gun !== this.gun) throw new SignetError('INTERNAL', `transaction for ${this.gun} cannot write ${gun}`);
    checkBatch(updates);
    const rows = prepareRows(updates, Date.now());
    try {
      await applyRows(this.trx, gun, rows);
      for (const r of rows) {
        if (r.role === 'timestamp' && r.version > (this.timestampVersion ?? -1)) this.timestampVersion = r.version;
      }
    } catch (err) {
      if (err instanceof SignetError) throw err;
      if (isUniqueViolation(err)) {
        const r = rows[0]!;
        throw conflict(r.role, r.version, 'another writer stored the same version first');
      }
      throw storageError(err, `storing metadata of ${gun}`);
    }
  }
}
