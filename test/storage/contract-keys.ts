// The MetaStore contract (src/storage/types.ts), part: server keys: insert, findUnused, markUsed, delete.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../helpers/errors.js';
import { keyRow, type StoreContext } from './contract-helpers.js';

export function serverKeysContract({ withStore }: StoreContext): void {
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

    it('delete removes one key and says so; an unknown id deletes nothing; the audit entry records the result', () =>
      withStore(async (s) => {
        await s.keys.insert(keyRow({ id: 'gone' }));
        await s.keys.insert(keyRow({ id: 'kept' }));
        expect(await s.keys.delete('gone', { event: 'delete_key', keyId: 'gone' })).toBe(true);
        expect(await s.keys.get('gone')).toBeNull();
        expect(await s.keys.get('kept')).not.toBeNull();
        expect(await s.keys.delete('gone', { event: 'delete_key', keyId: 'gone' })).toBe(false);
        expect(await s.keys.delete('never')).toBe(false);
        const entries = (await s.audit.list({ afterSeq: 0, limit: 10 })).map(
          (e) => JSON.parse(e.text) as Record<string, unknown>,
        );
        expect(entries.map((e) => [e.keyId, e.deleted])).toEqual([
          ['gone', true],
          ['gone', false],
        ]);
      }));
  });
}
