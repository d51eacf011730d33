import { sql } from 'kysely';
import { SignetError } from '../errors.js';
import { appendAudit, AuditListeners, listAudit, recentAudit } from './audit.js';
import { countGuns, MetaQueries, queryChanges, type Db } from './queries.js';
import type {
  AuditEntry,
  AuditFields,
  AuditStore,
  ChangeRecord,
  MetaStore,
  MetaTx,
  MetaUpdate,
  ServerKeyStore,
  StoreChange,
  StoredMeta,
  StoreLogger,
} from './types.js';
import { KeyedMutex } from './concurrency.js';
import { storageError } from './db-errors.js';

/** What both backends share: reads through `reader`, the per-GUN in-process lock, bookkeeping. */
export abstract class StoreBase implements MetaStore {
  protected readonly locks = new KeyedMutex();
  protected readonly queries: MetaQueries;
  protected closed = false;
  protected readonly auditListeners = new AuditListeners();
  abstract readonly keys: ServerKeyStore;
  protected abstract readonly dialect: 'sqlite' | 'postgres';

  constructor(
    protected readonly reader: Db,
    protected readonly logger: StoreLogger,
  ) {
    this.queries = new MetaQueries(reader);
  }

  get shared(): boolean {
    return this.dialect === 'postgres';
  }

  abstract withGun<T>(gun: string, fn: (tx: MetaTx) => Promise<T>): Promise<T>;
  abstract deleteGun(gun: string): Promise<boolean>;
  protected abstract closeHandles(): Promise<void>;
  /** Runs `body` in one write transaction (no GUN lock). */
  protected abstract writeTx<T>(what: string, body: (db: Db) => Promise<T>): Promise<T>;

  readonly audit: AuditStore = {
    append: (fields) => this.audited('writing the audit trail', async () => undefined, fields).then((r) => r.entries),
    list: async ({ afterSeq, limit }) => {
      try {
        return await listAudit(this.reader, afterSeq, limit);
      } catch (err) {
        throw storageError(err, 'reading the audit trail');
      }
    },
    recent: async (limit) => {
      try {
        return await recentAudit(this.reader, limit);
      } catch (err) {
        throw storageError(err, 'reading the audit trail');
      }
    },
    onAppend: (l) => this.auditListeners.add(l),
  };

  /** `body` and the audit entries of `fields` in one transaction; listeners hear of them after the commit. */
  protected async audited<T>(
    what: string,
    body: (db: Db) => Promise<T>,
    fields: readonly AuditFields[] | ((value: T) => readonly AuditFields[]),
  ): Promise<{ value: T; entries: AuditEntry[] }> {
    this.assertOpen();
    const out = await this.writeTx(what, async (db) => {
      const value = await body(db);
      const f = typeof fields === 'function' ? fields(value) : fields;
      return { value, entries: await appendAudit(db, this.dialect, f) };
    });
    this.auditListeners.emit(out.entries);
    return out;
  }

  onChange(_listener: (change: StoreChange) => void): () => void {
    return () => undefined;
  }

  protected assertOpen(): void {
    if (this.closed) throw new SignetError('INTERNAL', 'the metadata store is closed');
  }

  async getLatest(gun: string, role: string): Promise<StoredMeta | null> {
    try {
      return await this.queries.getLatest(this.reader, gun, role);
    } catch (err) {
      throw storageError(err, `reading ${gun} ${role}`);
    }
  }

  async getByVersion(gun: string, role: string, version: number): Promise<StoredMeta | null> {
    try {
      return await this.queries.getByVersion(this.reader, gun, role, version);
    } catch (err) {
      throw storageError(err, `reading ${gun} ${role} version ${version}`);
    }
  }

  async getByChecksum(gun: string, role: string, sha256hex: string): Promise<StoredMeta | null> {
    try {
      return await this.queries.getByChecksum(this.reader, gun, role, sha256hex);
    } catch (err) {
      throw storageError(err, `reading ${gun} ${role} by checksum`);
    }
  }

  updateMany(gun: string, updates: MetaUpdate[]): Promise<void> {
    return this.withGun(gun, (tx) => tx.updateMany(gun, updates));
  }

  async getChanges(opts: { changeId: string; records: number; gun?: string }): Promise<ChangeRecord[]> {
    try {
      return await queryChanges(this.reader, opts);
    } catch (err) {
      throw storageError(err, 'reading the changefeed');
    }
  }

  async countGuns(): Promise<number> {
    try {
      return await countGuns(this.reader);
    } catch (err) {
      throw storageError(err, 'counting GUNs');
    }
  }

  async ping(): Promise<void> {
    this.assertOpen();
    try {
      await sql`select 1`.execute(this.reader);
    } catch (err) {
      throw storageError(err, 'database health check');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.closeHandles();
  }
}
