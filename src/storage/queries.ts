/**
 * Queries shared by both backends. The hot reads (role GETs) are compiled once with sentinel
 * parameters and re-executed with real values, so a GET costs one driver round trip and no query
 * building (and on SQLite, with the statement cache in sqlite.ts, no re-preparing either).
 */
import type { CompiledQuery, Kysely } from 'kysely';
import { SignetError } from '../errors.js';
import type { DatabaseSchema } from './schema/index.js';
import type { ChangeRecord, MetaUpdate, StoredMeta } from './types.js';
import { sha256Hex } from '../digest.js';
import { rfc3339Nano, toNumber } from './columns.js';
import { checkVersionRange, conflict } from './db-errors.js';

export type Db = Kysely<DatabaseSchema>;

const SENTINEL = '\u0000signet-param:';
const slot = (name: string): string => SENTINEL + name;

/** Turns a compiled query whose parameters include `slot(name)` values into a reusable template. */
type Template<R> = ((args: Record<string, unknown>) => CompiledQuery<R>) & { sql: string };

function template<R>(compiled: CompiledQuery<R>): Template<R> {
  const names = compiled.parameters.map((p) =>
    typeof p === 'string' && p.startsWith(SENTINEL) ? p.slice(SENTINEL.length) : undefined,
  );
  const fill = (args: Record<string, unknown>): CompiledQuery<R> => ({
    ...compiled,
    parameters: compiled.parameters.map((p, i) => {
      const name = names[i];
      return name === undefined ? p : args[name];
    }),
  });
  return Object.assign(fill, { sql: compiled.sql });
}

interface MetaRow {
  gun: string;
  role: string;
  version: number;
  sha256: string;
  data: Buffer;
  created_at: number | string;
}

function toStoredMeta(row: MetaRow): StoredMeta {
  return {
    gun: row.gun,
    role: row.role,
    version: row.version,
    sha256: row.sha256,
    data: row.data,
    createdAt: new Date(toNumber(row.created_at)),
  };
}

const META_COLUMNS = ['gun', 'role', 'version', 'sha256', 'data', 'created_at'] as const;

/** Precompiled role lookups for one Kysely instance (any connection of the same dialect). */
export class MetaQueries {
  readonly #latest: Template<MetaRow>;
  readonly #byVersion: Template<MetaRow>;
  readonly #byChecksum: Template<MetaRow>;

