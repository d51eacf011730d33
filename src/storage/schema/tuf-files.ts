import type { ColumnType, Generated } from 'kysely';

/**
 * `tuf_files`: one row per published TUF file (N:server/storage/sqldb.go). Unique on (gun, role, version);
 * indexed on (gun, role, sha256) for checksum GETs.
 */
export const tableName = 'tuf_files';

export interface TufFilesTable {
  /** SQLite rowid alias / PostgreSQL identity; pg returns int8 as a string */
  id: Generated<number | string>;
  gun: string;
  role: string;
  version: number;
  /** lowercase hex sha256 of `data` */
  sha256: string;
  data: Buffer;
  /** milliseconds since the epoch (int8 on PostgreSQL, returned as a string by pg) */
  created_at: ColumnType<number | string, number, number>;
}

export interface PartialDB {
  [tableName]: TufFilesTable;
}
