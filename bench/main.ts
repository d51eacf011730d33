// `npm run bench`: Signet vs the real notary-server/notary-signer 0.7 and notary CLI, on 127.0.0.1.
// Options:
//   --only 1,…,8       run only these measurements (others are carried over from latest.json)
//   --quick            smaller sizes and 3 s load runs (a smoke run; not for publishing)
//   --duration S       seconds per wrk run (default 10)
//   --threads T        wrk threads (default 2; 1 leaves more CPU to the server but cannot decrypt 1,000-target bodies fast enough)
//   --cpu-prof         run the Signet server under node --cpu-prof; top frames go in the results
//   --keep             keep the work dir
//   --sizes 1000,…     measurement 4 repository sizes
//   --render           only re-render docs/performance.md from latest.json and bench/notes.md
// Writes bench/results/<timestamp>.json, bench/results/latest.json and docs/performance.md.
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startRegistry } from '../test/harness/registry.js';
import { makeTestCA } from '../test/harness/tls.js';
import { rmrf, startBoth, type Ctx, type Options } from './lib/context.js';
import { summariseProfiles, type ProfileSummary } from './lib/cpuprof.js';
import { machine, type Machine } from './lib/machine.js';
import { renderReport } from './lib/report.js';
import { profileSignetClients, startSignetServer } from './lib/signet.js';
import { tailFile } from '../test/harness/proc.js';
import { attempt, errMsg, log } from './lib/util.js';
import { requireWrk } from './lib/wrk.js';
import { runGet, type GetSection } from './s1-get.js';
import { runSign, signCounts, type SignSection } from './s2-sign.js';
import { runVerify, type VerifySection } from './s3-verify.js';
import { runScale, type ScaleSection } from './s4-scale.js';
import { runMemory, type MemorySection } from './s5-memory.js';
import { runEnforce, type EnforceSection } from './s6-enforce.js';
import { runProxy, type ProxySection } from './s6-proxy.js';
import { runAdmission, type AdmissionSection } from './s8-admission.js';
import { runStartup, type StartupSection } from './s9-startup.js';

export interface Results {
  schema: 1;
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  machine: Machine;
  options: { durationS: number; wrkThreads: number; cpuProf: boolean };
  signetCommit: string;
  sections: {
    get?: GetSection & { runFile?: string };
    sign?: SignSection & { runFile?: string };
    verify?: VerifySection & { runFile?: string };
    scale?: ScaleSection & { runFile?: string };
    memory?: MemorySection & { runFile?: string };
    enforce?: EnforceSection & { runFile?: string };
    proxy?: ProxySection & { runFile?: string };
    admission?: AdmissionSection & { runFile?: string };
    startup?: StartupSection & { runFile?: string };
  };
  errors: string[];
  profiles?: ProfileSummary[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    only: new Set([1, 2, 3, 4, 5, 6, 7, 9]),
    quick: false,
    durationS: 10,
    wrkThreads: 2,
    cpuProf: false,
    keep: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--only') o.only = new Set(val().split(',').map(Number));
    else if (a === '--quick') o.quick = true;
    else if (a === '--duration') o.durationS = Number(val());
    else if (a === '--threads') o.wrkThreads = Number(val());
    else if (a === '--cpu-prof') o.cpuProf = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--render') o.render = true;
    else if (a === '--sizes') o.sizes = val().split(',').map(Number);
    else throw new Error(`unknown option ${a} (see bench/main.ts)`);
  }
  if (o.quick && !argv.includes('--duration')) o.durationS = 3;
  if (!(o.durationS > 0 && o.durationS <= 60)) throw new Error('--duration must be 1..60');
  return o;
}

async function gitHead(): Promise<string> {
  try {
    const { exec } = await import('./lib/util.js');
    const r = await exec('git', ['log', '-1', '--format=%h %s'], { timeoutMs: 10_000 });
    return r.stdout.trim();
  } catch {
    return 'unknown';
  }
}

