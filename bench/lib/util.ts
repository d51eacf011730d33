// Small helpers shared by the benchmark sections: timing, statistics, logging, child processes.
import { readFile } from 'node:fs/promises';
import { run } from '../../test/harness/proc.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function log(msg: string): void {
  const t = new Date().toISOString().slice(11, 19);
  process.stderr.write(`[bench ${t}] ${msg}\n`);
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function round(x: number, digits = 3): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export interface Exec {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Run `cmd args` to completion with stdin closed (the test harness's `run`), with the wall time
 * around it. A bounded timeout (default 10 min) kills the child.
 */
export async function exec(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {},
): Promise<Exec> {
  const t0 = process.hrtime.bigint();
  const r = await run(cmd, args, { ...opts, timeoutMs: opts.timeoutMs ?? 600_000 });
  return { ...r, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

/** Throw with the command's output when it did not exit 0. */
export function check(r: Exec, what: string): Exec {
  if (r.code !== 0) {
    throw new Error(`${what} failed (exit ${String(r.code)}):\n${tail(r.stderr + r.stdout, 15)}`);
  }
  return r;
}

export function tail(s: string, lines = 10): string {
  return s.trim().split('\n').slice(-lines).join('\n');
}

/** Resident memory (VmRSS) and its peak (VmHWM) of a process, in KiB, from /proc/<pid>/status. */
export async function rssKiB(pid: number): Promise<{ rss: number; hwm: number }> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const get = (k: string): number => {
    const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  };
  return { rss: get('VmRSS'), hwm: get('VmHWM') };
}

/** CPU time (user+sys) used so far by a process, in ms, from /proc/<pid>/stat. */
export async function cpuMs(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

export function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A measured value for one implementation, or why it is missing. */
export type Maybe<T> = { ok: true; value: T } | { ok: false; missing: string };

export async function attempt<T>(what: string, f: () => Promise<T>): Promise<Maybe<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (e) {
    log(`${what}: ${errMsg(e).split('\n').slice(0, 6).join(' | ')}`);
    return { ok: false, missing: tail(errMsg(e), 4) };
  }
}
