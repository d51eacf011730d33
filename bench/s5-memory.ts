// Measurement 5: server resident memory holding 10,000 repositories. Fresh servers; every
// repository is made by direct HTTPS publishes of pre-made signed metadata (GET timestamp.key,
// then one multipart POST of root+targets+snapshot), one at a time. RSS from /proc/<pid>/status.
// One at a time because notary-signer 0.7's memory key store is not safe for concurrent use: with 8
// publishes in flight it died at ~6,700 repositories ("fatal error: concurrent map read and map
// write" in trustmanager.(*GenericKeyStore).GetKeyInfo, CreateKey racing Sign), in two runs out of two.
import { readdir, stat } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { NotaryPeers } from '../test/harness/notary-peers.js';
import type { Ctx } from './lib/context.js';
import { notaryPids, startBoth } from './lib/context.js';
import { buildRepo, ecdsaKey, fakeTargets, rootKey, TrustHttp, type BenchKey } from './lib/minituf.js';
import type { SignetServer } from './lib/signet.js';
import { attempt, errMsg, log, rssKiB, sleep, type Maybe } from './lib/util.js';

export interface MemOne {
  idleRssKiB: number;
  loadedRssKiB: number;
  peakRssKiB: number;
  perProcess: Record<string, { idle: number; loaded: number; peak: number }>;
  createSeconds: number;
  reposPerSecond: number;
  dataBytes?: number;
  /** Signet only: V8 heap / external bytes from GET /metrics after the load */
  heap?: Record<string, number>;
  /** publishes that got a 5xx and were retried */
  retried?: number;
  retryExamples?: string[];
}

export interface MemorySection {
  measuredAt: string;
  repos: number;
  targetsPerRepo: number;
  concurrency?: number;
  notary: Maybe<MemOne>;
  signet: Maybe<MemOne>;
}

/** V8 heap and external memory from the server's Prometheus metrics (prom-client defaults), if exposed. */
async function nodeHeap(http: TrustHttp): Promise<Record<string, number> | undefined> {
  try {
    const r = await http.request('GET', '/metrics');
    if (r.status !== 200) return undefined;
    const out: Record<string, number> = {};
    for (const name of [
      'nodejs_heap_size_used_bytes',
      'nodejs_heap_size_total_bytes',
      'nodejs_external_memory_bytes',
    ]) {
      const m = new RegExp(`^(?:signet_)?${name}(?:\\{[^}]*\\})? ([0-9.e+]+)`, 'm').exec(r.body.toString('utf8'));
      if (m) out[name] = Number(m[1]);
    }
    return Object.keys(out).length ? out : undefined;
  } catch {
    return undefined;
  }
}

async function duBytes(p: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(p, { withFileTypes: true })) {
    const f = path.join(p, e.name);
    if (e.isDirectory()) total += await duBytes(f);
    else if (e.isFile()) total += (await stat(f)).size;
  }
  return total;
}

export const CONCURRENCY = 1;

async function load(
  http: TrustHttp,
  repos: number,
  keys: { root: BenchKey; targets: BenchKey; snapshot: BenchKey },
  perRepo: number,
  retries: string[],
): Promise<number> {
  const targets = fakeTargets(perRepo);
  let next = 0;
  const t0 = process.hrtime.bigint();
  const deadline = Date.now() + 20 * 60_000;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= repos) return;
      if (Date.now() > deadline) throw new Error(`creating ${repos} repositories took over 20 min (at ${i})`);
      const gun = `bench/mem/r${String(i).padStart(6, '0')}`;
      // A 5xx is retried (at most 3 tries per step) and counted: notary-server answered a few
      // timestamp.key GETs with 500 UNKNOWN, or a publish with "rpc error: code = Unavailable" (its gRPC
      // connection to notary-signer was closed), under this load.
      for (let tries = 1; ; tries++) {
        try {
          const ts = await http.timestampKey(gun);
          await http.publish(gun, await buildRepo(keys, ts, targets));
          break;
        } catch (e) {
          if (tries >= 3 || !/→ 5\d\d|rpc error: code = Unavailable/.test(errMsg(e))) throw e;
          retries.push(`${gun}: ${errMsg(e).slice(0, 200)}`);
          await sleep(200);
        }
      }
      if (i % 2000 === 1999) log(`s5: ${i + 1} repositories`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function measure(
  pids: Record<string, number>,
  http: TrustHttp,
  repos: number,
  keys: { root: BenchKey; targets: BenchKey; snapshot: BenchKey },
  perRepo: number,
): Promise<MemOne> {
  await sleep(2000);
  const idle: Record<string, number> = {};
  for (const [k, pid] of Object.entries(pids)) idle[k] = (await rssKiB(pid)).rss;
  const retries: string[] = [];
  const secs = await load(http, repos, keys, perRepo, retries);
  await sleep(5000);
  const perProcess: MemOne['perProcess'] = {};
  for (const [k, pid] of Object.entries(pids)) {
    const m = await rssKiB(pid);
    perProcess[k] = { idle: idle[k]!, loaded: m.rss, peak: m.hwm };
  }
  const sum = (f: (v: { idle: number; loaded: number; peak: number }) => number): number =>
    Object.values(perProcess).reduce((a, v) => a + f(v), 0);
  return {
    idleRssKiB: sum((v) => v.idle),
    loadedRssKiB: sum((v) => v.loaded),
    peakRssKiB: sum((v) => v.peak),
    perProcess,
    createSeconds: secs,
    reposPerSecond: repos / secs,
    retried: retries.length,
    ...(retries.length ? { retryExamples: retries.slice(0, 3) } : {}),
  };
}

export async function runMemory(
  ctx: Pick<Ctx, 'work' | 'opts' | 'caPem' | 'signetCert' | 'profDir'>,
): Promise<MemorySection> {
  const repos = ctx.opts.quick ? 1000 : 10000;
  const perRepo = 5;
  const keys = { root: await rootKey('bench/*'), targets: ecdsaKey(), snapshot: ecdsaKey() };
  log('s5: starting fresh servers');
  const fresh: { notary: NotaryPeers; signet: Maybe<SignetServer> } = await startBoth(ctx, 'signet-mem');
  try {
    log(`s5: notary, ${repos} repositories`);
    const notary = await attempt('s5 notary', async () => {
      const p = await notaryPids(fresh.notary);
      const http = new TrustHttp(fresh.notary.url, readFileSync(fresh.notary.caFile));
      try {
        return await measure({ 'notary-server': p.server, 'notary-signer': p.signer }, http, repos, keys, perRepo);
      } finally {
        http.close();
      }
    });
    await fresh.notary.stop();
    const s = fresh.signet;
    const signet: Maybe<MemOne> = !s.ok
      ? { ok: false, missing: s.missing }
      : await attempt('s5 signet', async () => {
          log(`s5: signet, ${repos} repositories`);
          const http = new TrustHttp(s.value.url, ctx.caPem);
          try {
            const m = await measure({ 'signet server': s.value.pid }, http, repos, keys, perRepo);
            return { ...m, dataBytes: await duBytes(s.value.dataDir), heap: await nodeHeap(http) };
          } finally {
            http.close();
          }
        });
    return {
      measuredAt: new Date().toISOString(),
      repos,
      targetsPerRepo: perRepo,
      concurrency: CONCURRENCY,
      notary,
      signet,
    };
  } finally {
    await fresh.notary.stop();
    if (fresh.signet.ok) await fresh.signet.value.stop();
  }
}
