import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openStore } from '../../src/storage/index.js';
import { startPostgres } from '../harness/postgres.js';
import { auditContract } from './audit-contract.js';
import { storeContract, type StoreFixture } from './contract.js';

// Keeps this file's cluster up between the per-test databases.
let anchor: Awaited<ReturnType<typeof startPostgres>> | undefined;
beforeAll(async () => {
  anchor = await startPostgres();
});
afterAll(async () => {
  await anchor?.stop();
});

/** Runs `fn` with a fresh database and drops it afterwards. */
async function withDatabase(fn: (url: string) => Promise<void>): Promise<void> {
  const db = await startPostgres();
  try {
    await fn(db.url);
  } finally {
    await db.stop();
  }
}

/** Runs `fn` with a plain pg client on `url` (for looking at what the store made). */
async function withClient(url: string, fn: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await fn(client);
  } finally {
    await client.end();
  }
}

const pgFixture = async (): Promise<StoreFixture> => {
  const db = await startPostgres();
  return { open: () => openStore({ database: db.url }), dispose: () => db.stop() };
};
storeContract('PostgreSQL', pgFixture);
auditContract('PostgreSQL', pgFixture);

describe('test harness startPostgres', () => {
  it('gives every call its own empty database and drops it on stop', async () => {
    const [a, b] = await Promise.all([startPostgres(), startPostgres()]);
    expect(a.url).not.toBe(b.url);
    const sa = await openStore({ database: a.url });
    await sa.updateMany('g', [{ role: 'root', version: 1, data: Buffer.from('r') }]);
    await sa.close();
    const sb = await openStore({ database: b.url });
    expect(await sb.countGuns()).toBe(0);
    await sb.close();
    await a.stop();
    await b.stop();
    const err = await openStore({ database: a.url }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORAGE' });
  });
});

describe('PostgreSQL backend', () => {
  it('migrates once when several servers open a fresh database at the same time', () =>
    withDatabase(async (url) => {
      const stores = await Promise.all([1, 2, 3].map(() => openStore({ database: url })));
      await stores[0]!.updateMany('g', [{ role: 'root', version: 1, data: Buffer.from('r') }]);
      expect((await stores[2]!.getLatest('g', 'root'))!.data.toString()).toBe('r');
      await Promise.all(stores.map((s) => s.close()));
      await withClient(url, async (client) => {
        const { rows } = await client.query('select name from kysely_migration order by name');
        expect(rows).toEqual([{ name: '0001-initial' }, { name: '0002-audit-log' }]);
        const types = await client.query(
          "select column_name, data_type from information_schema.columns where table_name = 'tuf_files' order by column_name",
        );
        expect(types.rows).toContainEqual({ column_name: 'data', data_type: 'bytea' });
      });
    }));

  it('uses the indexes for the role GETs', () =>
    withDatabase(async (url) => {
      const s = await openStore({ database: url });
      await s.close();
      await withClient(url, async (client) => {
        await client.query('set enable_seqscan = off');
        const plan = async (q: string): Promise<string> =>
          (await client.query(`explain ${q}`)).rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
        expect(
          await plan("select data from tuf_files where gun = 'g' and role = 'r' order by version desc limit 1"),
        ).toMatch(/tuf_files_gun_role_version/);
        expect(
          await plan(
            "select data from tuf_files where gun = 'g' and role = 'r' and sha256 = 'x' order by version desc limit 1",
          ),
        ).toMatch(/tuf_files_gun_role_sha256/);
      });
    }));

  it('works without named prepared statements (for transaction-mode poolers)', () =>
    withDatabase(async (url) => {
      const s = await openStore({ database: url, preparedStatements: false, poolSize: 2 });
      try {
        const data = Buffer.from([0, 1, 2, 255]);
        await s.updateMany('g', [{ role: 'timestamp', version: 1, data }]);
        expect((await s.getLatest('g', 'timestamp'))!.data.equals(data)).toBe(true);
        expect((await s.getByVersion('g', 'timestamp', 1))!.version).toBe(1);
      } finally {
        await s.close();
      }
    }));

  it('reports an unreachable server as STORAGE without showing the password', async () => {
    const err = await openStore({ database: 'postgres://signet:hunter2@127.0.0.1:1/nowhere' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORAGE' });
    expect((err as Error).message).not.toContain('hunter2');
  });

  it('serialises publishes of one GUN across many stores sharing the database', () =>
    withDatabase(async (url) => {
      const stores = await Promise.all([1, 2, 3, 4].map(() => openStore({ database: url })));
      try {
        await stores[0]!.updateMany('g', [{ role: 'targets', version: 1, data: Buffer.from('t1') }]);
        // With the advisory lock every read-then-write sees the previous one: all succeed, in turn.
        await Promise.all(
          stores.map((s, i) =>
            s.withGun('g', async (tx) => {
              const cur = (await tx.getLatest('g', 'targets'))!.version;
              await new Promise((r) => setTimeout(r, 30));
              await tx.updateMany('g', [{ role: 'targets', version: cur + 1, data: Buffer.from(`s${i}`) }]);
            }),
          ),
        );
        expect((await stores[1]!.getLatest('g', 'targets'))!.version).toBe(5);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    }));
});

describe('PostgreSQL change notices', () => {
  it('tells every other store handle of a stored timestamp and of a delete, at commit', () =>
    withDatabase(async (url) => {
      const a = await openStore({ database: url });
      const b = await openStore({ database: url });
      try {
        const seen: unknown[] = [];
        b.onChange((c) => seen.push(c));
        // the LISTEN connection comes up asynchronously
        for (let i = 0; i < 100 && !(await listening(url)); i++) await new Promise((r) => setTimeout(r, 20));
        await a.updateMany('g', [{ role: 'root', version: 1, data: Buffer.from('r') }]);
        await a.updateMany('g', [{ role: 'timestamp', version: 4, data: Buffer.from('t') }]);
        await expect(
          a.withGun('g', async (tx) => {
            await tx.updateMany('g', [{ role: 'timestamp', version: 5, data: Buffer.from('t5') }]);
            throw new Error('rolled back');
          }),
        ).rejects.toThrow();
        await a.deleteGun('g');
        for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
        expect(seen).toEqual([
          { kind: 'gun', gun: 'g', version: 4, deleted: false },
          { kind: 'gun', gun: 'g', version: 0, deleted: true },
        ]);
      } finally {
        await a.close();
        await b.close();
      }
    }));
});

async function listening(url: string): Promise<boolean> {
  let n = 0;
  await withClient(url, async (c) => {
    const r = await c.query("select count(*)::int as n from pg_stat_activity where query like 'LISTEN%'");
    n = (r.rows[0] as { n: number }).n;
  });
  return n > 0;
}
