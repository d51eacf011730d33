// A real PostgreSQL (Debian's postgresql-15 binaries) for tests: one throw-away cluster per test
// file, started on first use, and a fresh database for every startPostgres() call. A missing
// binary or a missing `postgres` system user is an error, never a skip.
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './ports.js';

const execFileP = promisify(execFile);

/** Where Debian's postgresql-15 package puts the server binaries. */
export const PG_BIN = '/usr/lib/postgresql/15/bin';
const START_ATTEMPTS = 3;

interface Cluster {
  port: number;
  base: string;
  dataDir: string;
  admin: pg.Pool;
}

let cluster: Promise<Cluster> | null = null;
let users = 0;
let dbCounter = 0;
let stopOnExit: (() => void) | null = null;

function requireBinaries(): void {
  for (const b of ['initdb', 'pg_ctl', 'postgres']) {
    const p = path.join(PG_BIN, b);
    if (!existsSync(p)) {
      throw new Error(`PostgreSQL test harness: ${p} is missing; install Debian's postgresql-15 package`);
    }
  }
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** uid/gid of the `postgres` system user (PostgreSQL refuses to run as root). */
function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const f = line?.split(':');
  if (f === undefined || f.length < 4) {
    throw new Error(
      'PostgreSQL test harness: tests run as root and there is no `postgres` system user to run the server as; ' +
        "install Debian's postgresql package (it creates the user) or run the tests as a non-root user",
    );
  }
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

/** Runs a PostgreSQL binary, as the `postgres` user when we are root. */
async function pgRun(bin: string, args: string[]): Promise<string> {
  const file = path.join(PG_BIN, bin);
  const [cmd, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
  try {
    const { stdout } = await execFileP(cmd, argv, { timeout: 60_000 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${bin} ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`);
  }
}

function logTail(base: string): string {
  try {
    return readFileSync(path.join(base, 'postgres.log'), 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}

const PREFIX = 'signet-pg-';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Stops clusters left behind by test processes that died without their afterAll (killed on a
 * timeout, say): each cluster directory names its owner process in `owner`.
 */
async function sweepOrphans(): Promise<void> {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const base = path.join(tmpdir(), name);
    let owner: number;
    try {
      owner = Number(readFileSync(path.join(base, 'owner'), 'utf8'));
    } catch {
      continue; // being created right now, or not ours
    }
    if (!Number.isInteger(owner) || owner <= 0 || processAlive(owner)) continue;
    await pgRun('pg_ctl', ['-D', path.join(base, 'data'), '-m', 'immediate', 'stop']).catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
  }
}

async function startCluster(): Promise<Cluster> {
  requireBinaries();
  await sweepOrphans();
  const base = mkdtempSync(path.join(tmpdir(), PREFIX));
  if (isRoot()) {
    const { uid, gid } = postgresUser();
    chownSync(base, uid, gid);
  }
  const dataDir = path.join(base, 'data');
  await pgRun('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--no-locale']);

  writeFileSync(path.join(base, 'owner'), String(process.pid));
  let lastErr: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const port = await freePort();
    const opts = [
      `-p ${port}`,
      `-k ${base}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c shared_buffers=32MB',
      '-c max_connections=200',
    ].join(' ');
    try {
      await pgRun('pg_ctl', [
        '-D',
        dataDir,
        '-l',
        path.join(base, 'postgres.log'),
        '-w',
        '-t',
        '30',
        '-o',
        opts,
        'start',
      ]);
    } catch (err) {
      lastErr = new Error(`${(err as Error).message}\n--- postgres.log ---\n${logTail(base)}`);
      continue; // most likely the port was taken between freePort() and the bind
    }
    stopOnExit = () => {
      try {
        const args = ['-D', dataDir, '-m', 'immediate', 'stop'];
        const file = path.join(PG_BIN, 'pg_ctl');
        if (isRoot()) execFileSync('runuser', ['-u', 'postgres', '--', file, ...args], { stdio: 'ignore' });
        else execFileSync(file, args, { stdio: 'ignore' });
      } catch {
        // already stopped
      }
      rmSync(base, { recursive: true, force: true });
    };
    process.once('exit', stopOnExit);
    const admin = new pg.Pool({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', max: 2 });
    admin.on('error', () => undefined);
    return { port, base, dataDir, admin };
  }
  rmSync(base, { recursive: true, force: true });
  throw lastErr;
}

async function stopCluster(c: Cluster): Promise<void> {
  await c.admin.end().catch(() => undefined);
  await pgRun('pg_ctl', ['-D', c.dataDir, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
  if (stopOnExit !== null) {
    process.removeListener('exit', stopOnExit);
    stopOnExit = null;
  }
  rmSync(c.base, { recursive: true, force: true });
}

/**
 * A fresh, empty database on this test file's PostgreSQL cluster (started on first call).
 * `url` is `postgres://postgres@127.0.0.1:<port>/<db>` (trust auth). `stop()` drops the database;
 * the last `stop()` of the file stops the cluster and removes its directory.
 */
export async function startPostgres(): Promise<{ url: string; stop(): Promise<void> }> {
  users++;
  let c: Cluster;
  try {
    cluster ??= startCluster();
    c = await cluster;
  } catch (err) {
    users--;
    cluster = null;
    throw err;
  }
  const name = `signet_${process.pid}_${++dbCounter}`;
  try {
    await c.admin.query(`create database "${name}"`);
  } catch (err) {
    users--;
    throw err;
  }
  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${c.port}/${name}`,
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      await c.admin.query(`drop database if exists "${name}" with (force)`).catch(() => undefined);
      users--;
      if (users === 0 && cluster !== null) {
        const current = cluster;
        cluster = null;
        await stopCluster(await current);
      }
    },
  };
}
