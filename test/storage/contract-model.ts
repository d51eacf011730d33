// The MetaStore contract (src/storage/types.ts), part: random operations checked against a reference model.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../helpers/errors.js';
import { buf, sha, type StoreContext } from './contract-helpers.js';

export function modelContract({ withStore }: StoreContext): void {
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
}
