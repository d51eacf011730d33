import type { ColumnType } from 'kysely';

/**
 * `audit_log`: the hash-chained audit trail. `entry` is the canonical JSON of the record including
 * its `seq`, `time` and `prev` (the previous entry's hash); `hash` is the sha256 of `entry`.
 */
export const tableName = 'audit_log';

export interface AuditLogTable {
  /** 1, 2, 3, … assigned under the chain lock, never reused */
  seq: ColumnType<number | string, number, never>;
  /** milliseconds since the epoch */
  created_at: ColumnType<number | string, number, never>;
  entry: string;
  /** lowercase hex sha256 of `entry` */
  hash: string;
}

export interface PartialDB {
  [tableName]: AuditLogTable;
}
