// The audit-trail part of the MetaStore contract (src/storage/types.ts: MetaTx.audit, deleteGun and
// keys.insert with an entry, MetaStore.audit), run against every backend with the same cases.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuditChainCheck, type AuditEntry, type MetaStore } from '../../src/storage/index.js';
import type { StoreFixture } from './contract.js';
import { storeContext } from './contract-helpers.js';

const rec = (role: string, version: number, text: string) => ({ role, version, data: Buffer.from(text) });

async function all(s: MetaStore): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  for (;;) {
    const page = await s.audit.list({ afterSeq: out.at(-1)?.seq ?? 0, limit: 3 });
    if (page.length === 0) return out;
    out.push(...page);
  }
}

function check(entries: AuditEntry[]): AuditChainCheck {
  const c = new AuditChainCheck();
  for (const e of entries) c.add(e);
  return c;
}

export function auditContract(name: string, makeFixture: () => Promise<StoreFixture>): void {
  const { withStore } = storeContext(makeFixture);

  describe(`${name}: audit trail contract`, () => {
    it('commits tx.audit entries with the writes, chained, seq 1, 2, …; a failed transaction leaves none', () =>
      withStore(async (s) => {
        const heard: number[] = [];
        s.audit.onAppend((es) => heard.push(...es.map((e) => e.seq)));
        await s.withGun('g', async (tx) => {
          tx.audit({ event: 'publish', gun: 'g', stored: [{ role: 'timestamp', version: 1 }] });
          await tx.updateMany('g', [rec('timestamp', 1, 'ts1')]);
          tx.audit({ event: 'second', seq: 99, hash: 'forged' });
        });
        await expect(
          s.withGun('g', async (tx) => {
            tx.audit({ event: 'never' });
            await tx.updateMany('g', [rec('timestamp', 2, 'ts2')]);
            throw new Error('refused');
          }),
        ).rejects.toThrow('refused');
        // a version conflict found at commit also drops the entry
        await expect(
          s.withGun('g', async (tx) => {
            tx.audit({ event: 'never' });
            await tx.updateMany('g', [rec('timestamp', 1, 'again')]);
          }),
        ).rejects.toThrow();
        const es = await all(s);
        expect(es.map((e) => e.seq)).toEqual([1, 2]);
        expect(heard).toEqual([1, 2]);
        const first = JSON.parse(es[0]!.text) as Record<string, unknown>;
        expect(first).toMatchObject({ event: 'publish', gun: 'g', seq: 1, prev: '0'.repeat(64) });
        expect(Date.parse(first.time as string)).toBeGreaterThan(0);
        // reserved names are the chain's own
        expect(JSON.parse(es[1]!.text)).toMatchObject({ event: 'second', seq: 2, prev: es[0]!.hash });
        expect(es[1]!.text).not.toContain('forged');
        // canonical: sorted keys, no whitespace
        expect(es[0]!.text).toBe(
          `{"event":"publish","gun":"g","prev":"${'0'.repeat(64)}","seq":1,"stored":[{"role":"timestamp","version":1}],"time":"${first.time as string}"}`,
        );
        const c = check(es);
        expect(c.problems).toEqual([]);
        expect(c.head).toEqual({ seq: 2, hash: es[1]!.hash });
      }));

    it('records a delete (with whether anything was deleted), a key insert and a stand-alone entry', () =>
      withStore(async (s) => {
        await s.updateMany('g', [rec('timestamp', 1, 'ts1')]);
        expect(await s.deleteGun('g', { event: 'delete', gun: 'g' })).toBe(true);
        expect(await s.deleteGun('g', { event: 'delete', gun: 'g' })).toBe(false);
        expect(await s.deleteGun('g')).toBe(false);
        const row = {
          id: 'k1',
          gun: 'g',
          role: 'timestamp' as const,
          algorithm: 'ecdsa',
          publicKey: 'pub',
          privateKey: randomBytes(32),
          createdAt: new Date(1000),
          lastUsed: null,
        };
        await s.keys.insert(row, { event: 'key_create', keyId: 'k1' });
        // a refused insert writes no entry
        await expect(s.keys.insert(row, { event: 'key_create', keyId: 'k1' })).rejects.toMatchObject({
          code: 'CONFLICT',
        });
        const appended = await s.audit.append([{ event: 'auth_failure', user: null }, { event: 'refused' }]);
        expect(appended.map((e) => e.seq)).toEqual([4, 5]);
        const es = await all(s);
        expect(es.map((e) => JSON.parse(e.text) as Record<string, unknown>)).toMatchObject([
          { event: 'delete', deleted: true },
          { event: 'delete', deleted: false },
          { event: 'key_create', keyId: 'k1' },
          { event: 'auth_failure', user: null },
          { event: 'refused' },
        ]);
        expect(es.map((e) => e.hash)).toEqual([...es.slice(0, 3), ...appended].map((e) => e.hash));
        expect(check(es).problems).toEqual([]);
        expect(await s.audit.list({ afterSeq: 3, limit: 10 })).toEqual(appended);
      }));

    it('keeps one unbroken chain under concurrent transactions on many GUNs, and from a second handle', () =>
      withStore(async (s, fx) => {
        const s2 = await fx.open();
        try {
          const work = [];
          for (let i = 0; i < 24; i++) {
            const store = i % 2 === 0 ? s : s2;
            const gun = `g${i % 6}`;
            work.push(
              store.withGun(gun, async (tx) => {
                const v = ((await tx.getLatest(gun, 'timestamp'))?.version ?? 0) + 1;
                await tx.updateMany(gun, [rec('timestamp', v, `${gun}-${v}`)]);
                tx.audit({ event: 'publish', gun, version: v });
              }),
            );
          }
          const results = await Promise.allSettled(work);
          const ok = results.filter((r) => r.status === 'fulfilled').length;
          const es = await all(s);
          // every committed publish has exactly its one entry (a lost race commits neither)
          expect(es.length).toBe(ok);
          expect(ok).toBeGreaterThanOrEqual(12);
          expect(check(es).problems).toEqual([]);
        } finally {
          await s2.close();
        }
      }));

    it('keeps the sequence across close and reopen', async () => {
      const fx = await makeFixture();
      try {
        let s = await fx.open();
        await s.audit.append([{ event: 'a' }]);
        await s.close();
        s = await fx.open();
        try {
          const [e] = await s.audit.append([{ event: 'b' }]);
          expect(e!.seq).toBe(2);
          expect(check(await all(s)).problems).toEqual([]);
        } finally {
          await s.close();
        }
      } finally {
        await fx.dispose();
      }
    });
  });
}
