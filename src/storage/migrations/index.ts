/**
 * Static list of migrations (no directory scanning: safe for bundling and ESM). Names sort in
 * execution order; never rename or edit a released migration, add a new one.
 */
import type { Migration, MigrationProvider } from 'kysely';
import { migration as m0001 } from './0001-initial.js';
import { migration as m0002 } from './0002-audit-log.js';

export type MigrationDialect = 'sqlite' | 'postgres';

export function getMigrations(dialect: MigrationDialect): Record<string, Migration> {
  return {
    '0001-initial': m0001(dialect),
    '0002-audit-log': m0002(dialect),
  };
}

export function migrationProvider(dialect: MigrationDialect): MigrationProvider {
  return { getMigrations: async () => getMigrations(dialect) };
}
