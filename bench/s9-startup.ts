// Measurement 9: one-shot commands as time above the runtime's floor (`node -e 0`), beside notary's.
// Every round runs each command once, in the same order, so a burst of background load on this
// shared machine hits all of them alike; a command's figure is the median over the rounds of
// (its time − that round's `node -e 0`), and the plain medians are kept too.
//   --help       `signet --help`
//   warm verify  `signet --tofu verify --trust-only` with the trust cache kept   vs `notary lookup`
//   full verify  `signet --tofu verify` (also checks the manifest the registry serves)
//   cold verify  the same with an emptied trust dir                             vs `notary lookup` (empty dir)
//   sign         `signet sign IMAGE:TAG` of one new tag                         vs `notary addhash` + `notary publish`
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pushImages } from '../test/harness/push-image.js';
import type { Ctx } from './lib/context.js';
import { notaryRun, rmrf } from './lib/context.js';
import { SIGNET_MAIN, signetCli } from './lib/signet.js';
import { check, exec, log, median, type Exec } from './lib/util.js';

export interface StartupTiming {
  /** median wall time, ms */
  medianMs: number;
  /** median over the rounds of (this command − that round's `node -e 0`), ms */
  aboveFloorMs: number;
  minMs: number;
  maxMs: number;
}

export type StartupKey = 'help' | 'warmVerify' | 'fullVerify' | 'coldVerify' | 'sign';

export interface StartupSection {
  measuredAt: string;
  rounds: number;
  gun: string;
  floor: { medianMs: number; minMs: number; maxMs: number };
  signet: Record<StartupKey, StartupTiming>;
  /** notary's counterpart of warm/cold verify (`notary lookup`) and of sign (addhash + publish) */
  notary: Partial<Record<StartupKey, StartupTiming>>;
  loadavg1: number[];
}

export const STARTUP_GOALS: Partial<Record<StartupKey, number>> = { help: 30, warmVerify: 50, sign: 100 };

function summarise(ms: number[], floor: number[]): StartupTiming {
  return {
    medianMs: median(ms),
    aboveFloorMs: median(ms.map((x, i) => x - floor[i]!)),
    minMs: Math.min(...ms),
    maxMs: Math.max(...ms),
  };
}

export async function runStartup(ctx: Ctx): Promise<StartupSection> {
  if (!ctx.registry) throw new Error('registry not started');
  if (!ctx.signet.ok) throw new Error(ctx.signet.missing);
  const rounds = ctx.opts.quick ? 5 : 11;
  const dir = path.join(ctx.work, 's9');
  await mkdir(dir, { recursive: true });
  const name = 'bench/startup';
  const gun = `${ctx.registry.host}/${name}`;
  const tags = ['base', ...Array.from({ length: rounds }, (_, i) => `n${String(i).padStart(3, '0')}`)];
  log(`s9: pushing ${tags.length} images to ${gun}`);
  const images = await pushImages(ctx.registry.host, name, tags);

  const notary = notaryRun(ctx.notary.url, ctx.notary.caFile, path.join(dir, 'notary-trust'));
  const notaryCold = notaryRun(ctx.notary.url, ctx.notary.caFile, path.join(dir, 'notary-cold'));
  const cli = signetCli({ server: ctx.signet.value.url, caFile: ctx.ca.caCert, trustDir: path.join(dir, 'signet') });
  const reader = signetCli({ server: ctx.signet.value.url, caFile: ctx.ca.caCert, trustDir: path.join(dir, 'reader') });
  const cold = signetCli({ server: ctx.signet.value.url, caFile: ctx.ca.caCert, trustDir: path.join(dir, 'cold') });
  const base = images[0]!;
  check(await notary(['init', gun, '-p']), 'notary init');
  check(await notary(['addhash', gun, base.tag, String(base.size), '--sha256', base.digest.slice(7)]), 'addhash');
  check(await notary(['publish', gun]), 'notary publish');
  check(await cli.run(['init', gun]), 'signet init');
  check(await cli.run(['sign', `${gun}:${base.tag}`]), 'signet sign');
  const verifyArgs = ['--tofu', 'verify', '--trust-only', `${gun}:${base.tag}`];
  // the warm caches: one verify/lookup before the rounds
  check(await reader.run(verifyArgs), 'signet verify');
  check(await notary(['lookup', gun, base.tag]), 'notary lookup');

  const t: Record<string, number[]> = {};
  const add = (k: string, r: Exec, what: string): void => {
    (t[k] ??= []).push(check(r, what).ms);
  };
  const loadavg1: number[] = [];
  log(`s9: ${rounds} interleaved rounds`);
  for (let i = 0; i < rounds; i++) {
    const img = images[i + 1]!;
    loadavg1.push(os.loadavg()[0]!);
    add('floor', await exec(process.execPath, ['-e', '0']), 'node -e 0');
    add('help', await exec(process.execPath, [SIGNET_MAIN, '--help']), 'signet --help');
    add('n.warmVerify', await notary(['lookup', gun, base.tag]), 'notary lookup');
    add('warmVerify', await reader.run(verifyArgs), 'signet verify (warm)');
    add('fullVerify', await reader.run(['--tofu', 'verify', `${gun}:${base.tag}`]), 'signet verify (full)');
    await rmrf(path.join(dir, 'notary-cold'));
    add('n.coldVerify', await notaryCold(['lookup', gun, base.tag]), 'notary lookup (cold)');
    await rmrf(path.join(dir, 'cold'));
    add('coldVerify', await cold.run(verifyArgs), 'signet verify (cold)');
    const a = check(
      await notary(['addhash', gun, img.tag, String(img.size), '--sha256', img.digest.slice(7)]),
      'notary addhash',
    );
    const p = check(await notary(['publish', gun]), 'notary publish');
    (t['n.sign'] ??= []).push(a.ms + p.ms);
    add('sign', await cli.run(['sign', `${gun}:${img.tag}`]), 'signet sign');
  }
  const floor = t['floor']!;
  const s = (k: string): StartupTiming => summarise(t[k]!, floor);
  return {
    measuredAt: new Date().toISOString(),
    rounds,
    gun,
    floor: { medianMs: median(floor), minMs: Math.min(...floor), maxMs: Math.max(...floor) },
    signet: {
      help: s('help'),
      warmVerify: s('warmVerify'),
      fullVerify: s('fullVerify'),
      coldVerify: s('coldVerify'),
      sign: s('sign'),
    },
    notary: { warmVerify: s('n.warmVerify'), coldVerify: s('n.coldVerify'), sign: s('n.sign') },
    loadavg1,
  };
}

