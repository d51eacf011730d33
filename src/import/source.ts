/**
 * What `signet server import` reads from a notary deployment: notary-server's `tuf_files` and
 * `changefeed` tables and notary-signer's `private_keys` table (schemas: notary
 * `migrations/server/postgresql/0001_initial.up.sql`, `0002_changefeed.up.sql`,
 * `migrations/signer/postgresql/0001_initial.up.sql`; models: `server/storage/sql_models.go`,
 * `signer/keydbstore/sql_keydbstore.go`). Rows soft-deleted by gorm (`deleted_at` set) are not live.
 */
import pg from 'pg';
import { SignetError } from '../errors.js';
import type { StoredMeta } from '../storage/index.js';

/** One `tuf_files` row: the same fields as a Signet row; `sha256` is the column as notary recorded it. */
export type SourceFile = StoredMeta;

/** One `changefeed` row. */
export interface SourceChange {
  id: string;
  gun: string;
  version: number;
  sha256: string;
  category: 'update' | 'deletion';
  createdAt: Date;
}

/** One live `private_keys` row; `private` is the JWE text. */
export interface SourceKey {
  keyId: string;
  algorithm: string;
  encryptionAlg: string;
  keywrapAlg: string;
  passphraseAlias: string;
  /** DER SubjectPublicKeyInfo for ecdsa/rsa */
  public: Buffer;
  private: string;
  gun: string;
  role: string;
  createdAt: Date;
  /** null when never used (gorm writes Go's zero time for an unset `last_used`) */
  lastUsed: Date | null;
}

export interface NotarySource {
  /** Every GUN with live `tuf_files` rows, sorted. */
  guns(): Promise<string[]>;
  /** The GUN's live rows, by role then version. */
  files(gun: string): Promise<SourceFile[]>;
  /** The whole changefeed, by id. */
  changes(): Promise<SourceChange[]>;
  /** Live signer keys, oldest first; [] when no signer database was given. */
  keys(): Promise<SourceKey[]>;
  close(): Promise<void>;
}

/** Go's zero time and NULL both mean "never". */
export function usedAt(ms: number | null): Date | null {
  return ms === null || !Number.isFinite(ms) || ms <= 0 ? null : new Date(ms);
}

function sourceError(err: unknown, what: string, fix: string): SignetError {
  if (err instanceof SignetError) return err;
  return new SignetError('STORAGE', `${what}: ${err instanceof Error ? err.message : String(err)}`, {
    cause: err,
    fix,
  });
}

// `timestamp without time zone` columns hold UTC (notary's containers and the Go driver write UTC);
// extract(epoch …) reads them as UTC whatever the session time zone is.
const MS = (col: string): string => `floor(extract(epoch from ${col}) * 1000)::float8`;

/** notary-server's database (and optionally notary-signer's) on PostgreSQL. */
export function openPostgresSource(serverUrl: string, signerUrl: string | undefined): NotarySource {
  const server = new pg.Pool({ connectionString: serverUrl, max: 2, connectionTimeoutMillis: 10_000 });
  const signer =
    signerUrl === undefined
      ? undefined
      : new pg.Pool({ connectionString: signerUrl, max: 1, connectionTimeoutMillis: 10_000 });
  for (const p of [server, signer]) p?.on('error', () => undefined);
  const fixServer =
    'check --from-server-db: a postgres:// URL of notary-server’s database (tables tuf_files, changefeed)';
  const q = async <R extends pg.QueryResultRow>(
    pool: pg.Pool,
    text: string,
    args: unknown[],
    fix: string,
  ): Promise<R[]> => {
    try {
      return (await pool.query<R>(text, args)).rows;
    } catch (err) {
      throw sourceError(err, 'reading the notary database', fix);
    }
  };
  return {
    async guns() {
      const rows = await q<{ gun: string }>(
        server,
        'select distinct gun from tuf_files where deleted_at is null order by gun',
        [],
        fixServer,
      );
      return rows.map((r) => r.gun);
    },
    async files(gun) {
      const rows = await q<{ role: string; version: number; sha256: string | null; data: Buffer; ms: number | null }>(
        server,
        `select role, version, sha256, data, ${MS('created_at')} as ms from tuf_files
         where gun = $1 and deleted_at is null order by role, version`,
        [gun],
        fixServer,
      );
      return rows.map((r) => ({
        gun,
        role: r.role,
        version: r.version,
        sha256: (r.sha256 ?? '').trim().toLowerCase(),
        data: r.data,
        createdAt: new Date(r.ms ?? 0),
      }));
    },
    async changes() {
      const rows = await q<{
        id: number;
        gun: string;
        version: number;
        sha256: string | null;
        category: string;
        ms: number | null;
      }>(
        server,
        `select id, gun, version, sha256, category, ${MS('created_at')} as ms from changefeed order by id`,
        [],
        fixServer,
      );
      return rows.map((r) => ({
        id: String(r.id),
        gun: r.gun,
        version: r.version,
        sha256: (r.sha256 ?? '').trim().toLowerCase(),
        category: r.category === 'deletion' ? 'deletion' : 'update',
        createdAt: new Date(r.ms ?? 0),
      }));
    },
    async keys() {
      if (signer === undefined) return [];
      const rows = await q<{
        key_id: string;
        algorithm: string;
        encryption_alg: string;
        keywrap_alg: string;
        passphrase_alias: string;
        public: Buffer;
        private: Buffer;
        gun: string;
        role: string;
        ms: number | null;
        used: number | null;
      }>(
        signer,
        `select key_id, algorithm, encryption_alg, keywrap_alg, passphrase_alias, public, private, gun, role,
                ${MS('created_at')} as ms, ${MS('last_used')} as used
         from private_keys where deleted_at is null order by id`,
        [],
        'check --from-signer-db: a postgres:// URL of notary-signer’s database (table private_keys)',
      );
      return rows.map((r) => ({
        keyId: r.key_id,
        algorithm: r.algorithm,
        encryptionAlg: r.encryption_alg,
        keywrapAlg: r.keywrap_alg,
        passphraseAlias: r.passphrase_alias,
        public: r.public,
        private: r.private.toString('utf8'),
        gun: r.gun,
        role: r.role,
        createdAt: new Date(r.ms ?? 0),
        lastUsed: usedAt(r.used),
      }));
    },
    async close() {
      await Promise.all([server.end(), signer?.end()]);
    },
  };
}
