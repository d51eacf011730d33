import { SignetError } from '../errors.js';
import type { Db } from './queries.js';
import type { ServerKeysTable } from './schema/index.js';
import type { AuditFields, ServerKeyRow, ServerKeyStore } from './types.js';
import { toNumber } from './columns.js';
import { isUniqueViolation, storageError } from './db-errors.js';
import type { Selectable } from 'kysely';

function toRow(r: Selectable<ServerKeysTable>): ServerKeyRow {
  return {
    id: r.id,
    gun: r.gun,
    role: r.role as ServerKeyRow['role'],
    algorithm: r.algorithm,
    publicKey: r.public_key,
    privateKey: r.private_key,
    createdAt: new Date(toNumber(r.created_at)),
    lastUsed: r.last_used === null ? null : new Date(toNumber(r.last_used)),
  };
}

/**
 * Server-held keys over Kysely. `reader` serves lookups, `writer` takes inserts and updates (on
 * SQLite they are two connections to one WAL file, on PostgreSQL the same pool).
 */
export class KyselyServerKeyStore implements ServerKeyStore {
  constructor(
    private readonly reader: Db,
    private readonly writer: Db,
    /** runs `body` and appends `audit` in one transaction (the store's `audited`) */
    private readonly withAudit: (
      body: (db: Db) => Promise<void>,
      audit: AuditFields | (() => AuditFields),
    ) => Promise<void>,
  ) {}

  async insert(row: ServerKeyRow, audit?: AuditFields): Promise<void> {
    const write = async (db: Db): Promise<void> => {
      await db
        .insertInto('server_keys')
        .values({
          id: row.id,
          gun: row.gun,
          role: row.role,
          algorithm: row.algorithm,
          public_key: row.publicKey,
          private_key: row.privateKey,
          created_at: row.createdAt.getTime(),
          last_used: row.lastUsed === null ? null : row.lastUsed.getTime(),
        })
        .execute();
    };
    try {
      await (audit === undefined ? write(this.writer) : this.withAudit(write, audit));
    } catch (err) {
      if (isUniqueViolation(err) || isUniqueViolation((err as { cause?: unknown }).cause)) {
        throw new SignetError('CONFLICT', `a server key with id ${row.id} already exists`, {
          cause: err,
          details: { id: row.id },
        });
      }
      throw storageError(err, 'storing a server key');
    }
  }

  async get(id: string): Promise<ServerKeyRow | null> {
    try {
      const r = await this.reader.selectFrom('server_keys').selectAll().where('id', '=', id).executeTakeFirst();
      return r === undefined ? null : toRow(r);
    } catch (err) {
      throw storageError(err, 'reading a server key');
    }
  }

  async findUnused(gun: string, role: string, algorithm: string): Promise<ServerKeyRow | null> {
    try {
      const r = await this.reader
        .selectFrom('server_keys')
        .selectAll()
        .where('gun', '=', gun)
        .where('role', '=', role)
        .where('algorithm', '=', algorithm)
        .where('last_used', 'is', null)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      return r === undefined ? null : toRow(r);
    } catch (err) {
      throw storageError(err, 'looking up an unused server key');
    }
  }

  async listFor(gun: string, role: string): Promise<ServerKeyRow[]> {
    try {
      const rows = await this.reader
        .selectFrom('server_keys')
        .selectAll()
        .where('gun', '=', gun)
        .where('role', '=', role)
        .orderBy('created_at', 'asc')
        .orderBy('id', 'asc')
        .execute();
      return rows.map(toRow);
    } catch (err) {
      throw storageError(err, 'listing server keys');
    }
  }

  async markUsed(id: string, at: Date): Promise<void> {
    let n: number;
    try {
      const res = await this.writer
        .updateTable('server_keys')
        .set({ last_used: at.getTime() })
        .where('id', '=', id)
        .executeTakeFirst();
      n = toNumber(res.numUpdatedRows);
    } catch (err) {
      throw storageError(err, 'marking a server key used');
    }
    if (n === 0) throw new SignetError('KEY_NOT_FOUND', `no server key with id ${id}`, { details: { id } });
  }

  async delete(id: string, audit?: AuditFields): Promise<boolean> {
    let deleted = false;
    const remove = async (db: Db): Promise<void> => {
      const res = await db.deleteFrom('server_keys').where('id', '=', id).executeTakeFirst();
      deleted = toNumber(res.numDeletedRows) > 0;
    };
    try {
      if (audit === undefined) await remove(this.writer);
      else {
        // the entry says whether a key went: it is made after the delete, in the same transaction
        await this.withAudit(remove, () => ({ ...audit, deleted }));
      }
    } catch (err) {
      throw storageError(err, 'deleting a server key');
    }
    return deleted;
  }

  async first(): Promise<ServerKeyRow | null> {
    try {
      const r = await this.reader
        .selectFrom('server_keys')
        .selectAll()
        .orderBy('created_at', 'asc')
        .orderBy('id', 'asc')
        .limit(1)
        .executeTakeFirst();
      return r === undefined ? null : toRow(r);
    } catch (err) {
      throw storageError(err, 'reading a server key');
    }
  }

  async deleteUnpublished(createdBefore: Date): Promise<number> {
    try {
      const res = await this.writer
        .deleteFrom('server_keys')
        .where('last_used', 'is', null)
        .where('created_at', '<', createdBefore.getTime())
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('tuf_files').select('tuf_files.id').whereRef('tuf_files.gun', '=', 'server_keys.gun'))),
        )
        .executeTakeFirst();
      return toNumber(res.numDeletedRows);
    } catch (err) {
      throw storageError(err, 'deleting unpublished server keys');
    }
  }
}
