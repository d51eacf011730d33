// Runs the built `signet` CLI (node dist/bin/signet.js, the package's bin) as a child process: stdin closed (never a TTY),
// a timeout, and only the environment the test gives it (plus PATH/HOME/NO_PROXY).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../harness/proc.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The `signet` executable users run: one-shot commands from the bundle (scripts/bundle-cli.mjs). */
export const SIGNET_MAIN = path.join(ROOT, 'dist', 'bin', 'signet.js');
/** The compiled CLI before bundling (the long-running commands run from it). */
export const SIGNET_UNBUNDLED = path.join(ROOT, 'dist', 'cli', 'main.js');

let building: Promise<void> | undefined;

/** `npm test` builds first; a direct vitest run builds once here when dist/ is missing. */
export function ensureBuilt(): Promise<void> {
  building ??= (async () => {
    if (existsSync(SIGNET_MAIN)) return;
    const r = await run('npm', ['run', 'build'], { cwd: ROOT, timeoutMs: 180_000 });
    if (r.code !== 0) throw new Error(`build failed:\n${r.stdout}\n${r.stderr}`);
  })();
  return building;
}

export interface SignetResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface SignetCli {
  trustDir: string;
  run(args: string[], opts?: { env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<SignetResult>;
  /** run and fail with the full output unless the exit code is 0 */
  ok(args: string[], opts?: { env?: NodeJS.ProcessEnv }): Promise<SignetResult>;
}

export const SIGNET_PASSPHRASES = {
  root: 'signet-root-pass',
  repository: 'signet-repo-pass',
};

/** Passphrases through Docker's variables (root; repository = targets, snapshot and signer keys). */
export function passphraseEnv(p = SIGNET_PASSPHRASES): NodeJS.ProcessEnv {
  return { DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: p.root, DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: p.repository };
}

export function signetCli(opts: {
  server?: string;
  caFile?: string;
  trustDir: string;
  env?: NodeJS.ProcessEnv;
  withPassphrases?: boolean;
}): SignetCli {
  const base = [
    ...(opts.server ? ['--server', opts.server] : []),
    ...(opts.caFile ? ['--tls-ca', opts.caFile] : []),
    '--trust-dir',
    opts.trustDir,
  ];
  const baseEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: path.join(opts.trustDir, '..', 'home'),
    DOCKER_CONFIG: path.join(opts.trustDir, '..', 'docker-config'),
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    ...(opts.withPassphrases === false ? {} : passphraseEnv()),
    ...opts.env,
  };
  const cli: SignetCli = {
    trustDir: opts.trustDir,
    async run(args, runOpts = {}) {
      await ensureBuilt();
      return run(process.execPath, [SIGNET_MAIN, ...base, ...args], {
        env: { ...baseEnv, ...runOpts.env },
        timeoutMs: runOpts.timeoutMs ?? 60_000,
      });
    },
    async ok(args, runOpts = {}) {
      const r = await cli.run(args, runOpts);
      if (r.code !== 0)
        throw new Error(
          `signet ${args.join(' ')} exited ${String(r.code)}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`,
        );
      return r;
    },
  };
  return cli;
}
