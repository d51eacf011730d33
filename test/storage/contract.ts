// The MetaStore contract (src/storage/types.ts), run against every backend with the same cases.
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MetaStore, MetaTx, ServerKeyRow } from '../../src/storage/index.js';
import { codeOf } from '../helpers/errors.js';

/** One empty database per test; `open()` may be called several times (reopen, second server). */
export interface StoreFixture {
  open(): Promise<MetaStore>;
  dispose(): Promise<void>;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const buf = (s: string): Buffer => Buffer.from(s, 'utf8');
/** One update: `role` at `version` with the UTF-8 bytes of `text`. */
const rec = (role: string, version: number, text: string) => ({ role, version, data: buf(text) });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function keyRow(over: Partial<ServerKeyRow> & { id: string }): ServerKeyRow {
  return {
    gun: 'docker.io/library/alpine',
    role: 'timestamp',
    algorithm: 'ecdsa',
    publicKey: `{"keytype":"ecdsa","keyval":{"private":null,"public":"${over.id}"}}`,
    privateKey: randomBytes(48),
    createdAt: new Date(1_700_000_000_123),
    lastUsed: null,
    ...over,
  };
}

export function storeContract(name: string, makeFixture: () => Promise<StoreFixture>): void {
  /** Runs `body` with a fresh database and one open store; closes and disposes afterwards. */
  async function withStore(body: (s: MetaStore, fx: StoreFixture) => Promise<void>): Promise<void> {
    const fx = await makeFixture();
    const s = await fx.open();
    try {
      await body(s, fx);
    } finally {
      await s.close();
      await fx.dispose();
    }
  }

  describe(`${name}: MetaStore contract`, () => {
    describe('metadata rows', () => {
      it('returns the stored bytes exactly, with their sha256, by latest, version and checksum', () =>
        withStore(async (s) => {
          const data = Buffer.concat([randomBytes(300_000), Buffer.from([0, 0xff, 0xfe, 0x80, 0x0a, 0x0d])]);
          const before = Date.now();
          await s.updateMany('docker.io/a/b', [{ role: 'targets', version: 7, data }]);
          const latest = await s.getLatest('docker.io/a/b', 'targets');
          expect(latest).not.toBeNull();
          expect(latest!.data.equals(data)).toBe(true);
          expect(Buffer.isBuffer(latest!.data)).toBe(true);
          expect(latest!).toMatchObject({ gun: 'docker.io/a/b', role: 'targets', version: 7, sha256: sha(data) });
          expect(latest!.createdAt.getTime()).toBeGreaterThanOrEqual(before - 1);
          expect(latest!.createdAt.getTime()).toBeLessThanOrEqual(Date.now() + 1);
          expect((await s.getByVersion('docker.io/a/b', 'targets', 7))!.data.equals(data)).toBe(true);
          expect((await s.getByChecksum('docker.io/a/b', 'targets', sha(data)))!.data.equals(data)).toBe(true);
          expect((await s.getByChecksum('docker.io/a/b', 'targets', sha(data).toUpperCase()))!.version).toBe(7);
        }));

      it('keeps an empty file and multi-byte text byte for byte', () =>
        withStore(async (s) => {
          const text = buf('{"signed":{"x":"é\u2028😀"}}');
          await s.updateMany('g', [
            { role: 'root', version: 1, data: Buffer.alloc(0) },
            { role: 'targets', version: 1, data: text },
          ]);
          expect((await s.getLatest('g', 'root'))!.data.length).toBe(0);
          expect((await s.getLatest('g', 'targets'))!.data.equals(text)).toBe(true);
        }));

      it('getLatest gives the highest version and keeps roles and GUNs apart', () =>
        withStore(async (s) => {
          await s.updateMany('g', [rec('targets', 1, 't1')]);
          await s.updateMany('g', [rec('targets', 3, 't3')]);
          await s.updateMany('g', [rec('targets/releases', 9, 'd9')]);
          await s.updateMany('g2', [rec('targets', 5, 'other')]);
          expect((await s.getLatest('g', 'targets'))!.data.toString()).toBe('t3');
          expect((await s.getByVersion('g', 'targets', 1))!.data.toString()).toBe('t1');
          expect(await s.getByVersion('g', 'targets', 2)).toBeNull();
          expect(await s.getLatest('g', 'snapshot')).toBeNull();
          expect(await s.getLatest('nope', 'targets')).toBeNull();
          expect(await s.getByChecksum('g', 'targets', sha(buf('other')))).toBeNull();
          expect(await s.getByChecksum('g', 'root', sha(buf('t1')))).toBeNull();
          expect((await s.getLatest('g', 'targets/releases'))!.version).toBe(9);
        }));

      it('refuses the same or a lower version with CONFLICT naming role and version, and writes nothing', () =>
        withStore(async (s) => {
          await s.updateMany('g', [rec('snapshot', 2, 's2')]);
          for (const version of [2, 1, 0]) {
            const err = await s
              .updateMany('g', [{ role: 'snapshot', version, data: buf(`x${version}`) }])
              .catch((e: unknown) => e);
            expect(err).toMatchObject({ code: 'CONFLICT', details: { role: 'snapshot', version } });
          }
          expect((await s.getLatest('g', 'snapshot'))!.data.toString()).toBe('s2');
          expect(await s.getByChecksum('g', 'snapshot', sha(buf('x1')))).toBeNull();
          await s.updateMany('g', [rec('snapshot', 3, 's3')]);
          expect((await s.getLatest('g', 'snapshot'))!.version).toBe(3);
        }));

      it('refuses a version repeated within one call and stores none of it', () =>
        withStore(async (s) => {
          const code = await codeOf(
            s.updateMany('g', [rec('root', 1, 'r1'), rec('targets', 4, 'a'), rec('targets', 4, 'b')]),
          );
          expect(code).toBe('CONFLICT');
          expect(await s.getLatest('g', 'root')).toBeNull();
          expect(await s.getLatest('g', 'targets')).toBeNull();
        }));

      it('accepts several increasing versions of one role in one call', () =>
        withStore(async (s) => {
          await s.updateMany('g', [rec('targets', 2, 't2'), rec('targets', 5, 't5')]);
          expect((await s.getLatest('g', 'targets'))!.version).toBe(5);
          expect((await s.getByVersion('g', 'targets', 2))!.data.toString()).toBe('t2');
        }));

      it('rolls back the whole batch when one update conflicts (no row, no changefeed record)', () =>
        withStore(async (s) => {
          await s.updateMany('g', [rec('targets', 2, 't2')]);
          const feedBefore = await s.getChanges({ changeId: '', records: 0 });
          const code = await codeOf(
            s.updateMany('g', [rec('root', 1, 'r1'), rec('timestamp', 1, 'ts1'), rec('targets', 2, 't2-again')]),
          );
          expect(code).toBe('CONFLICT');
          expect(await s.getLatest('g', 'root')).toBeNull();
          expect(await s.getLatest('g', 'timestamp')).toBeNull();
          expect((await s.getLatest('g', 'targets'))!.data.toString()).toBe('t2');
          expect(await s.getChanges({ changeId: '', records: 0 })).toEqual(feedBefore);
        }));

      it('refuses non-integer, negative and beyond-int32 versions with USAGE', () =>
        withStore(async (s) => {
          for (const version of [1.5, -1, 2 ** 31, Number.NaN]) {
            expect(await codeOf(s.updateMany('g', [{ role: 'root', version, data: buf('r') }]))).toBe('USAGE');
          }
          await s.updateMany('g', [{ role: 'root', version: 2 ** 31 - 1, data: buf('max') }]);
          expect((await s.getLatest('g', 'root'))!.version).toBe(2 ** 31 - 1);
        }));

      it('treats an empty update list as a no-op', () =>
        withStore(async (s) => {
          await s.updateMany('g', []);
          expect(await s.countGuns()).toBe(0);
        }));
    });

    describe('withGun transactions', () => {
      it('lets reads inside the transaction see its own writes, and others only after commit', () =>
        withStore(async (s) => {
          await s.updateMany('g', [rec('targets', 1, 't1')]);
          await s.withGun('g', async (tx) => {
            await tx.updateMany('g', [rec('targets', 2, 't2')]);
            expect((await tx.getLatest('g', 'targets'))!.version).toBe(2);
            expect((await tx.getByVersion('g', 'targets', 2))!.data.toString()).toBe('t2');
            expect((await tx.getByChecksum('g', 'targets', sha(buf('t2'))))!.version).toBe(2);
            expect((await tx.getByVersion('g', 'targets', 1))!.data.toString()).toBe('t1');
            expect((await s.getLatest('g', 'targets'))!.version).toBe(1);
            const code = await codeOf(tx.updateMany('g', [rec('targets', 2, 'again')]));
            expect(code).toBe('CONFLICT');
          });
          expect((await s.getLatest('g', 'targets'))!.version).toBe(2);
        }));

      it('keeps nothing when fn throws, and rethrows its error unchanged', () =>
        withStore(async (s) => {
          const boom = new Error('signing failed');
          const err = await s
            .withGun('g', async (tx) => {
              await tx.updateMany('g', [rec('root', 1, 'r1'), rec('timestamp', 1, 'ts1')]);
              throw boom;
            })
            .catch((e: unknown) => e);
          expect(err).toBe(boom);
          expect(await s.getLatest('g', 'root')).toBeNull();
          expect(await s.getChanges({ changeId: '', records: 0 })).toEqual([]);
        }));

      it('returns the value of fn', () =>
        withStore(async (s) => {
          expect(await s.withGun('g', async () => 42)).toBe(42);
        }));

      it('refuses a transaction writing another GUN, or used after it ended, with INTERNAL', () =>
        withStore(async (s) => {
          let leaked: MetaTx | undefined;
          const code = await codeOf(
            s.withGun('g', async (tx) => {
              leaked = tx;
              await tx.updateMany('other', [rec('root', 1, 'r')]);
            }),
          );
          expect(code).toBe('INTERNAL');
          expect(await codeOf(leaked!.updateMany('g', [rec('root', 1, 'r')]))).toBe('INTERNAL');
          expect(await s.getLatest('other', 'root')).toBeNull();
        }));

      it('serialises concurrent read-then-write transactions on one GUN (no lost update)', () =>
        withStore(async (s) => {
          await s.updateMany('g', [rec('targets', 1, 't1')]);
          const spans: Array<[number, number]> = [];
          const publish = (tag: string): Promise<number> =>
            s.withGun('g', async (tx) => {
              const start = performance.now();
              const cur = (await tx.getLatest('g', 'targets'))!.version;
              await sleep(60);
              await tx.updateMany('g', [{ role: 'targets', version: cur + 1, data: buf(`${tag}${cur + 1}`) }]);
              spans.push([start, performance.now()]);
              return cur + 1;
            });
          const results = await Promise.allSettled([publish('a'), publish('b'), publish('c')]);
          const ok = results.filter((r) => r.status === 'fulfilled');
          for (const r of results)
            if (r.status === 'rejected') expect((r.reason as { code?: string }).code).toBe('CONFLICT');
          expect((await s.getLatest('g', 'targets'))!.version).toBe(1 + ok.length);
          expect(ok.length).toBe(3); // within one process the per-GUN lock serialises them
          spans.sort((x, y) => x[0] - y[0]);
          for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
        }));

      it('never loses an update between two stores (two servers) on the same database', () =>
        withStore(async (s, fx) => {
          const s2 = await fx.open();
          try {
            await s.updateMany('g', [rec('targets', 1, 't1')]);
            const publish = (store: MetaStore, tag: string): Promise<number> =>
              store.withGun('g', async (tx) => {
                const cur = (await tx.getLatest('g', 'targets'))!.version;
                await sleep(80);
                await tx.updateMany('g', [{ role: 'targets', version: cur + 1, data: buf(`${tag}${cur + 1}`) }]);
                return cur + 1;
              });
            const results = await Promise.allSettled([publish(s, 'a'), publish(s2, 'b')]);
            const ok = results.filter((r) => r.status === 'fulfilled');
            for (const r of results)
              if (r.status === 'rejected') expect((r.reason as { code?: string }).code).toBe('CONFLICT');
            expect(ok.length).toBeGreaterThanOrEqual(1);
            const latest = (await s2.getLatest('g', 'targets'))!;
            expect(latest.version).toBe(1 + ok.length);
            // every successful writer's row is there: nobody overwrote anybody
            for (const r of ok) {
              expect(await s.getByVersion('g', 'targets', (r as PromiseFulfilledResult<number>).value)).not.toBeNull();
            }
          } finally {
            await s2.close();
          }
        }));

      it('does not make a transaction on one GUN wait for another GUN', () =>
        withStore(async (s) => {
          let releaseA!: () => void;
          const aHolds = new Promise<void>((r) => (releaseA = r));
          const a = s.withGun('a', async (tx) => {
            await tx.updateMany('a', [rec('root', 1, 'ra')]);
            await aHolds;
          });
          await sleep(20);
          const b = s.withGun('b', async (tx) => {
            await tx.updateMany('b', [rec('root', 1, 'rb')]);
            return 'b done';
          });
          const winner = await Promise.race([b, sleep(5000).then(() => 'timeout')]);
          expect(winner).toBe('b done');
          expect((await s.getLatest('b', 'root'))!.data.toString()).toBe('rb');
          releaseA();
          await a;
          expect((await s.getLatest('a', 'root'))!.data.toString()).toBe('ra');
        }));

      it('lets transactions on many GUNs at once use the key store inside fn (no pool starvation)', () =>
        withStore(async (s) => {
          await s.keys.insert(keyRow({ id: 'shared' }));
          const guns = Array.from({ length: 24 }, (_, i) => `many/${i}`);
          const all = Promise.all(
            guns.map((gun) =>
              s.withGun(gun, async (tx) => {
                await sleep(30);
                expect(await s.keys.get('shared')).not.toBeNull();
                await s.keys.insert(keyRow({ id: `k-${gun}`, gun }));
                await tx.updateMany(gun, [{ role: 'root', version: 1, data: buf(gun) }]);
              }),
            ),
          );
          expect(await Promise.race([all.then(() => 'done'), sleep(15_000).then(() => 'stuck')])).toBe('done');
          expect(await s.countGuns()).toBe(24);
        }));

      it('lets plain reads proceed while a publish holds its GUN', () =>
        withStore(async (s) => {
          await s.updateMany('g', [rec('root', 1, 'r1')]);
          let release!: () => void;
          const held = new Promise<void>((r) => (release = r));
          const pub = s.withGun('g', async (tx) => {
            await tx.updateMany('g', [rec('root', 2, 'r2')]);
            await held;
          });
          await sleep(20);
          const read = await Promise.race([s.getLatest('g', 'root'), sleep(5000).then(() => 'timeout' as const)]);
          expect(read).not.toBe('timeout');
          expect((read as { version: number }).version).toBe(1);
          release();
          await pub;
          expect((await s.getLatest('g', 'root'))!.version).toBe(2);
        }));
    });

    describe('deleteGun', () => {
      it('deletes exactly the GUN (not a prefix match) and records one deletion', () =>
        withStore(async (s) => {
          for (const gun of ['a/b', 'a/b2', 'a/bc', 'a/b/c', 'a']) {
            await s.updateMany(gun, [
              { role: 'root', version: 1, data: buf(`root ${gun}`) },
              { role: 'timestamp', version: 1, data: buf(`ts ${gun}`) },
            ]);
          }
          expect(await s.countGuns()).toBe(5);
          expect(await s.deleteGun('a/b')).toBe(true);
          expect(await s.getLatest('a/b', 'root')).toBeNull();
          expect(await s.getLatest('a/b', 'timestamp')).toBeNull();
          for (const gun of ['a/b2', 'a/bc', 'a/b/c', 'a']) {
            expect((await s.getLatest(gun, 'root'))!.data.toString()).toBe(`root ${gun}`);
          }
          expect(await s.countGuns()).toBe(4);
          const last = await s.getChanges({ changeId: '-1', records: 1 });
          expect(last).toEqual([
            {
              id: expect.any(String),
              createdAt: expect.any(String),
              gun: 'a/b',
              version: 0,
              sha256: '',
              category: 'deletion',
            },
          ]);
        }));

      it('returns false and records nothing when the GUN has no rows', () =>
        withStore(async (s) => {
          await s.updateMany('x', [rec('timestamp', 1, 'ts')]);
          const before = await s.getChanges({ changeId: '', records: 0 });
          expect(await s.deleteGun('y')).toBe(false);
          expect(await s.deleteGun('x')).toBe(true);
          expect(await s.deleteGun('x')).toBe(false);
          const after = await s.getChanges({ changeId: '', records: 0 });
          expect(after.length).toBe(before.length + 1);
        }));

      it('lets a GUN start over from version 1 after deletion, and keeps its server keys', () =>
        withStore(async (s) => {
          await s.keys.insert(keyRow({ id: 'k1', gun: 'g' }));
          await s.updateMany('g', [rec('root', 3, 'r3')]);
          await s.deleteGun('g');
          await s.updateMany('g', [rec('root', 1, 'r1')]);
          expect((await s.getLatest('g', 'root'))!.version).toBe(1);
          expect(await s.keys.get('k1')).not.toBeNull();
        }));
    });

    describe('changefeed', () => {
      /** 3 GUNs × timestamps, interleaved; returns the records in write order. */
      async function seed(s: MetaStore): Promise<void> {
        for (let v = 1; v <= 4; v++) {
          for (const gun of ['g1', 'g2', 'g3']) {
            await s.updateMany(gun, [
              { role: 'snapshot', version: v, data: buf(`snap ${gun} ${v}`) },
              { role: 'timestamp', version: v, data: buf(`ts ${gun} ${v}`) },
            ]);
          }
        }
      }

      it('records one update per stored timestamp with its version and sha256, ids increasing', () =>
        withStore(async (s) => {
          await s.updateMany('g', [rec('root', 1, 'r')]);
          expect(await s.getChanges({ changeId: '', records: 0 })).toEqual([]);
          await seed(s);
          const all = await s.getChanges({ changeId: '', records: 0 });
          expect(all.length).toBe(12);
          expect(all[0]).toMatchObject({ gun: 'g1', version: 1, sha256: sha(buf('ts g1 1')), category: 'update' });
          expect(all[11]).toMatchObject({ gun: 'g3', version: 4, category: 'update' });
          const ids = all.map((r) => Number(r.id));
          for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]!);
          for (const r of all) {
            expect(r.id).toMatch(/^[1-9]\d*$/);
            expect(r.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
            expect(r.createdAt).not.toMatch(/\.\d*0Z$/);
            expect(Math.abs(Date.parse(r.createdAt) - Date.now())).toBeLessThan(60_000);
          }
        }));

      it('pages forwards, excluding the given id', () =>
        withStore(async (s) => {
          await seed(s);
          const all = await s.getChanges({ changeId: '', records: 0 });
          const p1 = await s.getChanges({ changeId: '', records: 5 });
          expect(p1).toEqual(all.slice(0, 5));
          const p2 = await s.getChanges({ changeId: p1[4]!.id, records: 5 });
          expect(p2).toEqual(all.slice(5, 10));
          const p3 = await s.getChanges({ changeId: p2[4]!.id, records: 5 });
          expect(p3).toEqual(all.slice(10));
          expect(await s.getChanges({ changeId: all[11]!.id, records: 5 })).toEqual([]);
          expect(await s.getChanges({ changeId: '0', records: 2 })).toEqual(all.slice(0, 2));
        }));

      it('pages backwards from the latest (-1) and from an id, always oldest first', () =>
        withStore(async (s) => {
          await seed(s);
          const all = await s.getChanges({ changeId: '', records: 0 });
          expect(await s.getChanges({ changeId: '-1', records: 3 })).toEqual(all.slice(9));
          expect(await s.getChanges({ changeId: '-1', records: -3 })).toEqual(all.slice(9));
          expect(await s.getChanges({ changeId: '', records: -3 })).toEqual(all.slice(9));
          expect(await s.getChanges({ changeId: all[9]!.id, records: -4 })).toEqual(all.slice(5, 9));
          expect(await s.getChanges({ changeId: all[2]!.id, records: -10 })).toEqual(all.slice(0, 2));
        }));

      it('filters by exact GUN in both directions', () =>
        withStore(async (s) => {
          await seed(s);
          await s.updateMany('g1x', [rec('timestamp', 1, 'ts g1x')]);
          const g2 = await s.getChanges({ changeId: '', records: 0, gun: 'g2' });
          expect(g2.map((r) => `${r.gun}@${r.version}`)).toEqual(['g2@1', 'g2@2', 'g2@3', 'g2@4']);
          expect(await s.getChanges({ changeId: g2[1]!.id, records: 10, gun: 'g2' })).toEqual(g2.slice(2));
          expect(await s.getChanges({ changeId: '-1', records: 2, gun: 'g2' })).toEqual(g2.slice(2));
          expect((await s.getChanges({ changeId: '', records: 0, gun: 'g1' })).every((r) => r.gun === 'g1')).toBe(true);
          expect((await s.getChanges({ changeId: '', records: 0, gun: '' })).length).toBe(13);
        }));

      it('returns 100 records for records=0', () =>
        withStore(async (s) => {
          const updates = Array.from({ length: 105 }, (_, i) => ({
            role: 'timestamp',
            version: i + 1,
            data: buf(`ts${i + 1}`),
          }));
          await s.updateMany('g', updates);
          const page = await s.getChanges({ changeId: '', records: 0 });
          expect(page.length).toBe(100);
          expect(page[0]!.version).toBe(1);
          expect((await s.getChanges({ changeId: page[99]!.id, records: 0 })).map((r) => r.version)).toEqual([
            101, 102, 103, 104, 105,
          ]);
        }));

      it('refuses a change id or records count that is not an integer with USAGE', () =>
        withStore(async (s) => {
          for (const changeId of ['abc', '1.5', '0x10', ' 1']) {
            const err = await s.getChanges({ changeId, records: 1 }).catch((e: unknown) => e);
            expect(err).toMatchObject({ code: 'USAGE', details: { param: 'change_id' } });
          }
          for (const records of [Number.NaN, Number.POSITIVE_INFINITY]) {
            const err = await s.getChanges({ changeId: '', records }).catch((e: unknown) => e);
            expect(err).toMatchObject({ code: 'USAGE', details: { param: 'records' } });
          }
        }));
    });

    describe('server keys', () => {
      it('stores and returns a key row exactly, refusing a duplicate id with CONFLICT', () =>
        withStore(async (s) => {
          const row = keyRow({ id: 'abc123', lastUsed: new Date(1_700_000_100_456) });
          await s.keys.insert(row);
          expect(await s.keys.get('abc123')).toEqual(row);
          expect(await s.keys.get('missing')).toBeNull();
          expect(await codeOf(s.keys.insert({ ...row, privateKey: randomBytes(8) }))).toBe('CONFLICT');
          expect((await s.keys.get('abc123'))!.privateKey.equals(row.privateKey)).toBe(true);
        }));

      it('findUnused gives the newest unused key of gun+role+algorithm; markUsed takes it out', () =>
        withStore(async (s) => {
          const gun = 'docker.io/x/y';
          await s.keys.insert(keyRow({ id: 'old', gun, createdAt: new Date(1000) }));
          await s.keys.insert(keyRow({ id: 'new', gun, createdAt: new Date(2000) }));
          await s.keys.insert(keyRow({ id: 'ed', gun, algorithm: 'ed25519', createdAt: new Date(3000) }));
          await s.keys.insert(keyRow({ id: 'snap', gun, role: 'snapshot', createdAt: new Date(4000) }));
          await s.keys.insert(keyRow({ id: 'elsewhere', gun: 'docker.io/x/y2', createdAt: new Date(5000) }));
          expect((await s.keys.findUnused(gun, 'timestamp', 'ecdsa'))!.id).toBe('new');
          const at = new Date(1_800_000_000_789);
          await s.keys.markUsed('new', at);
          expect((await s.keys.get('new'))!.lastUsed).toEqual(at);
          expect((await s.keys.findUnused(gun, 'timestamp', 'ecdsa'))!.id).toBe('old');
          await s.keys.markUsed('old', at);
          expect(await s.keys.findUnused(gun, 'timestamp', 'ecdsa')).toBeNull();
          expect((await s.keys.findUnused(gun, 'timestamp', 'ed25519'))!.id).toBe('ed');
          expect((await s.keys.findUnused(gun, 'snapshot', 'ecdsa'))!.id).toBe('snap');
          expect((await s.keys.listFor(gun, 'timestamp')).map((k) => k.id)).toEqual(['old', 'new', 'ed']);
          expect(await s.keys.listFor('nobody', 'timestamp')).toEqual([]);
        }));

      it('refuses markUsed of an unknown key with KEY_NOT_FOUND', () =>
        withStore(async (s) => {
          expect(await codeOf(s.keys.markUsed('missing', new Date()))).toBe('KEY_NOT_FOUND');
        }));
    });

    describe('against a model', () => {
      type Op =
        | { kind: 'update'; gun: number; updates: Array<{ role: number; version: number }> }
        | { kind: 'delete'; gun: number };
      const ROLES = ['root', 'targets', 'snapshot', 'timestamp'];
      const opArb: fc.Arbitrary<Op> = fc.oneof(
        {
          weight: 5,
          arbitrary: fc.record({
            kind: fc.constant('update' as const),
            gun: fc.nat(2),
            updates: fc.array(fc.record({ role: fc.nat(3), version: fc.nat(5) }), { maxLength: 4 }),
          }),
        },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), gun: fc.nat(2) }) },
      );