  constructor(db: Db) {
    this.#latest = template(
      db
        .selectFrom('tuf_files')
        .select(META_COLUMNS)
        .where('gun', '=', slot('gun'))
        .where('role', '=', slot('role'))
        .orderBy('version', 'desc')
        .limit(1)
        .compile(),
    );
    this.#byVersion = template(
      db
        .selectFrom('tuf_files')
        .select(META_COLUMNS)
        .where('gun', '=', slot('gun'))
        .where('role', '=', slot('role'))
        .where('version', '=', slot('version') as unknown as number)
        .compile(),
    );
    this.#byChecksum = template(
      db
        .selectFrom('tuf_files')
        .select(META_COLUMNS)
        .where('gun', '=', slot('gun'))
        .where('role', '=', slot('role'))
        .where('sha256', '=', slot('sha256'))
        .orderBy('version', 'desc')
        .limit(1)
        .compile(),
    );
  }

  /** SQL text of the hot queries (PostgreSQL turns these into named prepared statements). */
  get hotSql(): string[] {
    return [this.#latest.sql, this.#byVersion.sql, this.#byChecksum.sql];
  }

  async getLatest(db: Db, gun: string, role: string): Promise<StoredMeta | null> {
    const { rows } = await db.executeQuery(this.#latest({ gun, role }));
    return rows[0] === undefined ? null : toStoredMeta(rows[0]);
  }

  async getByVersion(db: Db, gun: string, role: string, version: number): Promise<StoredMeta | null> {
    if (!Number.isInteger(version)) return null;
    const { rows } = await db.executeQuery(this.#byVersion({ gun, role, version }));
    return rows[0] === undefined ? null : toStoredMeta(rows[0]);
  }

  async getByChecksum(db: Db, gun: string, role: string, sha256hex: string): Promise<StoredMeta | null> {
    const { rows } = await db.executeQuery(this.#byChecksum({ gun, role, sha256: sha256hex.toLowerCase() }));
    return rows[0] === undefined ? null : toStoredMeta(rows[0]);
  }
}

/** Range check of every update and "no (role, version) twice in one call"; throws before any I/O. */
export function checkBatch(updates: readonly MetaUpdate[]): void {
  const seen = new Set<string>();
  for (const u of updates) {
    checkVersionRange(u.role, u.version);
    const key = `${u.role}\u0000${u.version}`;
    if (seen.has(key)) throw conflict(u.role, u.version, 'the same version appears twice in one update');
    seen.add(key);
  }
}

/** Highest stored version per role (only roles that have rows). */
export async function maxVersions(db: Db, gun: string, roles: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (roles.length === 0) return out;
  const rows = await db
    .selectFrom('tuf_files')
    .select(['role', (eb) => eb.fn.max('version').as('max')])
    .where('gun', '=', gun)
    .where('role', 'in', roles)
    .groupBy('role')
    .execute();
  for (const r of rows) if (r.max !== null) out.set(r.role, toNumber(r.max));
  return out;
}

/** Throws CONFLICT for the first update not strictly above the stored maximum of its role. */
export function checkAgainst(
  updates: readonly Pick<MetaUpdate, 'role' | 'version'>[],
  max: ReadonlyMap<string, number>,
): void {
  for (const u of updates) {
    const stored = max.get(u.role);
    if (stored !== undefined && u.version <= stored) {
      throw conflict(u.role, u.version, `version ${stored} is already stored; versions must move strictly forward`);
    }
  }
}

export interface PreparedRow {
  role: string;
  version: number;
  sha256: string;
  data: Buffer;
  createdAt: number;
}

export function prepareRows(updates: readonly MetaUpdate[], now: number): PreparedRow[] {
  return updates.map((u) => ({
    role: u.role,
    version: u.version,
    data: u.data,
    sha256: u.sha256 ?? sha256Hex(u.data),
    createdAt: u.createdAt?.getTime() ?? now,
  }));
}

/**
 * Checks the versions against the database and inserts the rows plus the changefeed records of the
 * timestamp rows. Must run inside a transaction that excludes other writers of `gun`.
 */
export async function applyRows(db: Db, gun: string, rows: readonly PreparedRow[]): Promise<void> {
  if (rows.length === 0) return;
  checkAgainst(rows, await maxVersions(db, gun, [...new Set(rows.map((r) => r.role))]));
  await db
    .insertInto('tuf_files')
    .values(
      rows.map((r) => ({
        gun,
        role: r.role,
        version: r.version,
        sha256: r.sha256,
        data: r.data,
        created_at: r.createdAt,
      })),
    )
    .execute();
  const changes = rows
    .filter((r) => r.role === 'timestamp')
    .map((r) => ({ gun, version: r.version, sha256: r.sha256, category: 'update' as const, created_at: r.createdAt }));
  if (changes.length > 0) await db.insertInto('changefeed').values(changes).execute();
}

/** Deletes every row of exactly `gun`; appends a 'deletion' record if any existed. */
export async function deleteGunRows(db: Db, gun: string, now: number): Promise<boolean> {
  const res = await db.deleteFrom('tuf_files').where('gun', '=', gun).executeTakeFirst();
  const deleted = toNumber(res.numDeletedRows) > 0;
  if (deleted) {
    await db
      .insertInto('changefeed')
      .values({ gun, version: 0, sha256: '', category: 'deletion', created_at: now })
      .execute();
  }
  return deleted;
}

/** notary's GetChanges (`N:server/storage/sqldb.go`), see MetaStore.getChanges. */
export async function queryChanges(
  db: Db,
  opts: { changeId: string; records: number; gun?: string },
): Promise<ChangeRecord[]> {
  let id = 0;
  if (opts.changeId !== '') {
    if (!/^[+-]?\d{1,18}$/.test(opts.changeId)) {
      throw new SignetError('USAGE', `change ID expected to be integer, provided ID was: ${opts.changeId}`, {
        details: { param: 'change_id' },
      });
    }
    id = Number(opts.changeId);
  }
  if (!Number.isFinite(opts.records)) {
    throw new SignetError('USAGE', `records must be an integer, got ${String(opts.records)}`, {
      details: { param: 'records' },
    });
  }
  let records = Math.trunc(opts.records);
  let reversed = id < 0;
  if (records < 0) {
    reversed = true;
    records = -records;
  }
  if (records === 0) records = 100;

  let q = db.selectFrom('changefeed').select(['id', 'created_at', 'gun', 'version', 'sha256', 'category']);
  if (opts.gun !== undefined && opts.gun !== '') q = q.where('gun', '=', opts.gun);
  if (reversed) {
    if (id > 0) q = q.where('id', '<', id);
    q = q.orderBy('id', 'desc');
  } else {
    q = q.where('id', '>', id).orderBy('id', 'asc');
  }
  const rows = await q.limit(records).execute();
  if (reversed) rows.reverse();
  return rows.map((r) => ({
    id: String(r.id),
    createdAt: rfc3339Nano(toNumber(r.created_at)),
    gun: r.gun,
    version: r.version,
    sha256: r.sha256,
    category: r.category,
  }));
}

export async function countGuns(db: Db): Promise<number> {
  const row = await db
    .selectFrom('tuf_files')
    .select((eb) => eb.fn.count('gun').distinct().as('n'))
    .executeTakeFirstOrThrow();
  return toNumber(row.n);
}
