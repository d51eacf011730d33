// Measurement 4: repository scale. Repositories holding 1,000 / 10,000 / 100,000 tags are built
// fast (changelist files written directly, then one publish), then one more tag is added and we
// measure the whole-process wall time and the bytes each client sends / receives (counted by a TCP
// pass-through in front of the server, TLS records included).
//   notary: `notary addhash` + `notary publish` (two processes)
//   signet: `signet sign IMAGE:TAG` (one process)
import { mkdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pushImages } from '../test/harness/push-image.js';
import type { Ctx } from './lib/context.js';
import { notaryRun } from './lib/context.js';
import { stageTargets } from './lib/changelist.js';
import { fakeTargets, TrustHttp } from './lib/minituf.js';
import { countingProxy } from './lib/proxy.js';
import { signetCli, signetCommandMissing } from './lib/signet.js';
import { attempt, check, log, median, type Maybe } from './lib/util.js';
import { countTargets } from './s2-sign.js';

export interface ScaleOne {
  buildSeconds: number; // NaN when the client's own publish did not finish (see buildNote)
  buildNote?: string;
  addOneSeconds: number; // median over reps
  addOneRuns: number[];
  uploadBytes: number; // median, client → server
  downloadBytes: number; // median, server → client
  connections: number;
  targetsJsonBytes: number;
}

export interface ScaleRow {
  tags: number;
  notary: Maybe<ScaleOne>;
  signet: Maybe<ScaleOne>;
}

export interface ScaleSection {
  measuredAt: string;
  reps: number;
  rows: ScaleRow[];
}

export const scaleSizes = (quick: boolean): number[] => (quick ? [1000, 10000] : [1000, 10000, 100000]);

export async function runScale(ctx: Ctx): Promise<ScaleSection> {
  if (!ctx.registry) throw new Error('registry not started');
  const host = ctx.registry.host;
  const dir = path.join(ctx.work, 's4');
  await mkdir(dir, { recursive: true });
  const reps = 3;
  const rows: ScaleRow[] = [];
  const nCa = readFileSync(ctx.notary.caFile);
  for (const n of ctx.opts.sizes ?? scaleSizes(ctx.opts.quick)) {
    const name = `bench/scale${n}`;
    const gun = `${host}/${name}`;
    const newTags = Array.from({ length: reps }, (_, i) => `new${i}`);
    const images = await pushImages(host, name, newTags);
    const targets = fakeTargets(n, 'old');

    log(`s4: notary, repo of ${n} tags`);
    const notaryRes = await attempt(`s4 notary ${n}`, async () => {
      const trust = path.join(dir, `notary-trust-${n}`);
      const notary = notaryRun(ctx.notary.url, ctx.notary.caFile, trust);
      check(await notary(['init', gun, '-p']), 'notary init');
      await stageTargets(trust, gun, targets);
      const b = check(await notary(['publish', gun]), `notary publish of ${n} staged targets`);
      const proxy = await countingProxy(Number(new URL(ctx.notary.url).port));
      const viaProxy = notaryRun(`https://127.0.0.1:${proxy.port}`, ctx.notary.caFile, trust);
      const runs: number[] = [];
      const up: number[] = [];
      const down: number[] = [];
      let conns = 0;
      try {
        for (const img of images) {
          proxy.reset();
          const t0 = process.hrtime.bigint();
          check(
            await viaProxy(['addhash', gun, img.tag, String(img.size), '--sha256', img.digest.slice(7)]),
            'notary addhash',
          );
          check(await viaProxy(['publish', gun]), 'notary publish');
          runs.push(Number(process.hrtime.bigint() - t0) / 1e9);
          up.push(proxy.up);
          down.push(proxy.down);
          conns = proxy.connections;
        }
      } finally {
        await proxy.close();
      }
      const http = new TrustHttp(ctx.notary.url, nCa);
      try {
        const got = await countTargets(http, gun);
        if (got !== n + reps) throw new Error(`notary-server holds ${got} targets, expected ${n + reps}`);
        const tj = await http.get(`/v2/${gun}/_trust/tuf/targets.json`);
        return {
          buildSeconds: b.ms / 1000,
          addOneSeconds: median(runs),
          addOneRuns: runs,
          uploadBytes: median(up),
          downloadBytes: median(down),
          connections: conns,
          targetsJsonBytes: tj.length,
        };
      } finally {
        http.close();
      }
    });

    log(`s4: signet, repo of ${n} tags`);
    const signetRes: Maybe<ScaleOne> = !ctx.signet.ok
      ? { ok: false, missing: ctx.signet.missing }
      : await attempt(`s4 signet ${n}`, async () => {
          for (const c of [['init'], ['publish'], ['sign']]) {
            const why = await signetCommandMissing(c);
            if (why) throw new Error(why);
          }
          const server = ctx.signet.ok ? ctx.signet.value : undefined;
          if (!server) throw new Error('no signet server');
          const trust = path.join(dir, `signet-trust-${n}`);
          const cli = signetCli({ server: server.url, caFile: ctx.ca.caCert, trustDir: trust });
          check(await cli.run(['init', gun]), 'signet init');
          await stageTargets(trust, gun, targets);
          // `signet publish` of the staged changes is the build; it is bounded, and when it does not
          // finish in time the still-staged changelist is published with the notary CLI instead
          // (same trust dir format, same keys), so the add-one-tag measurement can still be made.
          const cap = n >= 100000 ? (ctx.opts.cpuProf ? 30_000 : 180_000) : 600_000;
          const b = await cli.run(['publish', gun], cap);
          let buildSeconds = b.ms / 1000;
          let buildNote: string | undefined;
          if (b.code === null) {
            buildNote = `signet publish of ${n} staged targets did not finish in ${cap / 1000} s (killed); repository built with notary publish instead`;
            log(`s4: ${buildNote}`);
            buildSeconds = NaN;
            check(
              await notaryRun(server.url, ctx.ca.caCert, trust)(['publish', gun]),
              'notary publish (fallback build)',
            );
          } else check(b, `signet publish of ${n} staged targets`);
          const proxy = await countingProxy(server.port);
          const viaProxy = signetCli({
            server: `https://127.0.0.1:${proxy.port}`,
            caFile: ctx.ca.caCert,
            trustDir: trust,
          });
          const runs: number[] = [];
          const up: number[] = [];
          const down: number[] = [];
          let conns = 0;
          try {
            for (const img of images) {
              proxy.reset();
              const r = check(await viaProxy.run(['sign', `${gun}:${img.tag}`]), 'signet sign');
              runs.push(r.ms / 1000);
              up.push(proxy.up);
              down.push(proxy.down);
              conns = proxy.connections;
            }
          } finally {
            await proxy.close();
          }
          const http = new TrustHttp(server.url, ctx.caPem);
          try {
            const got = await countTargets(http, gun);
            if (got !== n + reps) throw new Error(`signet server holds ${got} targets, expected ${n + reps}`);
            const tj = await http.get(`/v2/${gun}/_trust/tuf/targets.json`);
            return {
              buildSeconds,
              ...(buildNote ? { buildNote } : {}),
              addOneSeconds: median(runs),
              addOneRuns: runs,
              uploadBytes: median(up),
              downloadBytes: median(down),
              connections: conns,
              targetsJsonBytes: tj.length,
            };
          } finally {
            http.close();
          }
        });
    rows.push({ tags: n, notary: notaryRes, signet: signetRes });
  }
  return { measuredAt: new Date().toISOString(), reps, rows };
}
