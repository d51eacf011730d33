// Measurement 1: GET throughput and latency of timestamp.json and a 1,000-target targets.json,
// 8 and 64 keep-alive HTTPS connections, against notary-server, Signet and a bare node:https server
// sending the same bytes. One generator (wrk) for all, run as its own process. Every row is run plain
// and with `Accept-Encoding: gzip` (what Go's clients send); notary-server and the bare server ignore
// it, Signet compresses (src/server/encoding.ts). A second Signet server runs `--workers 2` (one port,
// two worker processes) for the scaling from one process to two.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startOnFreePort, httpOk } from '../test/harness/notary-peers.js';
import { startProc } from '../test/harness/proc.js';
import type { Ctx } from './lib/context.js';
import { notaryPids } from './lib/context.js';
import { createRepo, ecdsaKey, fakeTargets, rootKey, TrustHttp } from './lib/minituf.js';
import { startSignetServer, type SignetServer } from './lib/signet.js';
import { attempt, cpuMs, log, type Maybe } from './lib/util.js';
import { wrk, type WrkResult } from './lib/wrk.js';

type Measured = WrkResult & { serverCpuPct: number; loadavg1: number };
export type GetCell = Maybe<Measured & { roundsRps: number[] }>;

export interface GetRow {
  file: 'timestamp.json' | 'targets.json';
  /** the request's Accept-Encoding (absent in results from before gzip rows existed) */
  encoding?: 'identity' | 'gzip';
  bytes: Record<string, number>;
  connections: number;
  notary: GetCell;
  signet: GetCell;
  /** `signet server --workers 2` (absent in results from before it existed) */
  signetWorkers?: GetCell;
  bare: GetCell;
}

type ServerName = 'notary' | 'signet' | 'signetWorkers' | 'bare';

/** The primary and its worker processes. */
async function withChildren(pid: number): Promise<number[]> {
  const kids = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return [pid, ...kids.trim().split(/\s+/).filter(Boolean).map(Number)];
}

export interface GetSection {
  measuredAt: string;
  generator: string;
  targets: number;
  rows: GetRow[];
}

const GUN = 'bench/get';

