// Child processes for tests: long-running peers (startProc) and one-shot commands (run).
// Peers log to a file; every live child is killed if the test process exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants, openSync, closeSync, readFileSync, mkdirSync } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { pidListensOn } from './ports.js';

export interface Proc {
  pid: number;
  logFile: string;
  stop(): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
  exited: Promise<number | null>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = (): void => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  // 'exit' handlers must be synchronous: SIGKILL whatever is still running.
  process.on('exit', killAll);
  // A signal that would terminate us skips 'exit': kill the children, then let the signal take
  // its normal course (re-raised when nobody else handles it).
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAll();
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The last `lines` lines of a log file, for error messages. */
export function tailFile(file: string, lines = 25): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Spawn `cmd args` with stdout+stderr appended to `<logDir>/<name>.log` and stdin closed, then
 * poll `ready()` every 75 ms until it returns true (resolves), the child exits (rejects with
 * the log tail) or `timeoutMs` (default 20 s) passes (kills the child, rejects). With
 * `listenPort`, readiness also needs the child itself to hold a listening socket on that port,
 * so a port grabbed by another process in the meantime is never mistaken for ours.
 */
export async function startProc(opts: {
  name: string;
  cmd: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  logDir: string;
  ready: () => Promise<boolean>;
  timeoutMs?: number;
  /** Also require that the child itself listens on this TCP port (not another process). */
  listenPort?: number;
}): Promise<Proc> {
  installExitHook();
  mkdirSync(opts.logDir, { recursive: true });
  const logFile = path.join(opts.logDir, `${opts.name}.log`);
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(opts.cmd, opts.args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  let exitCode: number | null | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (err) => {
      spawnError = err;
      live.delete(child);
      exitCode = null;
      resolve(null);
    });
    child.once('exit', (code) => {
      live.delete(child);
      exitCode = code;
      resolve(code);
    });
  });
  live.add(child);

  const kill = (signal: NodeJS.Signals = 'SIGTERM'): void => {
    if (exitCode === undefined) {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    }
  };
  const stop = async (): Promise<void> => {
    if (exitCode !== undefined) return;
    kill('SIGTERM');
    const t = await Promise.race([exited.then(() => 'exited' as const), sleep(5000).then(() => 'timeout' as const)]);
    if (t === 'timeout') {
      kill('SIGKILL');
      await exited;
    }
  };

  const timeoutMs = opts.timeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exitCode !== undefined) {
      const why = spawnError ? `could not start (${spawnError.message})` : `exited with code ${String(exitCode)}`;
      throw new Error(`${opts.name}: ${opts.cmd} ${why} before it was ready; log ${logFile}:\n${tailFile(logFile)}`);
    }
    let ok = false;
    try {
      ok =
        (opts.listenPort === undefined || (await pidListensOn(child.pid ?? -1, opts.listenPort))) &&
        (await opts.ready());
    } catch {
      ok = false;
    }
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${opts.name}: not ready within ${timeoutMs} ms; log ${logFile}:\n${tailFile(logFile)}`);
    }
    await sleep(75);
  }
  return { pid: child.pid ?? -1, logFile, stop, kill, exited };
}

/**
 * Run a command to completion. stdin is closed (or fed `input` then closed), so a prompt can
 * never hang a test. After `timeoutMs` (default 60 s) the child is SIGKILLed, `code` is null
 * and stderr ends with a note saying so.
 */
export async function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string | Buffer; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  installExitHook();
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    live.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      live.delete(child);
      reject(new Error(`run ${cmd}: ${e.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      live.delete(child);
      let stderr = Buffer.concat(err).toString('utf8');
      if (timedOut) stderr += `\n[harness] ${cmd} killed after ${timeoutMs} ms timeout\n`;
      resolve({ code: timedOut ? null : code, stdout: Buffer.concat(out).toString('utf8'), stderr });
    });
    if (opts.input !== undefined && child.stdin) {
      child.stdin.on('error', () => {
        // the child may exit without reading its input (EPIPE)
      });
      child.stdin.end(opts.input);
    }
  });
}

/** Throws a clear, actionable error when `path` is not an executable file. */
export async function requireBinary(binPath: string, debianPackage: string): Promise<void> {
  try {
    await access(binPath, fsConstants.X_OK);
  } catch {
    throw new Error(
      `required binary ${binPath} is missing: install the Debian package "${debianPackage}" ` +
        `(apt-get install -y --no-install-recommends ${debianPackage}, or run: sudo bash .ci/install-deps)`,
    );
  }
}

/** Environment for children: the parent's, with loopback excluded from any proxy. */
export function childEnv(
  extra: NodeJS.ProcessEnv = {},
  drop: (key: string) => boolean = () => false,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!drop(k)) env[k] = v;
  const noProxy = ['127.0.0.1', 'localhost', process.env.NO_PROXY ?? process.env.no_proxy ?? '']
    .filter((s) => s !== '')
    .join(',');
  env.NO_PROXY = noProxy;
  env.no_proxy = noProxy;
  return { ...env, ...extra };
}
