import type { ColumnType } from 'kysely';

/** `server_keys`: timestamp/snapshot private keys held by the server, encrypted by the signer (N:proto/signer.proto). */
export const tableName = 'server_keys';

export interface ServerKeysTable {
  /** TUF key id */
  id: string;
  gun: string;
  role: string;
  algorithm: string;
  public_key: string;
  /** ciphertext produced by the signer */
  private_key: Buffer;
  /** milliseconds since the epoch */
  created_at: ColumnType<number | string, number, number>;
  /** milliseconds since the epoch; null until the key first signs */
  last_used: ColumnType<number | string | null, number | null, number | null>;
}

export interface PartialDB {
  [tableName]: ServerKeysTable;
}
