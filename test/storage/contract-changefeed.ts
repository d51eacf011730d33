// The MetaStore contract (src/storage/types.ts), part: the changefeed: paging forwards and backwards, GUN filters, argument checks.
import { describe, expect, it } from 'vitest';
import type { MetaStore } from '../../src/storage/index.js';
import { buf, rec, sha, type StoreContext } from './contract-helpers.js';

export function changefeedContract({ withStore }: StoreContext): void {
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
}