export async function runGet(ctx: Ctx): Promise<GetSection> {
  const dir = path.join(ctx.work, 's1');
  await mkdir(dir, { recursive: true });
  const keys = { root: await rootKey('bench/*'), targets: ecdsaKey(), snapshot: ecdsaKey() };
  const targets = fakeTargets(1000);

  log('s1: publishing a 1,000-target repository to notary-server');
  const nHttp = new TrustHttp(ctx.notary.url, readFileSync(ctx.notary.caFile));
  await createRepo(nHttp, GUN, keys, targets);
  const sHttp = ctx.signet.ok ? new TrustHttp(ctx.signet.value.url, ctx.caPem) : undefined;
  const signetRepo: Maybe<true> = sHttp
    ? await attempt('s1: publish to signet', async () => {
        await createRepo(sHttp, GUN, keys, targets);
        return true as const;
      })
    : { ok: false, missing: ctx.signet.ok ? '' : ctx.signet.missing };

  // The bare server sends notary-server's bytes.
  const bareDir = path.join(dir, 'bare-files');
  await mkdir(bareDir, { recursive: true });
  const bytes: Record<string, Record<string, number>> = { 'timestamp.json': {}, 'targets.json': {} };
  for (const f of ['timestamp.json', 'targets.json'] as const) {
    const b = await nHttp.get(`/v2/${GUN}/_trust/tuf/${f}`);
    await writeFile(path.join(bareDir, f), b);
    bytes[f]!.notary = b.length;
    bytes[f]!.bare = b.length;
    if (sHttp && signetRepo.ok) bytes[f]!.signet = (await sHttp.get(`/v2/${GUN}/_trust/tuf/${f}`)).length;
    if (signetRepo.ok && ctx.signet.ok)
      bytes[f]!['signet gzip'] = await gzipBytes(`${ctx.signet.value.url}/v2/${GUN}/_trust/tuf/${f}`, ctx.caPem);
  }
  nHttp.close();
  sHttp?.close();

  log('s1: starting signet server --workers 2');
  let workersServer: SignetServer | undefined;
  const workers: Maybe<{ url: string; pids: number[] }> = await attempt('s1: signet --workers 2', async () => {
    workersServer = await startSignetServer({
      dir: ctx.work,
      cert: ctx.signetCert.cert,
      key: ctx.signetCert.key,
      ca: ctx.caPem,
      name: 'signet-workers',
      args: ['--workers', '2'],
    });
    const wHttp = new TrustHttp(workersServer.url, ctx.caPem);
    try {
      await createRepo(wHttp, GUN, keys, targets);
      for (const f of ['timestamp.json', 'targets.json'] as const)
        bytes[f]!['signet --workers 2'] = (await wHttp.get(`/v2/${GUN}/_trust/tuf/${f}`)).length;
    } finally {
      wHttp.close();
    }
    return { url: workersServer.url, pids: await withChildren(workersServer.pid) };
  });

  const bare = await startOnFreePort((port, attempt) =>
    startProc({
      name: attempt === 0 ? 'bare-https' : `bare-https.${attempt}`,
      cmd: process.execPath,
      args: [
        path.resolve('bench/.build/bench/bare-https.js'),
        '--port',
        String(port),
        '--cert',
        ctx.bareCert.cert,
        '--key',
        ctx.bareCert.key,
        '--dir',
        bareDir,
      ],
      logDir: path.join(ctx.work, 'logs'),
      ready: () => httpOk(`https://127.0.0.1:${port}/x/timestamp.json`, ctx.caPem),
      listenPort: port,
    }),
  );

  const np = await notaryPids(ctx.notary);
  const servers: { name: ServerName; url: Maybe<string>; pids: number[] }[] = [
    { name: 'notary', url: { ok: true, value: ctx.notary.url }, pids: [np.server, np.signer] },
    {
      name: 'signet',
      url:
        ctx.signet.ok && signetRepo.ok
          ? { ok: true, value: ctx.signet.value.url }
          : { ok: false, missing: ctx.signet.ok ? (signetRepo.ok ? '' : signetRepo.missing) : ctx.signet.missing },
      pids: ctx.signet.ok ? [ctx.signet.value.pid] : [],
    },
    {
      name: 'signetWorkers',
      url: workers.ok ? { ok: true, value: workers.value.url } : workers,
      pids: workers.ok ? workers.value.pids : [],
    },
    { name: 'bare', url: { ok: true, value: `https://127.0.0.1:${bare.port}` }, pids: [bare.proc.pid] },
  ];

  // Rounds interleave the servers (notary, signet, signet --workers 2, bare, notary, …) so a change in the
  // machine's background load hits all of them alike; the round with the median rate is reported.
  const rounds = ctx.opts.quick ? 1 : 5;
  const rows: GetRow[] = [];
  try {
    for (const file of ['timestamp.json', 'targets.json'] as const) {
      for (const [encoding, connections] of [
        ['identity', 8],
        ['identity', 64],
        ['gzip', 8],
        ['gzip', 64],
      ] as const) {
        const headers = encoding === 'gzip' ? ['Accept-Encoding: gzip'] : [];
        const row: Partial<GetRow> = { file, encoding, connections, bytes: bytes[file]! };
        const got: Record<string, Measured[]> = { notary: [], signet: [], signetWorkers: [], bare: [] };
        const failed: Record<string, string> = {};
        for (let round = 0; round < rounds; round++) {
          for (const s of servers) {
            const u = s.url;
            if (!u.ok || failed[s.name] !== undefined) continue;
            log(
              `s1: wrk ${s.name} ${file} ${encoding} c=${connections} ${ctx.opts.durationS}s (round ${round + 1}/${rounds})`,
            );
            const r = await attempt(`s1 ${s.name} ${file}`, async () => {
              const load = os.loadavg()[0] ?? NaN;
              const cpu0 = (await Promise.all(s.pids.map(cpuMs))).reduce((a, b) => a + b, 0);
              const w = await wrk(`${u.value}/v2/${GUN}/_trust/tuf/${file}`, {
                connections,
                threads: ctx.opts.wrkThreads,
                durationS: ctx.opts.durationS,
                workDir: dir,
                headers,
              });
              const cpu1 = (await Promise.all(s.pids.map(cpuMs))).reduce((a, b) => a + b, 0);
              return { ...w, serverCpuPct: ((cpu1 - cpu0) / (w.durationS * 1000)) * 100, loadavg1: load };
            });
            if (r.ok) got[s.name]!.push(r.value);
            else failed[s.name] = r.missing;
          }
        }
        for (const s of servers) {
          if (!s.url.ok) row[s.name] = { ok: false, missing: s.url.missing || 'not available yet' };
          else if (failed[s.name] !== undefined) row[s.name] = { ok: false, missing: failed[s.name]! };
          else {
            const all = got[s.name]!;
            const sorted = [...all].sort((a, b) => a.rps - b.rps);
            row[s.name] = {
              ok: true,
              value: { ...sorted[(sorted.length - 1) >> 1]!, roundsRps: all.map((x) => Math.round(x.rps)) },
            };
          }
        }
        rows.push(row as GetRow);
      }
    }
  } finally {
    await bare.proc.stop();
    await workersServer?.stop();
  }
  return {
    measuredAt: new Date().toISOString(),
    generator: `wrk -t${ctx.opts.wrkThreads} -c{8,64} -d${ctx.opts.durationS}s (keep-alive, HTTPS), ${rounds} interleaved round(s), median round`,
    targets: targets.length,
    rows,
  };
}

/** Bytes of the body a server sends to a client that accepts gzip (Content-Length, or counted). */
function gzipBytes(url: string, ca: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, headers: { 'accept-encoding': 'gzip' } }, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => (n += c.length));
        res.on('end', () => resolve(n));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}