async function render(): Promise<void> {
  const latest = JSON.parse(await readFile(path.resolve('bench', 'results', 'latest.json'), 'utf8')) as Results;
  const notes = existsSync(path.resolve('bench', 'notes.md'))
    ? await readFile(path.resolve('bench', 'notes.md'), 'utf8')
    : '';
  await writeFile(path.resolve('docs', 'performance.md'), renderReport(latest, notes));
  log('wrote docs/performance.md from bench/results/latest.json');
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.render) return render();
  if ([1, 2, 3, 4, 5, 9].some((n) => opts.only.has(n))) requireWrk(); // measurement 6 is in-process
  const startedAt = new Date().toISOString();
  const resultsDir = path.resolve('bench', 'results');
  await mkdir(resultsDir, { recursive: true });
  const work = await mkdtemp(path.join(os.tmpdir(), 'signet-bench-'));
  const profDir = path.join(resultsDir, 'tmp', `prof-${startedAt.replace(/[:.]/g, '-')}`);
  if (opts.cpuProf) {
    await mkdir(path.join(profDir, 'clients'), { recursive: true });
    profileSignetClients(path.join(profDir, 'clients'));
  }
  log(`work dir ${work}`);
  const errors: string[] = [];
  const sections: Results['sections'] = {};
  const ca = await makeTestCA(path.join(work, 'tls'));
  const [signetCert, bareCert] = await Promise.all([
    ca.issue('signet-server', { eku: 'serverAuth' }),
    ca.issue('bare', { eku: 'serverAuth' }),
  ]);
  const caPem = await readFile(ca.caCert);
  const base = { work, signetCert, caPem, opts, profDir };

  const needMain = [1, 2, 3, 4, 9].some((s) => opts.only.has(s));
  let ctx: Ctx | undefined;
  try {
    if (needMain) {
      log('starting notary-signer + notary-server, signet server, docker-registry');
      const both = await startBoth(base, 'signet-server');
      ctx = { ...base, ca, bareCert, notary: both.notary, signet: both.signet, profDir };
      if ([2, 3, 4, 9].some((s) => opts.only.has(s))) ctx.registry = await startRegistry();
      if (!ctx.signet.ok) errors.push(`signet server: ${ctx.signet.missing}`);
    }
    const section = async <T>(n: number, name: string, f: () => Promise<T>): Promise<T | undefined> => {
      if (!opts.only.has(n)) return undefined;
      log(`=== measurement ${n}: ${name}`);
      const r = await attempt(`measurement ${n}`, f);
      if (ctx?.signet.ok && !existsSync(`/proc/${ctx.signet.value.pid}`)) {
        const why = `the Signet server (pid ${ctx.signet.value.pid}) exited during measurement ${n}; log tail: ${tailFile(ctx.signet.value.logFile, 8).replace(/\s+/g, ' ').slice(-600)}`;
        log(why);
        errors.push(why);
        const c = ctx;
        c.signet = await attempt('signet server restart', () =>
          startSignetServer({
            dir: work,
            cert: signetCert.cert,
            key: signetCert.key,
            ca: caPem,
            name: `signet-server-after-${n}`,
          }),
        );
      }
      if (!r.ok) {
        errors.push(`measurement ${n} (${name}): ${r.missing}`);
        return undefined;
      }
      return r.value;
    };
    if (ctx) {
      const c = ctx;
      sections.get = await section(1, 'GET throughput', () => runGet(c));
      sections.sign = await section(2, 'signing', () => runSign(c));
      if (opts.only.has(3) && !opts.only.has(2)) {
        // measurement 3 reads the 100-tag repository made by measurement 2
        log('measurement 3 needs the repository from measurement 2: running it first (not recorded)');
        await attempt('measurement 2 (setup)', () => runSign({ ...c, opts: { ...c.opts, quick: true } }));
      }
      const host = c.registry?.host ?? '';
      const mid = signCounts(true)[1]!;
      sections.verify = await section(3, 'verify/lookup', () => runVerify(c, `${host}/bench/sign${mid}`, 't0050'));
      sections.scale = await section(4, 'repository scale', () => runScale(c));
      sections.startup = await section(9, 'one-shot start-up', () => runStartup(c));
    }
    sections.memory = await section(5, 'server memory', () => runMemory(base));
    sections.enforce = await section(6, 'warm enforcer decision', () => runEnforce(opts.quick));
    sections.proxy = await section(7, 'registry proxy', () => runProxy(base));
    sections.admission = await section(8, 'admission decision', () => runAdmission({ ...base, ca }));
  } finally {
    if (ctx) {
      await ctx.notary.stop().catch(() => undefined);
      if (ctx.signet.ok) await ctx.signet.value.stop().catch(() => undefined);
      await ctx.registry?.stop().catch(() => undefined);
    }
    // keep the logs (git-ignored) for post-mortems
    await cp(path.join(work, 'logs'), path.join(resultsDir, 'tmp', `logs-${startedAt.replace(/[:.]/g, '-')}`), {
      recursive: true,
    }).catch(() => undefined);
    if (!opts.keep) await rmrf(work);
  }

  const results: Results = {
    schema: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    quick: opts.quick,
    machine: await machine(),
    options: { durationS: opts.durationS, wrkThreads: opts.wrkThreads, cpuProf: opts.cpuProf },
    signetCommit: await gitHead(),
    sections,
    errors,
  };
  if (opts.cpuProf) {
    results.profiles = [
      ...(await summariseProfiles(profDir)).map((p) => ({ ...p, file: `server ${p.file}` })),
      ...(await summariseProfiles(path.join(profDir, 'clients'))).map((p) => ({ ...p, file: `client ${p.file}` })),
    ]
      .sort((a, b) => b.totalMs - a.totalMs)
      .slice(0, 6);
  }

  const stamp = startedAt.replace(/[:]/g, '').replace(/\.\d+Z$/, 'Z');
  const runFile = `${stamp}${opts.quick ? '-quick' : ''}.json`;
  // quick (smoke) runs go to the git-ignored results/tmp/
  const runPath =
    opts.quick || opts.cpuProf || opts.sizes ? path.join(resultsDir, 'tmp', runFile) : path.join(resultsDir, runFile);
  await mkdir(path.dirname(runPath), { recursive: true });
  await writeFile(runPath, JSON.stringify(results, null, 2) + '\n');
  log(`wrote ${path.relative(process.cwd(), runPath)}`);
  const latestFile = path.join(resultsDir, 'latest.json');
  if (opts.cpuProf && !opts.quick && existsSync(latestFile)) {
    // profiled timings are slowed by the profiler: keep them out of the tables, keep the profiles
    const prev = JSON.parse(await readFile(latestFile, 'utf8')) as Results;
    const tag = [...opts.only].join(',');
    prev.profiles = [
      ...(prev.profiles ?? []).filter((p) => p.measurements !== tag),
      ...(results.profiles ?? []).map((p) => ({ ...p, measurements: tag })),
    ];
    await writeFile(latestFile, JSON.stringify(prev, null, 2) + '\n');
    await render();
    return;
  }
  if (opts.quick || opts.cpuProf || opts.sizes) {
    log('quick, profiled or resized run: latest.json and docs/performance.md are left alone');
    return;
  }
  // latest.json: this run's sections over the previous latest's.
  let merged: Results = results;
  if (existsSync(latestFile)) {
    try {
      const prev = JSON.parse(await readFile(latestFile, 'utf8')) as Results;
      merged = {
        ...results,
        startedAt: prev.startedAt < startedAt ? prev.startedAt : startedAt,
        sections: { ...prev.sections },
      };
      for (const [k, v] of Object.entries(sections))
        if (v) (merged.sections as Record<string, unknown>)[k] = { ...v, runFile };
      merged.errors = [...errors];
      if (!opts.cpuProf && prev.profiles) merged.profiles = prev.profiles;
    } catch (e) {
      log(`ignoring unreadable latest.json: ${errMsg(e)}`);
    }
  } else {
    for (const [k, v] of Object.entries(sections))
      if (v) (merged.sections as Record<string, unknown>)[k] = { ...v, runFile };
  }
  await writeFile(latestFile, JSON.stringify(merged, null, 2) + '\n');
  await render();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`bench failed: ${errMsg(e)}`);
    process.exit(1);
  },
);
