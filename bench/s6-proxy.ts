// Measurement 6: the warm manifest GET rate through `signet proxy` against the registry directly.
// One docker-registry 2.8 with one signed image (signed by the Signet CLI on a Signet server); the
// proxy (the real CLI, plain HTTP on 127.0.0.1) in front of it. wrk asks both for the manifest by tag
// with a Docker Accept header; the proxy resolves the tag through its warm trust cache, fetches the
// signed digest upstream and checks the bytes. Rounds interleave direct and proxy runs.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { httpOk, startOnFreePort } from '../test/harness/notary-peers.js';
import { startProc } from '../test/harness/proc.js';
import { pushImage } from '../test/harness/push-image.js';
import { startRegistry } from '../test/harness/registry.js';
import { pidsByCmdline, type Options } from './lib/context.js';
import { SIGNET_MAIN, signetCli, signetCommandMissing, startSignetServer } from './lib/signet.js';
import { attempt, check, cpuMs, log, type Maybe } from './lib/util.js';
import { wrk, type WrkResult } from './lib/wrk.js';

type Measured = WrkResult & { cpuPct: number };
export type ProxyCell = Maybe<Measured & { roundsRps: number[] }>;

export interface ProxyRow {
  connections: number;
  direct: ProxyCell;
  proxy: ProxyCell;
  /** the proxy with --manifest-cache 0 */
  uncached?: ProxyCell;
}

const WHICH = ['direct', 'proxy', 'uncached'] as const;
type Which = (typeof WHICH)[number];

export interface ProxySection {
  measuredAt: string;
  generator: string;
  manifestBytes: number;
  rows: ProxyRow[];
}

const ACCEPT = 'Accept: application/vnd.docker.distribution.manifest.v2+json';

export async function runProxy(base: {
  work: string;
  signetCert: { cert: string; key: string };
  caPem: Buffer;
  opts: Options;
}): Promise<ProxySection> {
  const missing = await signetCommandMissing(['proxy']);
  if (missing) throw new Error(missing);
  const dir = path.join(base.work, 's6');
  await mkdir(dir, { recursive: true });
  const caFile = path.join(dir, 'ca.crt');
  await writeFile(caFile, base.caPem);
  const registry = await startRegistry();
  const trust = await startSignetServer({ dir: base.work, ...base.signetCert, ca: base.caPem, name: 'signet-s6' });
  const stops: (() => Promise<void>)[] = [];
  try {
    const img = await pushImage(registry.host, 'bench/proxy', 'v1');
    log(`s6: signing ${img.gun}:v1 with the Signet CLI`);
    const cli = signetCli({ server: trust.url, caFile, trustDir: path.join(dir, 'trust') });
    check(await cli.run(['init', img.gun]), 'signet init');
    check(await cli.run(['sign', `${img.gun}:v1`]), 'signet sign');

    const startProxy = (name: string, extra: string[]) =>
      startOnFreePort((p, n) =>
        startProc({
          name: n === 0 ? name : `${name}.${n}`,
          cmd: process.execPath,
          args: [
            SIGNET_MAIN,
            ...['--server', trust.url, '--tls-ca', caFile, '--trust-dir', cli.trustDir],
            ...['proxy', '--upstream', `http://${registry.host}`, '--insecure-http', '--listen', `127.0.0.1:${p}`],
            ...extra,
          ],
          env: { ...process.env, NODE_ENV: 'production' },
          logDir: path.join(base.work, 'logs'),
          ready: () => httpOk(`http://127.0.0.1:${p}/readyz`),
          listenPort: p,
          timeoutMs: 30_000,
        }),
      );
    const proxy = await startProxy('signet-proxy', []);
    stops.push(() => proxy.proc.stop());
    // the same proxy without its manifest cache: every GET is also one upstream GET by digest
    const uncached = await startProxy('signet-proxy-uncached', ['--manifest-cache', '0']);
    stops.push(() => uncached.proc.stop());
    const urls: Record<Which, string> = {
      direct: `http://${registry.host}/v2/bench/proxy/manifests/v1`,
      proxy: `http://127.0.0.1:${proxy.port}/v2/bench/proxy/manifests/v1`,
      uncached: `http://127.0.0.1:${uncached.port}/v2/bench/proxy/manifests/v1`,
    };
    const procPid: Record<Which, number | undefined> = {
      direct: undefined,
      proxy: proxy.proc.pid,
      uncached: uncached.proc.pid,
    };
    const warm = await fetch(urls.proxy, { headers: { accept: ACCEPT.slice(8) } });
    await warm.arrayBuffer();
    if (warm.status !== 200 || warm.headers.get('docker-content-digest') !== img.digest) {
      throw new Error(
        `s6: the proxy answered ${warm.status} ${warm.headers.get('docker-content-digest')} for the signed tag`,
      );
    }
    const regPid = await registryPid(registry.dir);
    const rounds = base.opts.quick ? 1 : 3;
    const rows: ProxyRow[] = [];
    for (const connections of [16, 64]) {
      const got: Record<Which, Measured[]> = { direct: [], proxy: [], uncached: [] };
      const failed: Partial<Record<Which, string>> = {};
      for (let round = 0; round < rounds; round++) {
        for (const which of WHICH) {
          if (failed[which] !== undefined) continue;
          log(`s6: wrk ${which} c=${connections} ${base.opts.durationS}s (round ${round + 1}/${rounds})`);
          const own = procPid[which];
          const pids = own !== undefined ? [own, regPid] : [regPid];
          const r = await attempt(`s6 ${which}`, async () => {
            const cpu0 = (await Promise.all(pids.map(cpuMs))).reduce((a, b) => a + b, 0);
            const w = await wrk(urls[which], {
              connections,
              threads: base.opts.wrkThreads,
              durationS: base.opts.durationS,
              workDir: dir,
              headers: [ACCEPT],
            });
            const cpu1 = (await Promise.all(pids.map(cpuMs))).reduce((a, b) => a + b, 0);
            return { ...w, cpuPct: ((cpu1 - cpu0) / (w.durationS * 1000)) * 100 };
          });
          if (r.ok) got[which].push(r.value);
          else failed[which] = r.missing;
        }
      }
      const cell = (which: Which): ProxyCell => {
        if (failed[which] !== undefined) return { ok: false, missing: failed[which] };
        const sorted = [...got[which]].sort((a, b) => a.rps - b.rps);
        return {
          ok: true,
          value: { ...sorted[(sorted.length - 1) >> 1]!, roundsRps: got[which].map((x) => Math.round(x.rps)) },
        };
      };
      rows.push({ connections, direct: cell('direct'), proxy: cell('proxy'), uncached: cell('uncached') });
    }
    return {
      measuredAt: new Date().toISOString(),
      generator: `wrk -t${base.opts.wrkThreads} -c{16,64} -d${base.opts.durationS}s (keep-alive, plain HTTP), ${rounds} interleaved round(s), median round`,
      manifestBytes: img.size,
      rows,
    };
  } finally {
    for (const stop of stops) await stop();
    await trust.stop();
    await registry.stop();
  }
}

/** The docker-registry process of the harness registry in `dir` (its CPU time is part of both paths). */
async function registryPid(dir: string): Promise<number> {
  const mine = (await pidsByCmdline(dir)).find((p) => p.cmd.startsWith('/usr/bin/docker-registry'));
  if (!mine) throw new Error(`s6: no docker-registry process under ${dir}`);
  return mine.pid;
}