      it('accepts, refuses, deletes and records exactly like the reference rules', () =>
        withStore(async (s) => {
          let run = 0;
          await fc.assert(
            fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 10 }), async (ops) => {
              run++;
              // GUNs where one is a prefix of another, fresh per run so runs share one database
              const guns = [`r${run}/a`, `r${run}/a2`, `r${run}/a/b`];
              const rows = new Map<string, Map<string, Buffer>>(); // gun -> "role@version" -> data
              const feed = new Map<string, string[]>(guns.map((g) => [g, []]));
              let n = 0;
              for (const op of ops) {
                const gun = guns[op.gun]!;
                const mine = rows.get(gun) ?? new Map<string, Buffer>();
                if (op.kind === 'delete') {
                  const expected = mine.size > 0;
                  expect(await s.deleteGun(gun)).toBe(expected);
                  if (expected) feed.get(gun)!.push('deletion@0:');
                  rows.delete(gun);
                  continue;
                }
                const updates = op.updates.map((u) => ({
                  role: ROLES[u.role]!,
                  version: u.version,
                  data: buf(`${gun} ${ROLES[u.role]} ${u.version} #${++n}`),
                }));
                const maxOf = (role: string): number =>
                  Math.max(
                    -1,
                    ...[...mine.keys()].filter((k) => k.startsWith(`${role}@`)).map((k) => Number(k.split('@')[1])),
                  );
                const seen = new Set<string>();
                let ok = true;
                for (const u of updates) {
                  const k = `${u.role}@${u.version}`;
                  if (seen.has(k) || u.version <= maxOf(u.role)) ok = false;
                  seen.add(k);
                }
                const code = await codeOf(s.updateMany(gun, updates));
                expect(code).toBe(ok ? 'OK' : 'CONFLICT');
                if (ok) {
                  for (const u of updates) {
                    mine.set(`${u.role}@${u.version}`, u.data);
                    if (u.role === 'timestamp') feed.get(gun)!.push(`update@${u.version}:${sha(u.data)}`);
                  }
                  if (mine.size > 0) rows.set(gun, mine);
                }
              }
              for (const gun of guns) {
                const mine = rows.get(gun) ?? new Map<string, Buffer>();
                for (const role of ROLES) {
                  const versions = [...mine.keys()]
                    .filter((k) => k.startsWith(`${role}@`))
                    .map((k) => Number(k.split('@')[1]));
                  const got = await s.getLatest(gun, role);
                  if (versions.length === 0) {
                    expect(got).toBeNull();
                  } else {
                    const top = Math.max(...versions);
                    expect(got?.version).toBe(top);
                    expect(got!.data.equals(mine.get(`${role}@${top}`)!)).toBe(true);
                  }
                }
                const changes = await s.getChanges({ changeId: '', records: 0, gun });
                expect(changes.map((c) => `${c.category}@${c.version}:${c.sha256}`)).toEqual(feed.get(gun));
              }
            }),
            { numRuns: 25 },
          );
        }));
    });

    describe('lifecycle', () => {
      it('keeps data, keys and the changefeed position across close and reopen (migrations idempotent)', async () => {
        const fx = await makeFixture();
        try {
          let s = await fx.open();
          await s.updateMany('g', [rec('root', 1, 'r1'), rec('timestamp', 1, 'ts1')]);
          await s.keys.insert(keyRow({ id: 'k' }));
          await s.deleteGun('g');
          await s.updateMany('g', [rec('timestamp', 1, 'ts1b')]);
          const feed = await s.getChanges({ changeId: '', records: 0 });
          await s.close();
          for (let i = 0; i < 2; i++) {
            s = await fx.open();
            await s.close();
          }
          s = await fx.open();
          try {
            expect((await s.getLatest('g', 'timestamp'))!.data.toString()).toBe('ts1b');
            expect(await s.keys.get('k')).not.toBeNull();
            expect(await s.getChanges({ changeId: '', records: 0 })).toEqual(feed);
            await s.updateMany('g', [rec('timestamp', 2, 'ts2')]);
            const more = await s.getChanges({ changeId: feed[feed.length - 1]!.id, records: 0 });
            expect(more.length).toBe(1);
            expect(Number(more[0]!.id)).toBeGreaterThan(Number(feed[feed.length - 1]!.id));
          } finally {
            await s.close();
          }
        } finally {
          await fx.dispose();
        }
      });

      it('keeps changefeed ids increasing after a deletion and a reopen', () =>
        withStore(async (s, fx) => {
          await s.updateMany('g', [rec('timestamp', 1, 'ts')]);
          await s.deleteGun('g');
          const before = await s.getChanges({ changeId: '-1', records: 1 });
          await s.close();
          const s2 = await fx.open();
          try {
            await s2.updateMany('h', [rec('timestamp', 1, 'ts')]);
            const after = await s2.getChanges({ changeId: '-1', records: 1 });
            expect(Number(after[0]!.id)).toBeGreaterThan(Number(before[0]!.id));
          } finally {
            await s2.close();
          }
          // withStore closes `s` again: close must be idempotent
        }));

      it('answers ping and counts GUNs', () =>
        withStore(async (s) => {
          await s.ping();
          expect(await s.countGuns()).toBe(0);
          await s.updateMany('a', [rec('root', 1, 'r')]);
          await s.updateMany('a', [rec('targets', 1, 't')]);
          await s.updateMany('b', [rec('root', 1, 'r')]);
          expect(await s.countGuns()).toBe(2);
        }));
    });
  });
}
