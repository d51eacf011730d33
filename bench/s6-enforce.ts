// Measurement 6: a warm enforcer decision in-process (src/enforce createEnforcer), the path the proxy
// and the admission webhook take for every manifest request / pod image once the repository's trust
// data is in the warm cache. The trust data comes from the simulated trust server of the tests
// (test/simulator, real signed metadata over loopback HTTP); after the one warming update no request
// is made, which the measurement checks. Each decision is timed alone (hrtime around one await).
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createEnforcer } from '../src/enforce/index.js';
import { SimRepo } from '../test/simulator/repo.js';
import { startSimServer } from '../test/simulator/server.js';
import { rmrf } from './lib/context.js';
import { log, round } from './lib/util.js';

export interface DecisionTiming {
  decisions: number;
  medianMs: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export interface EnforceSection {
  measuredAt: string;
  tags: number;
  /** checkTag(repository, tag) on a warm entry */
  checkTag: DecisionTiming;
  /** checkReference("host/name:tag"), as the webhook calls it for each image of a pod */
  checkReference: DecisionTiming;
  /** checkDigest(repository, signed digest) */
  checkDigest: DecisionTiming;
  /** requests to the trust server during the timed loops (must be 0: all hits) */
  requestsDuringLoops: number;
  limitMs: number;
}

const LIMIT_MS = 1;

async function timeDecisions(n: number, f: (i: number) => Promise<{ allowed: boolean }>): Promise<DecisionTiming> {
  for (let i = 0; i < Math.min(n, 2000); i++) await f(i); // JIT warm-up, not recorded
  const ms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const v = await f(i);
    ms[i] = Number(process.hrtime.bigint() - t0) / 1e6;
    if (!v.allowed) throw new Error(`decision ${i} refused: the warm path must allow every signed tag`);
  }
  const sorted = Array.from(ms).sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return {
    decisions: n,
    medianMs: round(at(0.5), 4),
    p99Ms: round(at(0.99), 4),
    maxMs: round(sorted[sorted.length - 1]!, 4),
    meanMs: round(sorted.reduce((a, b) => a + b, 0) / n, 4),
  };
}

export async function runEnforce(quick: boolean): Promise<EnforceSection> {
  const tags = 100;
  const n = quick ? 5_000 : 50_000;
  const gun = '127.0.0.1:5000/bench/enforce';
  const repo = await SimRepo.create(gun);
  repo.addDelegation('targets/releases');
  const digests: string[] = [];
  for (let i = 0; i < tags; i++) {
    const hex = i.toString(16).padStart(64, '0');
    digests.push(`sha256:${hex}`);
    repo.setTarget(`t${i}`, hex, 500 + i, 'targets/releases');
  }
  await repo.publish();
  const sim = await startSimServer(repo);
  const trustDir = await mkdtemp(path.join(os.tmpdir(), 'signet-bench-enforce-'));
  const enforcer = await createEnforcer({ trustDir, server: sim.url, tofu: true, cacheTtlMs: 3_600_000 });
  try {
    const first = await enforcer.checkTag(gun, 't0');
    if (!first.allowed) throw new Error(`warming update refused: ${first.refusal?.message ?? ''}`);
    const before = sim.requests.length;
    log(`enforce: ${n} warm decisions per kind over ${tags} tags`);
    const checkTag = await timeDecisions(n, (i) => enforcer.checkTag(gun, `t${i % tags}`));
    const checkReference = await timeDecisions(n, (i) => enforcer.checkReference(`${gun}:t${i % tags}`));
    const checkDigest = await timeDecisions(n, (i) => enforcer.checkDigest(gun, digests[i % tags]!));
    return {
      measuredAt: new Date().toISOString(),
      tags,
      checkTag,
      checkReference,
      checkDigest,
      requestsDuringLoops: sim.requests.length - before,
      limitMs: LIMIT_MS,
    };
  } finally {
    await enforcer.close();
    await sim.close();
    await rmrf(trustDir);
  }
}
