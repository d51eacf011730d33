import { Migrator, type Kysely } from 'kysely';
import { SignetError } from '../errors.js';
import { migrationProvider, type MigrationDialect } from './migrations/index.js';

/**
 * Applies every pending migration, or throws SignetError('STORAGE') naming the failed one.
 * Safe to run at every start and from several servers at once (Kysely takes a migration lock).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the migrator works on any schema
export async function migrateToLatestOrThrow(db: Kysely<any>, dialect: MigrationDialect): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider(dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new SignetError(
      'STORAGE',
      `database migration ${failed ?? '(before running any)'} failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, fix: 'check that the database is reachable, writable, and not from a newer Signet version' },
    );
  }
}
