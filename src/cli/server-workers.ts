/**
 * `signet server --workers N` (env SIGNET_WORKERS): the primary forks N worker processes
 * (src/server/workers.ts); each worker runs this same command again and lands in `runWorker`.
 * Without --workers the server is the single process of server-config.ts `runServer`.
 */
import cluster from 'node:cluster';
import { SignetError } from '../errors.js';
import { readEnv } from './config.js';
import { escapeControl, exitCodeFor, formatError } from './output.js';
import { clientInstructions, resolveServerConfig, runServer, type ServerFlags } from './server-config.js';

export interface WorkerFlags extends ServerFlags {
  workers?: string;
}

/** The worker count of --workers / SIGNET_WORKERS, or undefined for a single-process server. */
export function parseWorkers(flag: string | undefined, env: string | undefined, max: number): number | undefined {
  const raw = flag ?? (env === '' ? undefined : env);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new SignetError('USAGE', `--workers must be a whole number from 1 to ${max}, got ${JSON.stringify(raw)}`, {
      fix: `give --workers N (or SIGNET_WORKERS=N) with 1 ≤ N ≤ ${max}, e.g. the number of CPU cores`,
    });
  }
  return n;
}

function fail(err: unknown): void {
  const details = err instanceof SignetError ? err.details : undefined;
  process.stderr.write(escapeControl(formatError(err)) + '\n');
  process.exitCode =
    typeof details?.exitCode === 'number' && details.exitCode > 0 ? details.exitCode : exitCodeFor(err);
}

export async function runServerCommand(flags: WorkerFlags): Promise<void> {
  const server = await import('../server/index.js');
  const env = readEnv();
  let workers: number | undefined;
  try {
    workers = parseWorkers(flags.workers, env.SIGNET_WORKERS, server.MAX_WORKERS);
  } catch (err) {
    fail(err);
    return;
  }
  if (workers === undefined) return runServer(flags);
  if (cluster.isWorker) return runWorker(flags);
  try {
    const config = resolveServerConfig(flags, env);
    const pino = (await import('pino')).default;
    const logger = pino({ level: config.logLevel ?? 'info', base: { service: 'signet-server', role: 'primary' } });
    const primary = await server.startPrimary(config, workers, logger);
    process.stderr.write(clientInstructions(primary.url, primary.caFile));
    await primary.stopped;
  } catch (err) {
    fail(err);
  }
}

/** One worker: the whole server over the shared port; its writes are announced to the others. */
async function runWorker(flags: WorkerFlags): Promise<void> {
  const server = await import('../server/index.js');
  const index = Number(process.env[server.WORKER_INDEX_ENV] ?? '1');
  // a stop may arrive while this worker is still starting (the primary stops during a restart)
  let running: { close(): Promise<void> } | undefined;
  let stopAsked = false;
  const stop = (): void => void (running?.close() ?? Promise.resolve()).finally(() => process.exit(0));
  process.on('message', (m: unknown) => {
    if (!server.isBusMessage(m) || m.signet !== 'stop') return;
    stopAsked = true;
    if (running !== undefined) stop();
  });
  try {
    const config = resolveServerConfig(flags, readEnv());
    const bus = server.workerBus();
    const started = await server.startServer({
      ...config,
      // expiry alerts are sent by worker 1 alone (each worker would send its own otherwise)
      options: index === 1 ? config.options : { ...config.options, expiryWebhook: '' },
      worker: { wrapStore: (store) => server.sharedStore(store, bus) },
    });
    running = started;
    if (stopAsked) return stop();
    process.send?.({ signet: 'ready', url: started.url, caFile: started.caFile });
  } catch (err) {
    fail(err);
    process.exit(process.exitCode ?? 1);
  }
}
