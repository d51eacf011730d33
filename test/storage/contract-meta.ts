// The MetaStore contract (src/storage/types.ts), part: metadata rows (updateMany, getLatest, getByVersion, getByChecksum) and deleteGun.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../helpers/errors.js';
import { buf, keyRow, rec, sha, type StoreContext } from './contract-helpers.js';

export function metadataRowsContract({ withStore }: StoreContext): void {
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
}

export function deleteGunContract({ withStore }: StoreContext): void {
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
}
