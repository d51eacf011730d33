/**
 * Checks `startServer` makes before it creates anything, so that a refused start leaves the data dir
 * as it was: the log level, a free listen port, a usable data dir, the data dir lock (one process
 * per SQLite data dir), and, after a failure, removal of what this start created.
 */
import { readFileSync } from 'node:fs';
import { access, constants, mkdir, open, readFile, readdir, rm, stat, unlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SignetError } from '../errors.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOCK_FILE = 'signet.lock';

export function checkLogLevel(level: string): void {
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new SignetError('USAGE', `invalid log level ${JSON.stringify(level)}`, {
      fix: `give --log-level (or SIGNET_LOG_LEVEL) one of ${LOG_LEVELS.join(', ')}`,
    });
  }
}

/** The refusal of a listen address, or undefined for an error that is not about the address. */
export function listenError(err: unknown, flag: string, address: string): SignetError | undefined {
  const code = (err as NodeJS.ErrnoException)?.code;
  const why: Record<string, string> = {
    EADDRINUSE: 'is already in use (another server, or a second signet server, listens there)',
    EACCES: 'may not be used by this user (ports below 1024 need privileges)',
    EADDRNOTAVAIL: 'is not an address of this machine',
  };
  const reason = code === undefined ? undefined : why[code];
  if (reason === undefined) return undefined;
  return new SignetError('USAGE', `cannot listen on ${address}: the address ${reason}`, {
    cause: err,
    fix: `choose another ${flag} HOST:PORT, or stop what listens on ${address}`,
  });
}

/** Binds and releases the address, so a taken port is refused before the data dir is touched. */
export async function checkListenFree(host: string, port: number, flag: string): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (err) => reject(listenError(err, flag, `${host}:${port}`) ?? err));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

function dataDirError(err: unknown, dir: string): SignetError {
  const code = (err as NodeJS.ErrnoException)?.code ?? 'error';
  const text: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    ENOTDIR: 'a part of the path is a file, not a directory',
    EROFS: 'the file system is read-only',
  };
  return new SignetError('USAGE', `cannot use the data directory ${dir}: ${text[code] ?? code}`, {
    cause: err,
    fix:
      code === 'ENOTDIR'
        ? `point --data-dir (or SIGNET_DATA_DIR) at a directory, not at or below a file`
        : `point --data-dir (or SIGNET_DATA_DIR) at a directory this user may write (e.g. ~/.signet/server), or fix its owner and mode`,
  });
}

/**
 * Makes sure `dir` is a directory this process may write, creating it (0700) when missing. Returns
 * the top-most directory it created, if any (removed again when the start fails).
 */
export async function prepareDataDir(dir: string): Promise<string | undefined> {
  const missing: string[] = [];
  let at = dir;
  for (;;) {
    try {
      const st = await stat(at);
      if (!st.isDirectory()) throw Object.assign(new Error(`${at} is not a directory`), { code: 'ENOTDIR' });
      await access(at, constants.W_OK | constants.X_OK);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw dataDirError(err, dir);
      missing.unshift(at);
      const up = path.dirname(at);
      if (up === at) throw dataDirError(err, dir);
      at = up;
    }
  }
  // one level at a time: a recursive mkdir can spin on some pseudo file systems instead of failing
  for (const d of missing) {
    try {
      await mkdir(d, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw dataDirError(err, dir);
    }
  }
  return missing[0];
}

/** The entries of a directory, to tell afterwards what a failed start created. */
export async function entriesOf(dir: string): Promise<Set<string>> {
  return new Set(await readdir(dir).catch(() => []));
}

/** Removes what a failed start created: the data dir itself, or its entries not in `before`. */
export async function removeCreated(dir: string, createdDir: string | undefined, before: Set<string>): Promise<void> {
  if (createdDir !== undefined) {
    await rm(createdDir, { recursive: true, force: true });
    return;
  }
  for (const name of await readdir(dir).catch(() => [])) {
    if (!before.has(name)) await rm(path.join(dir, name), { recursive: true, force: true });
  }
}

/** Start time of a process (Linux /proc/<pid>/stat field 22), to tell a reused pid from its owner. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface LockOwner {
  pid: number;
  host: string;
  start?: string | undefined;
}

/**
 * One process per SQLite data dir: `signet.lock` holds the owner's pid, host and process start
 * time, created exclusively. A lock whose process is gone (SIGKILL, crash) or whose pid now belongs
 * to another process (different start time) is stale and taken over; so a kill never blocks the
 * next start. A lock from another host (a shared file system) is never taken over.
 */
export async function acquireDataDirLock(dir: string): Promise<() => Promise<void>> {
  const file = path.join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: os.hostname(), start: processStart(process.pid) };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx', 0o600);
      await fh.writeFile(JSON.stringify(me) + '\n');
      await fh.close();
      return async () => {
        const now = await readFile(file, 'utf8').catch(() => '');
        if (now.includes(`"pid":${me.pid},`)) await unlink(file).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw dataDirError(err, dir);
    }
    let owner: LockOwner | undefined;
    try {
      owner = JSON.parse(await readFile(file, 'utf8')) as LockOwner;
    } catch {
      owner = undefined; // unreadable or half-written: a start killed while writing it
    }
    const held =
      owner !== undefined &&
      Number.isInteger(owner.pid) &&
      (owner.host !== me.host ||
        (alive(owner.pid) && (owner.start === undefined || processStart(owner.pid) === owner.start)));
    if (held) {
      const where = owner?.host === me.host ? `process ${owner?.pid}` : `process ${owner?.pid} on host ${owner?.host}`;
      throw new SignetError('USAGE', `the data directory ${dir} is in use by another signet server (${where})`, {
        fix: `stop that server, or give this one another --data-dir; several servers share data only through --database postgres://… (if no server runs, remove ${file})`,
      });
    }
    await unlink(file).catch(() => undefined);
  }
  throw new SignetError(
    'USAGE',
    `could not take the lock ${file}: another server is starting on the same data directory`,
    {
      fix: 'start one server per --data-dir',
    },
  );
}
