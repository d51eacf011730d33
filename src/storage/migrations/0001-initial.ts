/**
 * Initial schema. Frozen in time: imports nothing from app code; the dialect is passed in because
 * BLOB/bytea and auto-increment columns differ between SQLite and PostgreSQL.
 */
import { sql, type Kysely, type Migration } from 'kysely';

export function migration(dialect: 'sqlite' | 'postgres'): Migration {
  const pg = dialect === 'postgres';
  const bytes = pg ? 'bytea' : 'blob';
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations must not know app types
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('tuf_files')
        .addColumn('id', pg ? 'bigint' : 'integer', (c) =>
          pg ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey(),
        )
        .addColumn('gun', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('data', bytes, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      // (gun, role, version) unique: getLatest/getByVersion are one index seek.
      await db.schema
        .createIndex('tuf_files_gun_role_version')
        .unique()
        .on('tuf_files')
        .columns(['gun', 'role', 'version'])
        .execute();
      await db.schema
        .createIndex('tuf_files_gun_role_sha256')
        .on('tuf_files')
        // version last: a checksum GET is one seek, ordered, without touching other versions
        .columns(['gun', 'role', 'sha256', 'version'])
        .execute();

      await db.schema
        .createTable('changefeed')
        .addColumn('id', pg ? 'bigint' : 'integer', (c) =>
          // AUTOINCREMENT: ids are never reused, even after the newest rows are deleted
          pg ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement(),
        )
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('gun', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('category', 'text', (c) => c.notNull().check(sql`category in ('update', 'deletion')`))
        .execute();
      await db.schema.createIndex('changefeed_gun_id').on('changefeed').columns(['gun', 'id']).execute();

      await db.schema
        .createTable('server_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('gun', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('algorithm', 'text', (c) => c.notNull())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('private_key', bytes, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used', 'bigint')
        .execute();
      await db.schema.createIndex('server_keys_gun_role').on('server_keys').columns(['gun', 'role']).execute();
    },
  };
}
