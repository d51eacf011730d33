import type { ColumnType, Generated } from 'kysely';

/** `changefeed`: one row per stored timestamp version and per GUN deletion (N:server/handlers/changefeed.go). */
export const tableName = 'changefeed';

export interface ChangefeedTable {
  /** monotonically increasing (SQLite AUTOINCREMENT / PostgreSQL identity, never reused) */
  id: Generated<number | string>;
  /** milliseconds since the epoch */
  created_at: ColumnType<number | string, number, number>;
  gun: string;
  version: number;
  sha256: string;
  category: 'update' | 'deletion';
}

export interface PartialDB {
  [tableName]: ChangefeedTable;
}
