/**
 * `signet server --workers N`: a primary process and N workers (node:cluster) sharing the listen
 * port; each worker is a whole server (startServer) with its own caches and database connections.
 *
 * - The primary checks the listen addresses, takes the data directory lock (SQLite: one server
 *   per data directory, and the workers are that server), starts worker 1 alone (it creates the
 *   signer passphrase, TLS material and database tables on a fresh data directory), then the rest.
 * - SQLite in WAL mode takes writers from several processes: each commit re-checks versions under
 *   SQLite's write lock (src/storage/sqlite.ts), so two workers publishing one GUN cannot both win.
 * - Cached current metadata: the primary relays each worker's change announcements to the others
 *   and tells the writer when all have applied them (worker-bus.ts), before its client is answered.
 * - A worker that dies is replaced; SIGTERM/SIGINT to the primary stops every worker gracefully.
 */
import type { Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { SignetError } from '../errors.js';
import { parseListen } from '../listen.js';
import {
  acquireDataDirLock,
  checkListenFree,
  checkLogLevel,
  entriesOf,
  prepareDataDir,
  removeCreated,
} from './preflight.js';
import type { ServerConfig } from './start.js';
import { isBusMessage, type BusMessage } from './worker-bus.js';

export const MAX_WORKERS = 64;
/** env var naming a worker's number (1…N) in the processes the primary forks */
export const WORKER_INDEX_ENV = 'SIGNET_WORKER_INDEX';
const RESTART_DELAY_MS = 1000;
const STOP_GRACE_MS = 12_000;

export interface PrimaryHandle {
  url: string;
  caFile: string | undefined;
  /** resolves when every worker has exited after `stop` or a signal */
  stopped: Promise<void>;
  stop(): Promise<void>;
}

function send(w: Worker, m: BusMessage): void {
  if (w.isConnected()) w.send(m);
}

/**
 * Runs the primary; resolves once every worker listens. A worker that cannot start fails the
 * whole start (its own error is on stderr) with SignetError('INTERNAL', details.exitCode = its exit code).
 */
export async function startPrimary(config: ServerConfig, workers: number, logger: Logger): Promise<PrimaryHandle> {
  if (!Number.isSafeInteger(workers) || workers < 1 || workers > MAX_WORKERS)
    throw new SignetError('USAGE', `--workers must be a whole number from 1 to ${MAX_WORKERS}, got ${workers}`);
  const { default: cluster } = await import('node:cluster');
  checkLogLevel(config.logLevel ?? 'info');
  const { host, port } = parseListen(config.listen);
  await checkListenFree(host, port, '--listen');
  if (config.metricsListen !== undefined && config.metricsListen !== 'off') {
    const m = parseListen(config.metricsListen, '--metrics-listen');
    await checkListenFree(m.host, m.port, '--metrics-listen');
  }
  const isPg = /^postgres(ql)?:\/\//i.test(config.database ?? '');
  const createdDir = await prepareDataDir(config.dataDir);
  const before = await entriesOf(config.dataDir);
  const unlock = isPg ? undefined : await acquireDataDirLock(config.dataDir);

  let stopping = false;
  let started = false;
  const live = new Set<Worker>();
  // change id (worker id:seq) → the writer and the workers that have not acknowledged yet
  const pending = new Map<string, { origin: Worker; reply: string; waiting: Set<number> }>();
  const settle = (id: string): void => {
    const p = pending.get(id);
    if (p === undefined || p.waiting.size > 0) return;
    pending.delete(id);
    send(p.origin, { signet: 'done', id: p.reply });
  };
  let onReady: ((m: { url: string; caFile: string | undefined }) => void) | undefined;

  cluster.on('message', (w, m: unknown) => {
    if (!isBusMessage(m)) return;
    if (m.signet === 'ready') onReady?.(m);
    else if (m.signet === 'change') {
      const id = `${w.id}:${m.id}`;
      const others = [...live].filter((o) => o !== w && o.isConnected());
      pending.set(id, { origin: w, reply: m.id, waiting: new Set(others.map((o) => o.id)) });
      for (const o of others) send(o, { signet: 'change', id, change: m.change });
      settle(id);
    } else if (m.signet === 'ack') {
      pending.get(m.id)?.waiting.delete(w.id);
      settle(m.id);
    }
  });

  const fork = (index: number): Worker => {
    const w = cluster.fork({ [WORKER_INDEX_ENV]: String(index) });
    live.add(w);
    w.on('exit', (code, signal) => {
      live.delete(w);
      for (const [id, p] of pending) {
        if (p.origin === w) pending.delete(id);
        else if (p.waiting.delete(w.id)) settle(id);
      }
      if (stopping || !started) return;
      logger.error({ worker: index, pid: w.process.pid, code, signal }, 'server worker exited; starting a new one');
      setTimeout(() => {
        if (!stopping) fork(index);
      }, RESTART_DELAY_MS).unref();
    });
    return w;
  };

  /** Forks worker `index` and waits until it listens (or exits: the start fails). */
  const startOne = (index: number): Promise<{ url: string; caFile: string | undefined }> =>
    new Promise((resolve, reject) => {
      const w = fork(index);
      const failed = (code: number | null): void =>
        reject(
          new SignetError('INTERNAL', `server worker ${index} exited (code ${code ?? 'none'}) before listening`, {
            fix: "see the worker's error above",
            details: { exitCode: code ?? 1 },
          }),
        );
      w.once('exit', failed);
      onReady = (m) => {
        w.off('exit', failed);
        resolve(m);
      };
    });

  const stopAll = async (): Promise<void> => {
    stopping = true;
    const exits = [...live].map((w) => new Promise<void>((r) => (w.isDead() ? r() : w.once('exit', () => r()))));
    for (const w of live) send(w, { signet: 'stop' });
    const force = setTimeout(() => {
      for (const w of live) w.process.kill('SIGKILL');
    }, STOP_GRACE_MS);
    await Promise.all(exits);
    clearTimeout(force);
    await unlock?.();
  };

  let first: { url: string; caFile: string | undefined };
  try {
    first = await startOne(1);
    for (let i = 2; i <= workers; i++) await startOne(i);
  } catch (err) {
    await stopAll().catch(() => undefined);
    await removeCreated(config.dataDir, createdDir, before).catch(() => undefined);
    throw err;
  }
  started = true;
  logger.info({ url: first.url, workers }, 'signet trust server listening with workers');

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= stopAll());
  let resolveStopped: () => void = () => undefined;
  const allStopped = new Promise<void>((r) => (resolveStopped = r));
  if (config.handleSignals !== false) {
    const onSignal = (sig: NodeJS.Signals): void => {
      logger.info({ signal: sig }, 'shutting down the workers');
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      void stop().then(resolveStopped, resolveStopped);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  return {
    url: first.url,
    caFile: first.caFile,
    stopped: allStopped,
    stop: async () => {
      await stop();
      resolveStopped();
    },
  };
}
