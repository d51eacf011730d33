/** RepoCache: current-metadata cache bounds and invalidation. */
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { MetaReader, StoredMeta } from '../../src/storage/index.js';
import { RepoCache } from '../../src/server/current.js';

function row(gun: string, role: string, version: number, data: Buffer): StoredMeta {
  return {
    gun,
    role,
    version,
    sha256: crypto.createHash('sha256').update(data).digest('hex'),
    data,
    createdAt: new Date(),
  };
}

/** A reader over a GUN → role → rows map, counting reads. */
function fakeReader(size: number): MetaReader & { reads: number; guns: Map<string, StoredMeta[]> } {
  const guns = new Map<string, StoredMeta[]>();
  const r = {
    reads: 0,
    guns,
    async getLatest(gun: string, role: string) {
      r.reads++;
      return (guns.get(gun) ?? []).filter((m) => m.role === role).sort((a, b) => b.version - a.version)[0] ?? null;
    },
    async getByVersion(gun: string, role: string, v: number) {
      r.reads++;
      return (guns.get(gun) ?? []).find((m) => m.role === role && m.version === v) ?? null;
    },
    async getByChecksum(gun: string, role: string, sha: string) {
      r.reads++;
      return (guns.get(gun) ?? []).find((m) => m.role === role && m.sha256 === sha) ?? null;
    },
  };
  const add = (gun: string, version: number) => {
    const targets = Buffer.alloc(size, version);
    const b64 = (d: Buffer) => crypto.createHash('sha256').update(d).digest('base64');
    const sn = Buffer.from(
      JSON.stringify({
        signed: { expires: '2100-01-01T00:00:00Z', meta: { targets: { hashes: { sha256: b64(targets) } } } },
      }),
    );
    const ts = Buffer.from(
      JSON.stringify({
        signed: { expires: '2100-01-01T00:00:00Z', meta: { snapshot: { hashes: { sha256: b64(sn) } } } },
      }),
    );
    guns.set(gun, [
      ...(guns.get(gun) ?? []),
      row(gun, 'targets', version, targets),
      row(gun, 'snapshot', version, sn),
      row(gun, 'timestamp', version, ts),
    ]);
  };
  return Object.assign(r, { add });
}

describe('RepoCache', () => {
  it('serves repeated reads from memory and re-reads after invalidate', async () => {
    const reader = fakeReader(10) as ReturnType<typeof fakeReader> & { add(g: string, v: number): void };
    reader.add('g', 1);
    const c = new RepoCache(reader, { ttlMs: 0, maxGuns: 10, maxBytes: 1 << 20 });
    expect((await c.current('g', 'targets'))?.version).toBe(1);
    const reads = reader.reads;
    expect((await c.current('g', 'targets'))?.version).toBe(1);
    expect(c.peek('g', 'targets', Date.now())?.file?.version).toBe(1);
    expect(reader.reads).toBe(reads);
    reader.add('g', 2);
    expect((await c.current('g', 'targets'))?.version).toBe(1); // until this process says it wrote
    c.invalidate('g');
    expect(c.peek('g', 'targets', Date.now())).toBeUndefined();
    expect((await c.current('g', 'targets'))?.version).toBe(2);
  });

  it('expires entries after ttlMs (shared database)', async () => {
    const reader = fakeReader(10) as ReturnType<typeof fakeReader> & { add(g: string, v: number): void };
    reader.add('g', 1);
    const c = new RepoCache(reader, { ttlMs: 30, maxGuns: 10, maxBytes: 1 << 20 });
    await c.current('g', 'targets');
    reader.add('g', 2);
    await new Promise((r) => setTimeout(r, 40));
    expect(c.peek('g', 'targets', Date.now())).toBeUndefined();
    expect((await c.current('g', 'targets'))?.version).toBe(2);
  });

  it('keeps within its GUN count and byte budget, dropping the least recently loaded', async () => {
    const reader = fakeReader(1000) as ReturnType<typeof fakeReader> & { add(g: string, v: number): void };
    for (let i = 0; i < 5; i++) reader.add(`g${i}`, 1);
    const c = new RepoCache(reader, { ttlMs: 0, maxGuns: 10, maxBytes: 2500 });
    for (let i = 0; i < 5; i++) await c.current(`g${i}`, 'targets');
    const cached = [0, 1, 2, 3, 4].filter((i) => c.peek(`g${i}`, 'targets', Date.now()) !== undefined);
    expect(cached.length).toBeLessThanOrEqual(2);
    expect(cached).toContain(4);
  });

  it('does not cache a read that raced with a write (epoch check)', async () => {
    const reader = fakeReader(10) as ReturnType<typeof fakeReader> & { add(g: string, v: number): void };
    reader.add('g', 1);
    const c = new RepoCache(reader, { ttlMs: 0, maxGuns: 10, maxBytes: 1 << 20 });
    const p = c.current('g', 'targets');
    c.invalidate('g'); // a write committed while the load was in flight
    await p;
    expect(c.peek('g', 'targets', Date.now())).toBeUndefined();
  });
});
