// The MetaStore contract (src/storage/types.ts), part: withGun transactions: isolation, rollback, serialisation per GUN, concurrency across stores.
import { describe, expect, it } from 'vitest';
import type { MetaStore, MetaTx } from '../../src/storage/index.js';
import { codeOf } from '../helpers/errors.js';
import { buf, keyRow, rec, sha, sleep, type StoreContext } from './contract-helpers.js';

export function withGunContract({ withStore }: StoreContext): void {
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
}