const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');

const LABELS: Record<StartupKey, [string, string]> = {
  help: ['`signet --help`', ''],
  warmVerify: ['warm verify of one tag (`verify --trust-only`)', '`notary lookup`'],
  fullVerify: ['warm `verify` (+ registry check of the manifest)', ''],
  coldVerify: ['cold verify (empty trust dir, `--tofu`)', '`notary lookup`, empty trust dir'],
  sign: ['sign one new tag (`signet sign IMAGE:TAG`)', '`notary addhash` + `notary publish`'],
};

/** The rows measurement 9 adds to the targets table. */
export function startupTargets(s: StartupSection | undefined): string[] {
  if (!s) return ['| one-shot start-up (measurement 9) | not measured yet | |'];
  return Object.entries(STARTUP_GOALS).map(([k, goal]) => {
    const v = s.signet[k as StartupKey];
    return `| ${LABELS[k as StartupKey][0]} ≤ ${goal} ms above \`node -e 0\` (measurement 9) | ${ms(v.aboveFloorMs)} ms | ${v.aboveFloorMs <= goal! ? '**met**' : '**missed**'} |`;
  });
}

export function renderStartup(s: StartupSection | undefined): string[] {
  const L = ['## 9. One-shot commands above the runtime floor', ''];
  if (!s) return [...L, 'Not measured yet.', ''];
  L.push(
    `${s.rounds} interleaved rounds; each round runs \`node -e 0\` and then every command below once, so background`,
    'load hits them alike. "Above floor" is the median over the rounds of (command − that round\'s `node -e 0`).',
    `Floor: \`node -e 0\` median ${ms(s.floor.medianMs)} ms (${ms(s.floor.minMs)}–${ms(s.floor.maxMs)}). 1-min load average during the rounds: ${Math.min(...s.loadavg1).toFixed(1)}–${Math.max(...s.loadavg1).toFixed(1)}.`,
    `Repository \`${s.gun}\`, the same images on both servers; the sign rows add a new tag each round.`,
    '',
    '| command | Signet above floor | Signet whole process, median (min–max) | notary counterpart | notary whole process, median (min–max) | Signet above floor ÷ notary | Signet whole ÷ notary |',
    '|---|---|---|---|---|---|---|',
  );
  for (const k of Object.keys(LABELS) as StartupKey[]) {
    const a = s.signet[k];
    const b = s.notary[k];
    L.push(
      `| ${LABELS[k][0]} | ${ms(a.aboveFloorMs)} ms | ${ms(a.medianMs)} ms (${ms(a.minMs)}–${ms(a.maxMs)}) | ${LABELS[k][1] || '–'} | ${b ? `${ms(b.medianMs)} ms (${ms(b.minMs)}–${ms(b.maxMs)})` : '–'} | ${b ? `${(a.aboveFloorMs / b.medianMs).toFixed(2)}×` : '–'} | ${b ? `${(a.medianMs / b.medianMs).toFixed(2)}×` : '–'} |`,
    );
  }
  L.push(
    '',
    'notary is a Go binary with no runtime to load, so it is compared whole; a ratio below 1 means Signet is faster.',
    '',
    `Measured ${s.measuredAt}.`,
    '',
  );
  return L;
}
