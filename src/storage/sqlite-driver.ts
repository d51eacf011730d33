/**
 * The SQLite engine under Kysely. Node 22.13+ and 24 carry SQLite in the runtime (`node:sqlite`),
 * so no native module has to be compiled for them; Node 20 has none and uses better-sqlite3.
 * `SIGNET_SQLITE=better-sqlite3|node` chooses explicitly (the tests run the storage contract on both).
 *
 * Both engines are wrapped to the one shape Kysely's SqliteDialect drives (`prepare` → `reader`,
 * `all`, `run`, `iterate`), with better-sqlite3's conventions: parameters as one array, BLOBs as
 * Buffer, and errors carrying better-sqlite3's `code` names (`SQLITE_BUSY`, …) that storage/db-errors.ts
 * classifies.
 */
import { createRequire } from 'node:module';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { SignetError } from '../errors.js';

export type SqliteEngine = 'node' | 'better-sqlite3';

export interface SqliteConnection extends SqliteDatabase {
  readonly engine: SqliteEngine;
  /** Runs SQL without results (PRAGMA settings, DDL). */
  exec(text: string): void;
  /** The first column of the first row of a query (e.g. `PRAGMA journal_mode`). */
  pluck(text: string): unknown;
  close(): void;
}

const require = createRequire(import.meta.url);

/** The subset of node:sqlite's DatabaseSync used here (typed locally: @types/node 20 lacks it). */
interface NodeStatement {
  all(...params: unknown[]): Record<string, unknown>[];
  run(...params: unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  iterate(...params: unknown[]): IterableIterator<Record<string, unknown>>;
  columns(): unknown[];
}
interface NodeDatabase {
  prepare(text: string): NodeStatement;
  exec(text: string): void;
  close(): void;
}
type NodeSqlite = { DatabaseSync: new (file: string, opts?: { readOnly?: boolean }) => NodeDatabase };

let nodeSqlite: NodeSqlite | null | undefined;

/**
 * `node:sqlite` when the runtime has it. Node 22 announces it with an ExperimentalWarning on load;
 * the server's users did not opt into anything experimental by name, so that one warning is
 * dropped (every other warning still goes through).
 */
function loadNodeSqlite(): NodeSqlite | null {
  if (nodeSqlite !== undefined) return nodeSqlite;
  const emit = process.emitWarning;
  process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]) {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (/SQLite is an experimental feature/.test(text)) return;
    return (emit as (...a: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    nodeSqlite = require('node:sqlite') as NodeSqlite;
  } catch {
    nodeSqlite = null;
  } finally {
    process.emitWarning = emit;
  }
  return nodeSqlite;
}

export function sqliteEngine(env: NodeJS.ProcessEnv = process.env): SqliteEngine {
  const chosen = env['SIGNET_SQLITE'];
  if (chosen === 'better-sqlite3' || chosen === 'node') return chosen;
  return loadNodeSqlite() !== null ? 'node' : 'better-sqlite3';
}

export function openSqlite(file: string, opts: { readOnly?: boolean; engine?: SqliteEngine } = {}): SqliteConnection {
  const engine = opts.engine ?? sqliteEngine();
  return engine === 'node' ? openNode(file, opts.readOnly === true) : openBetter(file, opts.readOnly === true);
}

function openBetter(file: string, readOnly: boolean): SqliteConnection {
  let Database: typeof import('better-sqlite3');
  try {
    Database = require('better-sqlite3') as typeof import('better-sqlite3');
  } catch (err) {
    throw new SignetError(
      'STORAGE',
      `SQLite is not available: better-sqlite3 did not load (${(err as Error).message})`,
      {
        cause: err,
        fix:
          'use Node.js 22.13 or later, which has SQLite built in; or on Node 20 reinstall so that better-sqlite3 ' +
          'compiles (npm ci needs python3, make and g++ when no prebuilt binary can be downloaded); ' +
          'or use PostgreSQL with --database postgres://…',
      },
    );
  }
  const db = new Database(file, readOnly ? { readonly: true } : {});
  return {
    engine: 'better-sqlite3',
    prepare: (text) => db.prepare(text) as unknown as SqliteStatement,
    exec: (text) => void db.exec(text),
    pluck: (text) => db.prepare(text).pluck().get(),
    close: () => void db.close(),
  };
}

function openNode(file: string, readOnly: boolean): SqliteConnection {
  const mod = loadNodeSqlite();
  if (mod === null)
    throw new Error('this Node.js has no node:sqlite (Node 22.13 or later has it); unset SIGNET_SQLITE');
  const db = guard(() => new mod.DatabaseSync(file, readOnly ? { readOnly: true } : {}));
  return {
    engine: 'node',
    prepare: (text) => nodeStatement(guard(() => db.prepare(text))),
    exec: (text) => guard(() => db.exec(text)),
    pluck: (text) => {
      const row = guard(() => db.prepare(text).all())[0];
      return row === undefined ? undefined : Object.values(row)[0];
    },
    close: () => db.close(),
  };
}

function nodeStatement(stmt: NodeStatement): SqliteStatement {
  return {
    reader: stmt.columns().length > 0,
    all: (params) => guard(() => stmt.all(...params)).map(buffers),
    run: (params) => guard(() => stmt.run(...params)),
    iterate: function* (params) {
      for (const row of guard(() => stmt.iterate(...params))) yield buffers(row);
    },
  };
}

/** BLOB columns come back as Uint8Array from node:sqlite; the storage code expects Buffer. */
function buffers(row: Record<string, unknown>): Record<string, unknown> {
  for (const k in row) {
    const v = row[k];
    if (v instanceof Uint8Array && !Buffer.isBuffer(v)) row[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }
  return row;
}

/** SQLite (extended) result codes → better-sqlite3's names, for the ones storage/db-errors.ts acts on. */
const CODE_NAMES: Record<number, string> = {
  5: 'SQLITE_BUSY',
  261: 'SQLITE_BUSY_RECOVERY',
  517: 'SQLITE_BUSY_SNAPSHOT',
  6: 'SQLITE_LOCKED',
  19: 'SQLITE_CONSTRAINT',
  1555: 'SQLITE_CONSTRAINT_PRIMARYKEY',
  2067: 'SQLITE_CONSTRAINT_UNIQUE',
};

function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const errcode = (err as { errcode?: unknown }).errcode;
    if (typeof errcode === 'number') {
      Object.defineProperty(err, 'code', {
        value: CODE_NAMES[errcode] ?? `SQLITE_ERROR_${errcode}`,
        configurable: true,
      });
    }
    throw err;
  }
}
