// Measurement 4: repository scale. Repositories holding 1,000 / 10,000 / 100,000 tags are built
// fast (changelist files written directly, then one publish), then one more tag is added and we
// measure the whole-process wall time and the bytes each client sends / receives (counted by a TCP
// pass-through in front of the server, TLS records included).
//   notary: `notary addhash` + `notary publish` (two processes)
//   signet: `signet sign IMAGE:TAG` (one process)
import { mkdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pushImages, type PushedImage } from '../test/harness/push-image.js';
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
      const m = await addThroughProxy(Number(new URL(ctx.notary.url).port), images, async (proxyUrl, img) => {
        const viaProxy = notaryRun(proxyUrl, ctx.notary.caFile, trust);
        const t0 = process.hrtime.bigint();
        check(
          await viaProxy(['addhash', gun, img.tag, String(img.size), '--sha256', img.digest.slice(7)]),
          'notary addhash',
        );
        check(await viaProxy(['publish', gun]), 'notary publish');
        return Number(process.hrtime.bigint() - t0) / 1e9;
      });
      return {
        buildSeconds: b.ms / 1000,
        ...(await scaleFigures(new TrustHttp(ctx.notary.url, nCa), gun, n + reps, 'notary-server', m)),
      };
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
          const m = await addThroughProxy(server.port, images, async (proxyUrl, img) => {
            const viaProxy = signetCli({ server: proxyUrl, caFile: ctx.ca.caCert, trustDir: trust });
            return check(await viaProxy.run(['sign', `${gun}:${img.tag}`]), 'signet sign').ms / 1000;
          });
          return {
            buildSeconds,
            ...(buildNote ? { buildNote } : {}),
            ...(await scaleFigures(new TrustHttp(server.url, ctx.caPem), gun, n + reps, 'signet server', m)),
          };
        });
    rows.push({ tags: n, notary: notaryRes, signet: signetRes });
  }
  return { measuredAt: new Date().toISOString(), reps, rows };
}

interface AddOneRuns {
  runs: number[];
  up: number[];
  down: number[];
  connections: number;
}

/** Add each new image once, through a byte-counting proxy in front of the server; `addOne` returns seconds. */
async function addThroughProxy(
  serverPort: number,
  images: PushedImage[],
  addOne: (proxyUrl: string, img: PushedImage) => Promise<number>,
): Promise<AddOneRuns> {
  const proxy = await countingProxy(serverPort);
  const m: AddOneRuns = { runs: [], up: [], down: [], connections: 0 };
  try {
    for (const img of images) {
      proxy.reset();
      m.runs.push(await addOne(`https://127.0.0.1:${proxy.port}`, img));
      m.up.push(proxy.up);
      m.down.push(proxy.down);
      m.connections = proxy.connections;
    }
  } finally {
    await proxy.close();
  }
  return m;
}

/** Check that the server holds every tag, then the row's figures (medians of the add-one runs). */
async function scaleFigures(
  http: TrustHttp,
  gun: string,
  expected: number,
  who: string,
  m: AddOneRuns,
): Promise<Omit<ScaleOne, 'buildSeconds' | 'buildNote'>> {
  try {
    const got = await countTargets(http, gun);
    if (got !== expected) throw new Error(`${who} holds ${got} targets, expected ${expected}`);
    const tj = await http.get(`/v2/${gun}/_trust/tuf/targets.json`);
    return {
      addOneSeconds: median(m.runs),
      addOneRuns: m.runs,
      uploadBytes: median(m.up),
      downloadBytes: median(m.down),
      connections: m.connections,
      targetsJsonBytes: tj.length,
    };
  } finally {
    http.close();
  }
}
