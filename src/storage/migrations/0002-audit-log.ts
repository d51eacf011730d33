/**
 * The audit trail table. Frozen in time like 0001: imports nothing from app code. `seq` is set by
 * the writer (previous + 1 under the chain lock), not by the database, so a gap means a removal.
 */
import type { Kysely, Migration } from 'kysely';

export function migration(dialect: 'sqlite' | 'postgres'): Migration {
  const pg = dialect === 'postgres';
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations must not know app types
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('audit_log')
        .addColumn('seq', pg ? 'bigint' : 'integer', (c) => c.primaryKey())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('entry', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
    },
  };
}
