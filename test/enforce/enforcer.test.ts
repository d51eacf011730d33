// The warm enforcer against the simulated trust server: single flight (requests counted at the
// server), expiry by time and by metadata expiry, only successful updates cached, policy evaluation
// (distinct signers, enforce/report/skip), digests and index children, and the staleness allowance.
import crypto from 'node:crypto';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEnforcer, type Enforcer, type EnforcerOptions } from '../../src/enforce/index.js';
import { SimRepo, sha256Hex } from '../simulator/repo.js';
import { startSimServer, status, type SimServer } from '../simulator/server.js';

const GUN = '127.0.0.1:5999/enforce/app';
const manifest = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json"}');
const other = Buffer.from(
  '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","x":2}',
);
const child = `sha256:${'c'.repeat(64)}`;
const index = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: child, size: 10 }],
  }),
);
const digestOf = (b: Buffer): string => `sha256:${sha256Hex(b)}`;

let tmp: string;
let n = 0;
const open: Array<() => Promise<void>> = [];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'signet-enforcer-'));
});
afterEach(async () => {
  while (open.length > 0) await open.pop()?.();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A repository with v1 (releases + alice), bob signing v1 as other bytes, and multi → an index. */
async function served(setup?: (r: SimRepo) => void): Promise<{ repo: SimRepo; sim: SimServer }> {
  const repo = await SimRepo.create(GUN);
  repo.addDelegation('targets/releases');
  repo.addDelegation('targets/alice');
  repo.addDelegation('targets/bob');
  repo.setTarget('v1', sha256Hex(manifest), manifest.length, 'targets/releases');
  repo.setTarget('v1', sha256Hex(manifest), manifest.length, 'targets/alice');
  repo.setTarget('v1', sha256Hex(other), other.length, 'targets/bob');
  repo.setTarget('multi', sha256Hex(index), index.length, 'targets/releases');
  setup?.(repo);
  await repo.publish();
  const sim = await startSimServer(repo);
  open.push(() => sim.close());
  return { repo, sim };
}

async function enforcer(sim: SimServer, o: Partial<EnforcerOptions> & { policy?: unknown } = {}): Promise<Enforcer> {
  const dir = o.trustDir ?? path.join(tmp, `trust-${n++}`);
  let policyFile: string | undefined;
  if (o.policy !== undefined) {
    policyFile = path.join(tmp, `policy-${n++}.json`);
    await writeFile(policyFile, JSON.stringify(o.policy));
  }
  const { policy: _p, ...rest } = o;
  const e = await createEnforcer({
    trustDir: dir,
    server: sim.url,
    tofu: true,
    retries: 0,
    ...(policyFile !== undefined ? { policyFile } : {}),
    ...rest,
  });
  open.push(() => e.close());
  return e;
}

const count = (sim: SimServer, file: string): number => sim.requests.filter((r) => r === file).length;

describe('warm cache', () => {
  it('concurrent requests for one repository share one update; warm hits make no request', async () => {
    const { sim } = await served();
    const e = await enforcer(sim);
    const verdicts = await Promise.all(Array.from({ length: 20 }, (_, i) => e.checkTag(GUN, i % 2 ? 'v1' : 'multi')));
    expect(verdicts.every((v) => v.allowed && v.trust?.source === 'fresh')).toBe(true);
    expect(verdicts[1]).toMatchObject({ repository: GUN, tag: 'v1', digest: digestOf(manifest), mode: 'enforce' });
    expect(count(sim, 'root.json')).toBe(1);
    expect(count(sim, 'timestamp.json')).toBe(1);
    const before = sim.requests.length;
    for (let i = 0; i < 100; i++) await e.checkTag(GUN, 'v1');
    expect(sim.requests.length).toBe(before);
  });

  it('entries expire by time (cacheTtlMs)', async () => {
    const { sim } = await served();
    let now = Date.now();
    const e = await enforcer(sim, { cacheTtlMs: 60_000, now: () => now });
    await e.checkTag(GUN, 'v1');
    now += 59_000;
    await e.checkTag(GUN, 'v1');
    expect(count(sim, 'timestamp.json')).toBe(1);
    now += 2_000;
    const v = await e.checkTag(GUN, 'v1');
    expect(v.allowed).toBe(true);
    expect(count(sim, 'timestamp.json')).toBe(2);
  });

  it('a digest signed after the copy was loaded is checked once more, at most once a second', async () => {
    const { repo, sim } = await served();
    let now = Date.now();
    const e = await enforcer(sim, { cacheTtlMs: 60_000, now: () => now });
    expect((await e.checkTag(GUN, 'v1')).allowed).toBe(true);
    // the pipeline signs a new image, then deploys it by digest within the cache TTL
    const fresh = Buffer.from('{"schemaVersion":2,"fresh":true}');
    repo.setTarget('v2', sha256Hex(fresh), fresh.length, 'targets/releases');
    await repo.publish();
    now += 1_500;
    const fetchManifest = (d: string): Promise<Buffer> =>
      Promise.resolve(d === digestOf(index) ? index : d === digestOf(fresh) ? fresh : manifest);
    const v = await e.checkDigest(GUN, digestOf(fresh), { fetchManifest });
    expect(v).toMatchObject({ allowed: true, digest: digestOf(fresh) });
    expect(count(sim, 'timestamp.json')).toBe(2);
    expect((await e.checkTag(GUN, 'v2')).allowed).toBe(true);
    // an unsigned digest right after that reload is refused from the copy: no request per refusal
    const unsigned = await e.checkDigest(GUN, `sha256:${'d'.repeat(64)}`, { fetchManifest });
    expect(unsigned).toMatchObject({ allowed: false, refusal: { code: 'NOT_SIGNED' } });
    expect(count(sim, 'timestamp.json')).toBe(2);
  });

  it('entries expire when the metadata expires, before the TTL', async () => {
    const { sim } = await served((r) => {
      r.expires['timestamp'] = new Date(Date.now() + 10 * 60_000);
    });
    let now = Date.now();
    const e = await enforcer(sim, { cacheTtlMs: 3_600_000, now: () => now });
    await e.checkTag(GUN, 'v1');
    now += 9 * 60_000;
    await e.checkTag(GUN, 'v1');
    expect(count(sim, 'timestamp.json')).toBe(1);
    now += 2 * 60_000;
    await e.checkTag(GUN, 'v1');
    expect(count(sim, 'timestamp.json')).toBe(2);
  });

  it('a failed update is not cached: the next request tries again', async () => {
    const { sim } = await served();
    const e = await enforcer(sim);
    sim.override('timestamp.json', status(500, '{}'));
    const bad = await e.checkTag(GUN, 'v1');
    expect(bad.allowed).toBe(false);
    expect(bad.refusal?.code).toBeTruthy();
    sim.clearOverrides();
    const good = await e.checkTag(GUN, 'v1');
    expect(good.allowed).toBe(true);
  });
});

describe('policy evaluation', () => {
  it('requires the given number of distinct signing roles listing the same digest', async () => {
    const { sim } = await served();
    const rule = (roles: string[], min: number): unknown => ({
      version: 1,
      rules: [{ repository: '127.0.0.1:5999/enforce/*', signers: { roles, min } }],
    });
    const two = await enforcer(sim, { policy: rule(['targets/alice', 'targets/bob'], 2) });
    const refused = await two.checkTag(GUN, 'v1');
    expect(refused).toMatchObject({ allowed: false, mode: 'enforce', refusal: { code: 'SIGNERS_REQUIRED' } });
    expect(refused.refusal?.message).toContain('signed by targets/alice'); // bob signed other bytes
    const one = await enforcer(sim, { policy: rule(['targets/alice', 'targets/bob'], 1) });
    expect((await one.checkTag(GUN, 'v1')).allowed).toBe(true);
    const glob = await enforcer(sim, { policy: rule(['targets/*'], 2) }); // releases + alice
    expect((await glob.checkTag(GUN, 'v1')).allowed).toBe(true);
    const three = await enforcer(sim, { policy: rule(['targets/*'], 3) });
    expect((await three.checkTag(GUN, 'v1')).refusal?.code).toBe('SIGNERS_REQUIRED');
  });

  it('report allows and says why it would refuse; skip allows without any request; enforce refuses', async () => {
    const { sim } = await served();
    const policy = {
      version: 1,
      rules: [
        { repository: '127.0.0.1:5999/enforce/app', mode: 'report' },
        { repository: '127.0.0.1:5999/skipped/**', mode: 'skip' },
      ],
    };
    const e = await enforcer(sim, { policy });
    expect(await e.checkTag(GUN, 'unsigned')).toMatchObject({
      allowed: true,
      mode: 'report',
      refusal: { code: 'NOT_SIGNED' },
    });
    const before = sim.requests.length;
    expect(await e.checkTag('127.0.0.1:5999/skipped/x/y', 'v1')).toEqual({
      reference: '127.0.0.1:5999/skipped/x/y',
      repository: '127.0.0.1:5999/skipped/x/y',
      tag: 'v1',
      mode: 'skip',
      allowed: true,
    });
    expect(sim.requests.length).toBe(before);
    const strict = await enforcer(sim);
    expect(await strict.checkTag(GUN, 'unsigned')).toMatchObject({ allowed: false, refusal: { code: 'NOT_SIGNED' } });
  });

  it('digests: signed ones, children of a signed index, nothing else; references as in a pod spec', async () => {
    const { sim } = await served();
    const e = await enforcer(sim);
    expect(await e.checkDigest(GUN, digestOf(manifest))).toMatchObject({ allowed: true, digest: digestOf(manifest) });
    const fetched: string[] = [];
    const fetchManifest = (d: string): Promise<Buffer> => {
      fetched.push(d);
      return Promise.resolve(d === digestOf(index) ? index : manifest);
    };
    expect(await e.checkDigest(GUN, child, { fetchManifest })).toMatchObject({ allowed: true, digest: child });
    expect(await e.checkDigest(GUN, digestOf(other), { fetchManifest })).toMatchObject({
      allowed: false,
      refusal: { code: 'NOT_SIGNED' },
    });
    expect(fetched.sort()).toEqual([digestOf(index), digestOf(manifest)].sort()); // each signed manifest once
    expect(await e.checkReference(`${GUN}:v1`)).toMatchObject({ allowed: true, digest: digestOf(manifest) });
    expect(await e.checkReference(`${GUN}:v1@${child}`)).toMatchObject({ allowed: true, tag: 'v1', digest: child });
    expect((await e.checkReference('Not A Reference')).allowed).toBe(false);
  });

  it('a signed index whose bytes do not match its digest gives no children', async () => {
    const { sim } = await served();
    const e = await enforcer(sim);
    const lying = (): Promise<Buffer> => Promise.resolve(crypto.randomBytes(20));
    expect((await e.checkDigest(GUN, child, { fetchManifest: lying })).refusal?.code).toBe('DIGEST_MISMATCH');
  });
});

describe('trust server unreachable', () => {
  it('uses the disk cache only within the rule maxStale, and says so', async () => {
    const { sim } = await served();
    const trustDir = path.join(tmp, 'stale');
    const warm = await enforcer(sim, { trustDir });
    expect((await warm.checkTag(GUN, 'v1')).trust?.source).toBe('fresh');
    await sim.close();
    const ts = path.join(trustDir, 'tuf', ...GUN.split('/'), 'metadata', 'timestamp.json');
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    await utimes(ts, twoHoursAgo, twoHoursAgo);
    const rule = (maxStale: string): unknown => ({ version: 1, rules: [{ repository: '**', maxStale }] });

    const within = await enforcer(sim, { trustDir, policy: rule('3h') });
    const v = await within.checkTag(GUN, 'v1');
    expect(v).toMatchObject({ allowed: true, digest: digestOf(manifest), trust: { source: 'cached' } });
    expect(v.trust?.ageSeconds).toBeGreaterThanOrEqual(7200);
    expect(v.trust?.ageSeconds).toBeLessThan(7200 + 600);

    const past = await enforcer(sim, { trustDir, policy: rule('1h') });
    expect(await past.checkTag(GUN, 'v1')).toMatchObject({ allowed: false, refusal: { code: 'TRUST_STALE' } });
    const none = await enforcer(sim, { trustDir });
    expect((await none.checkTag(GUN, 'v1')).refusal?.code).toBe('TRUST_STALE');
    const override = await enforcer(sim, { trustDir, maxStaleMs: 3 * 3_600_000 });
    expect((await override.checkTag(GUN, 'v1')).allowed).toBe(true);
  });
});
