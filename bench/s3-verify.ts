// Measurement 3: look up / verify one tag, cold (empty trust cache) and warm, whole-process wall
// time, median of N runs: `notary lookup GUN TAG` vs `signet verify IMAGE:TAG`, beside `node -e 0`.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Ctx } from './lib/context.js';
import { notaryRun, rmrf } from './lib/context.js';
import { signetCli, signetCommandMissing } from './lib/signet.js';
import { attempt, check, exec, log, median, type Exec, type Maybe } from './lib/util.js';

export interface Timing {
  medianMs: number;
  minMs: number;
  maxMs: number;
  runs: number;
}

export interface VerifySection {
  measuredAt: string;
  gun: string;
  tag: string;
  nodeBaseline: Timing;
  notary: { cold: Maybe<Timing>; warm: Maybe<Timing> };
  signet: { cold: Maybe<Timing>; warm: Maybe<Timing> };
}

async function timeRuns(n: number, before: () => Promise<void>, f: () => Promise<Exec>, what: string): Promise<Timing> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    await before();
    const r = check(await f(), what);
    ms.push(r.ms);
  }
  return { medianMs: median(ms), minMs: Math.min(...ms), maxMs: Math.max(...ms), runs: n };
}

export async function runVerify(ctx: Ctx, gun: string, tag: string): Promise<VerifySection> {
  const n = ctx.opts.quick ? 5 : 15;
  const dir = path.join(ctx.work, 's3');
  await mkdir(dir, { recursive: true });
  const nothing = async (): Promise<void> => undefined;

  log(`s3: node -e 0 ×${n}`);
  const nodeBaseline = await timeRuns(n, nothing, () => exec(process.execPath, ['-e', '0']), 'node -e 0');

  const nTrust = path.join(dir, 'notary-trust');
  const notary = notaryRun(ctx.notary.url, ctx.notary.caFile, nTrust);
  log(`s3: notary lookup cold/warm ×${n}`);
  const nCold = await attempt('s3 notary cold', () => timeRuns(n, () => rmrf(nTrust), () => notary(['lookup', gun, tag]), 'notary lookup'));
  const nWarm = await attempt('s3 notary warm', () => timeRuns(n, nothing, () => notary(['lookup', gun, tag]), 'notary lookup'));

  let sCold: Maybe<Timing>;
  let sWarm: Maybe<Timing>;
  const why = ctx.signet.ok ? await signetCommandMissing(['verify']) : ctx.signet.missing;
  if (why !== null || !ctx.signet.ok) {
    sCold = sWarm = { ok: false, missing: why ?? 'not available yet' };
  } else {
    const sTrust = path.join(dir, 'signet-trust');
    const cli = signetCli({ server: ctx.signet.value.url, caFile: ctx.ca.caCert, trustDir: sTrust });
    log(`s3: signet verify cold/warm ×${n}`);
    sCold = await attempt('s3 signet cold', () => timeRuns(n, () => rmrf(sTrust), () => cli.run(['verify', `${gun}:${tag}`]), 'signet verify'));
    sWarm = await attempt('s3 signet warm', () => timeRuns(n, nothing, () => cli.run(['verify', `${gun}:${tag}`]), 'signet verify'));
  }
  return {
    measuredAt: new Date().toISOString(),
    gun,
    tag,
    nodeBaseline,
    notary: { cold: nCold, warm: nWarm },
    signet: { cold: sCold, warm: sWarm },
  };
}
