import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqlite, openStore, SQLITE_FILE, sqliteEngine, type SqliteEngine } from '../../src/storage/index.js';
import { auditContract } from './audit-contract.js';
import { storeContract, type StoreFixture } from './contract.js';

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'signet-sqlite-'));
}

/**
 * The runtime's default engine always; the other one too where it loads here (better-sqlite3 is
 * built for the Node that ran `npm ci`, node:sqlite exists from Node 22.13 on).
 */
function engines(): SqliteEngine[] {
  const all: SqliteEngine[] = [sqliteEngine()];
  const other: SqliteEngine = all[0] === 'node' ? 'better-sqlite3' : 'node';
  try {
    openSqlite(':memory:', { engine: other }).close();
    all.push(other);
  } catch {
    // not available on this runtime: the default engine is the one the server uses here
  }
  return all;
}

for (const engine of engines()) {
  const fixture = async (): Promise<StoreFixture> => {
    const dir = tempDir();
    return {
      open: () => openStore({ dataDir: dir, sqliteEngine: engine }),
      dispose: async () => rmSync(dir, { recursive: true, force: true }),
    };
  };
  storeContract(`SQLite (${engine})`, fixture);
  auditContract(`SQLite (${engine})`, fixture);
}

/** Rows of a read-only query on the raw file, through the same engine wrapper the store uses. */
function rows(file: string, text: string): Record<string, unknown>[] {
  const raw = openSqlite(file, { readOnly: true });
  try {
    return raw.prepare(text).all([]) as Record<string, unknown>[];
  } finally {
    raw.close();
  }
}

describe('SQLite backend', () => {
  it('creates <dataDir>/signet.db owner-only in WAL mode, creating the directory if needed', async () => {
    const dir = path.join(tempDir(), 'nested', 'data');
    const s = await openStore({ dataDir: dir });
    try {
      await s.updateMany('g', [{ role: 'root', version: 1, data: Buffer.from('r') }]);
      const file = path.join(dir, SQLITE_FILE);
      expect(existsSync(file)).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(`${file}-wal`).mode & 0o777).toBe(0o600);
      expect(rows(file, 'pragma journal_mode')).toEqual([{ journal_mode: 'wal' }]);
      expect(rows(file, 'select name from kysely_migration order by name')).toEqual([
        { name: '0001-initial' },
        { name: '0002-audit-log' },
      ]);
      const idx = rows(file, "select name from sqlite_master where type = 'index' and tbl_name = 'tuf_files'");
      expect(idx.map((r) => r['name']).sort()).toEqual(['tuf_files_gun_role_sha256', 'tuf_files_gun_role_version']);
    } finally {
      await s.close();
    }
  });

  it('uses the indexes for the role GETs (no table scan)', async () => {
    const dir = tempDir();
    const s = await openStore({ dataDir: dir });
    await s.close();
    {
      const plan = (q: string): string =>
        rows(path.join(dir, SQLITE_FILE), `explain query plan ${q}`)
          .map((r) => r['detail'])
          .join('; ');
      expect(plan("select data from tuf_files where gun = 'g' and role = 'r' order by version desc limit 1")).toMatch(
        /USING INDEX tuf_files_gun_role_version/,
      );
      expect(
        plan(
          "select data from tuf_files where gun = 'g' and role = 'r' and sha256 = 'x' order by version desc limit 1",
        ),
      ).toMatch(/USING INDEX tuf_files_gun_role_sha256/);
    }
  });

  it('accepts an explicit sqlite:<file> database', async () => {
    const file = path.join(tempDir(), 'explicit.db');
    const s = await openStore({ database: `sqlite:${file}` });
    await s.updateMany('g', [{ role: 'root', version: 1, data: Buffer.from('r') }]);
    await s.close();
    expect(existsSync(file)).toBe(true);
  });

  it('refuses a missing configuration or an unknown URL scheme with USAGE', async () => {
    await expect(openStore({})).rejects.toMatchObject({ code: 'USAGE' });
    await expect(openStore({ database: 'mysql://x/y' })).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('reports an unusable data directory as STORAGE', async () => {
    const file = path.join(tempDir(), 'not-a-dir');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, 'x');
    await expect(openStore({ dataDir: file })).rejects.toMatchObject({ code: 'STORAGE' });
  });

  it('reports a file that is not a database as STORAGE', async () => {
    const dir = tempDir();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path.join(dir, SQLITE_FILE), 'this is not an sqlite file, just text '.repeat(200));
    await expect(openStore({ dataDir: dir })).rejects.toMatchObject({ code: 'STORAGE' });
  });
});

describe('SQLite migrations', () => {
  it('migrate once when two stores open one fresh file at the same time', async () => {
    const dir = tempDir();
    const stores = await Promise.all([openStore({ dataDir: dir }), openStore({ dataDir: dir })]);
    try {
      await stores[0].updateMany('g', [{ role: 'root', version: 1, data: Buffer.from('r') }]);
      expect((await stores[1].getLatest('g', 'root'))!.version).toBe(1);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
    expect(rows(path.join(dir, SQLITE_FILE), 'select name from kysely_migration order by name')).toEqual([
      { name: '0001-initial' },
      { name: '0002-audit-log' },
    ]);
  });
});
