/**
 * Storage of the trust server: TUF metadata rows, the changefeed and server-held keys, over Kysely
 * with SQLite (default, `<dataDir>/signet.db`) or PostgreSQL (`postgres://…`). See types.ts for the
 * contract of every method; `test/storage/contract.ts` checks it against both backends.
 */
import { join } from 'node:path';
import { SignetError } from '../errors.js';
import { openPostgresStore } from './postgres.js';
import { openSqliteStore } from './sqlite.js';
import type { MetaStore, OpenStoreOptions, StoreLogger } from './types.js';

export type {
  AuditEntry,
  AuditFields,
  AuditProblem,
  AuditStore,
  AuditValue,
  StoreChange,
  ChangeRecord,
  MetaReader,
  MetaStore,
  MetaTx,
  MetaUpdate,
  OpenStoreOptions,
  ServerKeyRow,
  ServerKeyStore,
  StoredMeta,
  StoreLogger,
} from './types.js';
export { rfc3339Nano } from './columns.js';
export { AuditChainCheck, canonicalJson, GENESIS_HASH } from './audit.js';
export { openSqlite, sqliteEngine, type SqliteConnection, type SqliteEngine } from './sqlite-driver.js';

const silentLogger: StoreLogger = { warn: () => undefined };

/** File name of the SQLite database inside the data directory. */
export const SQLITE_FILE = 'signet.db';

/**
 * Opens (and migrates to the latest schema) the configured database:
 * `database` = `postgres://…`/`postgresql://…` → PostgreSQL; `sqlite:<path>` → that SQLite file;
 * otherwise `<dataDir>/signet.db`. Neither set, or another URL scheme: SignetError('USAGE').
 * Unreachable database or failed migration: SignetError('STORAGE').
 */
export async function openStore(opts: OpenStoreOptions): Promise<MetaStore> {
  const logger = opts.logger ?? silentLogger;
  const database = opts.database?.trim();
  if (database !== undefined && database !== '') {
    if (/^postgres(ql)?:\/\//i.test(database))
      return openPostgresStore(database, logger, {
        ...(opts.poolSize !== undefined && { poolSize: opts.poolSize }),
        ...(opts.preparedStatements !== undefined && { preparedStatements: opts.preparedStatements }),
      });
    if (database.startsWith('sqlite:')) {
      const file = database.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
      if (file === '') throw new SignetError('USAGE', 'the database URL sqlite: names no file');
      return openSqliteStore(file, logger, opts.sqliteEngine);
    }
    throw new SignetError('USAGE', 'unsupported database URL (expected postgres://… or sqlite:<file>)', {
      fix: 'use postgres://user:password@host:5432/dbname, or leave the database unset to use SQLite in the data directory',
    });
  }
  if (opts.dataDir === undefined || opts.dataDir === '') {
    throw new SignetError('USAGE', 'no database configured: set a PostgreSQL URL or a data directory for SQLite');
  }
  return openSqliteStore(join(opts.dataDir, SQLITE_FILE), logger, opts.sqliteEngine);
}
