// Measurement 3: look up / verify one tag, cold (empty trust cache) and warm, whole-process wall
// time, median of N runs: `notary lookup GUN TAG` vs `signet verify IMAGE:TAG`, beside `node -e 0`.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Ctx } from './lib/context.js';
import { notaryRun, rmrf } from './lib/context.js';
import { SIGNET_MAIN, signetCli, signetCommandMissing } from './lib/signet.js';
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
  /** `signet --help`: the CLI's start-up alone (module loading), no trust work */
  signetStartup?: Maybe<Timing>;
  notary: { cold: Maybe<Timing>; warm: Maybe<Timing> };
  /** `signet verify --trust-only`: trust data only, like `notary lookup` */
  signet: { cold: Maybe<Timing>; warm: Maybe<Timing> };
  /** `signet verify`: also fetches the manifest from the registry and checks it against the signed digest */
  signetFull?: { cold: Maybe<Timing>; warm: Maybe<Timing> };
  signetArgs: string[];
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

  const signetStartup = await attempt('s3 signet --help', () =>
    timeRuns(n, nothing, () => exec(process.execPath, [SIGNET_MAIN, '--help']), 'signet --help'),
  );

  const nTrust = path.join(dir, 'notary-trust');
  const notary = notaryRun(ctx.notary.url, ctx.notary.caFile, nTrust);
  log(`s3: notary lookup cold/warm ×${n}`);
  const nCold = await attempt('s3 notary cold', () =>
    timeRuns(
      n,
      () => rmrf(nTrust),
      () => notary(['lookup', gun, tag]),
      'notary lookup',
    ),
  );
  const nWarm = await attempt('s3 notary warm', () =>
    timeRuns(n, nothing, () => notary(['lookup', gun, tag]), 'notary lookup'),
  );

  // Cold runs start with an empty trust dir, so the root is trusted on first use (`--tofu`), which
  // is what `notary lookup` does without being asked.
  const signetArgs = ['--tofu', 'verify'];
  const why = ctx.signet.ok ? await signetCommandMissing(['verify']) : ctx.signet.missing;
  const signetPair = async (extra: string[], label: string): Promise<{ cold: Maybe<Timing>; warm: Maybe<Timing> }> => {
    if (why !== null || !ctx.signet.ok)
      return {
        cold: { ok: false, missing: why ?? 'not available yet' },
        warm: { ok: false, missing: why ?? 'not available yet' },
      };
    const sTrust = path.join(dir, `signet-trust${label}`);
    const cli = signetCli({ server: ctx.signet.value.url, caFile: ctx.ca.caCert, trustDir: sTrust });
    const args = [...signetArgs, ...extra, `${gun}:${tag}`];
    log(`s3: signet ${args.join(' ')} cold/warm ×${n}`);
    const cold = await attempt(`s3 signet${label} cold`, () =>
      timeRuns(
        n,
        () => rmrf(sTrust),
        () => cli.run(args),
        'signet verify',
      ),
    );
    const warm = await attempt(`s3 signet${label} warm`, () =>
      timeRuns(n, nothing, () => cli.run(args), 'signet verify'),
    );
    return { cold, warm };
  };
  const signet = await signetPair(['--trust-only'], '');
  const signetFull = await signetPair([], '-full');
  return {
    measuredAt: new Date().toISOString(),
    gun,
    tag,
    nodeBaseline,
    signetStartup,
    notary: { cold: nCold, warm: nWarm },
    signet,
    signetFull,
    signetArgs,
  };
}
