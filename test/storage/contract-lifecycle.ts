// The MetaStore contract (src/storage/types.ts), part: close and reopen, ping, counting GUNs.
import { describe, expect, it } from 'vitest';
import { keyRow, rec, type StoreContext } from './contract-helpers.js';

export function lifecycleContract({ makeFixture, withStore }: StoreContext): void {
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
}
