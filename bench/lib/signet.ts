// The Signet side: its server (`signet server`, default SQLite storage, HTTPS) and its client CLI.
// Both are run from dist/ (built by `npm run bench`). A part that does not exist yet, or fails, is
// reported as missing with the reason; no number is ever made up for it.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { httpOk, startOnFreePort } from '../../test/harness/notary-peers.js';
import { startProc, type Proc } from '../../test/harness/proc.js';
import { TEST_PASSPHRASES } from '../../test/harness/notary-cli.js';
import { exec, type Exec } from './util.js';

/** the package's bin: one-shot commands run from the bundle (scripts/bundle-cli.mjs) */
export const SIGNET_MAIN = path.resolve('dist', 'bin', 'signet.js');

const helpCache = new Map<string, string | null>();

/** null when `signet <cmd…> --help` works, else why not. */
export async function signetCommandMissing(cmd: string[]): Promise<string | null> {
  const key = cmd.join(' ');
  const cached = helpCache.get(key);
  if (cached !== undefined) return cached;
  let why: string | null = null;
  if (!existsSync(SIGNET_MAIN)) why = `${SIGNET_MAIN} does not exist (build failed?)`;
  else {
    const r = await exec(process.execPath, [SIGNET_MAIN, ...cmd, '--help'], { timeoutMs: 30_000 });
    // commander answers `signet <unknown> --help` with the top-level help and exit 0: check the usage line
    if (r.code !== 0 || !r.stdout.startsWith(`Usage: signet ${key}`)) {
      why = `\`signet ${key}\` is not available yet${r.code !== 0 ? `: ${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}` : ''}`;
    }
  }
  helpCache.set(key, why);
  return why;
}

export interface SignetServer {
  url: string;
  port: number;
  pid: number;
  dataDir: string;
  logFile: string;
  stop(): Promise<void>;
}

export async function startSignetServer(opts: {
  dir: string;
  cert: string;
  key: string;
  ca: Buffer;
  name: string;
  nodeArgs?: string[];
  /** more `signet server` flags, e.g. ['--workers', '2'] */
  args?: string[];
}): Promise<SignetServer> {
  const missing = await signetCommandMissing(['server']);
  if (missing) throw new Error(missing);
  const dataDir = path.join(opts.dir, `${opts.name}-data`);
  await mkdir(dataDir, { recursive: true });
  // notary-server has no key-request rate limit; Signet's (60/min per address after a burst of
  // 120, docs/server.md) would refuse the benchmark's thousands of new repositories from 127.0.0.1
  const config = path.join(opts.dir, `${opts.name}-config.json`);
  await writeFile(config, JSON.stringify({ limits: { keyRequestsPerMinute: 1e9, keyRequestBurst: 1e9 } }));
  const { port, proc } = await startOnFreePort((p, attempt): Promise<Proc> =>
    startProc({
      name: attempt === 0 ? opts.name : `${opts.name}.${attempt}`,
      cmd: process.execPath,
      args: [
        ...(opts.nodeArgs ?? []),
        SIGNET_MAIN,
        'server',
        '--listen',
        `127.0.0.1:${p}`,
        '--data-dir',
        dataDir,
        '--tls-cert',
        opts.cert,
        '--tls-key',
        opts.key,
        '--config',
        config,
        ...(opts.args ?? []),
      ],
      env: { ...process.env, NODE_ENV: 'production' },
      logDir: path.join(opts.dir, 'logs'),
      ready: () => httpOk(`https://127.0.0.1:${p}/v2/`, opts.ca),
      listenPort: p,
      timeoutMs: 30_000,
    }),
  );
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    pid: proc.pid,
    dataDir,
    logFile: proc.logFile,
    stop: () => proc.stop(),
  };
}

/** When set (bench --cpu-prof), every signet client process runs under node --cpu-prof into this dir. */
let signetCliProfDir: string | undefined;
export function profileSignetClients(dir: string | undefined): void {
  signetCliProfDir = dir;
}

export interface SignetCli {
  trustDir: string;
  run(args: string[], timeoutMs?: number): Promise<Exec>;
}

export function signetCli(opts: { server: string; caFile: string; trustDir: string; profDir?: string }): SignetCli {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('NOTARY_') && !k.startsWith('DOCKER_CONTENT_TRUST')) env[k] = v;
  }
  Object.assign(env, {
    NOTARY_ROOT_PASSPHRASE: TEST_PASSPHRASES.root,
    NOTARY_TARGETS_PASSPHRASE: TEST_PASSPHRASES.targets,
    NOTARY_SNAPSHOT_PASSPHRASE: TEST_PASSPHRASES.snapshot,
    NOTARY_DELEGATION_PASSPHRASE: TEST_PASSPHRASES.delegation,
    DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: TEST_PASSPHRASES.root,
    DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: TEST_PASSPHRASES.targets,
    DOCKER_CONFIG: path.join(opts.trustDir, '..', 'docker-config'),
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
  });
  const cliProfDir = opts.profDir ?? signetCliProfDir;
  const base = ['--server', opts.server, '--tls-ca', opts.caFile, '--trust-dir', opts.trustDir];
  return {
    trustDir: opts.trustDir,
    run: (args, timeoutMs = 600_000) =>
      exec(
        process.execPath,
        [...(cliProfDir ? ['--cpu-prof', '--cpu-prof-dir', cliProfDir] : []), SIGNET_MAIN, ...base, ...args],
        { env, timeoutMs },
      ),
  };
}
