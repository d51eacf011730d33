// The real notary-signer + notary-server (Debian package "notary", 0.7) on 127.0.0.1 with free
// ports, memory storage (or PostgreSQL, schema made by notary's own migrations), a fresh test CA
// and temp dir per call. Stop them with stop().
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freePort, portOpen } from './ports.js';
import { childEnv, requireBinary, startProc, tailFile, type Proc } from './proc.js';
import { makeTestCA } from './tls.js';
import pg from 'pg';
import { fileURLToPath } from 'node:url';

/** PostgreSQL storage for both peers: notary-server's and notary-signer's databases (empty; the schema is made here). */
export interface NotaryPostgres {
  serverDb: string;
  signerDb: string;
  /** the signer's default_alias; its passphrase is passed as NOTARY_SIGNER_<ALIAS> */
  alias: string;
  passphrase: string;
}

const MIGRATIONS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'notary-migrations');

/** Runs notary's upstream PostgreSQL migrations (test/fixtures/notary-migrations, see its README). */
export async function createNotarySchema(db: NotaryPostgres): Promise<void> {
  const apply = async (url: string, files: string[]): Promise<void> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (const f of files) await client.query(await readFile(path.join(MIGRATIONS, f), 'utf8'));
    } finally {
      await client.end();
    }
  };
  await apply(db.serverDb, ['server/postgresql/0001_initial.up.sql', 'server/postgresql/0002_changefeed.up.sql']);
  await apply(db.signerDb, ['signer/postgresql/0001_initial.up.sql']);
}

const withSslDisabled = (url: string): string => `${url}${url.includes('?') ? '&' : '?'}sslmode=disable`;

export interface NotaryPeers {
  url: string; // https://127.0.0.1:PORT
  httpUrl?: string; // http://127.0.0.1:PORT (2nd server: own memory store, same signer)
  caFile: string;
  dir: string;
  serverLog: string;
  stop(): Promise<void>;
}

export const NOTARY_SERVER_BIN = '/usr/bin/notary-server';
export const NOTARY_SIGNER_BIN = '/usr/bin/notary-signer';

/** GET url and resolve to true on HTTP 200 (trusting `ca` for https). */
export function httpOk(url: string, ca?: Buffer | string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(
      u,
      { method: 'GET', timeout: 2000, agent: false, ...(u.protocol === 'https:' && ca !== undefined ? { ca } : {}) },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** notary tools read NOTARY_SERVER_* / NOTARY_SIGNER_* as config overrides: never pass ours on. */
const dropNotaryEnv = (k: string): boolean => k.startsWith('NOTARY_SERVER_') || k.startsWith('NOTARY_SIGNER_');

/**
 * Start a peer on a fresh free port, retrying with another port when the log says the port
 * was taken between freePort() and bind (parallel test files).
 */
export async function startOnFreePort(
  make: (port: number, attempt: number) => Promise<Proc>,
  attempts = 4,
): Promise<{ port: number; proc: Proc }> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    const port = await freePort();
    try {
      return { port, proc: await make(port, i) };
    } catch (e) {
      last = e;
      if (!/address already in use|EADDRINUSE/i.test(String(e instanceof Error ? e.message : e))) throw e;
    }
  }
  throw last instanceof Error ? last : new Error(String(last));
}

export async function startNotaryPeers(opts: { http?: boolean; postgres?: NotaryPostgres } = {}): Promise<NotaryPeers> {
  await requireBinary(NOTARY_SIGNER_BIN, 'notary');
  await requireBinary(NOTARY_SERVER_BIN, 'notary');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'signet-notary-peers-'));
  const logDir = path.join(dir, 'logs');
  const procs: Proc[] = [];
  const stop = async (): Promise<void> => {
    for (const p of procs.reverse()) await p.stop();
    procs.length = 0;
    if (process.env.SIGNET_KEEP_PEERS !== '1') await rm(dir, { recursive: true, force: true });
  };
  try {
    const ca = await makeTestCA(path.join(dir, 'tls'));
    await Promise.all([
      ca.issue('server', { cn: 'notary-server', eku: 'serverAuth' }),
      ca.issue('signer', { cn: 'notary-signer', eku: 'serverAuth' }),
      ca.issue('server-client', { cn: 'notary-server-client', eku: 'clientAuth' }),
    ]);
    const pgStore = opts.postgres;
    // the signer reads the passphrase of its key alias from NOTARY_SIGNER_<ALIAS> (SQL backends only)
    const env = childEnv(
      pgStore ? { [`NOTARY_SIGNER_${pgStore.alias.toUpperCase()}`]: pgStore.passphrase } : {},
      dropNotaryEnv,
    );

    /** Writes `config` to `dir`/<name>.json and runs `bin -config <that file> -logf json` in `dir`. */
    const startWithConfig = async (
      name: string,
      attempt: number,
      bin: string,
      port: number,
      config: object,
      ready: () => Promise<boolean>,
    ): Promise<Proc> => {
      const cfg = path.join(dir, `${name}.json`);
      await writeFile(cfg, JSON.stringify(config, null, 2));
      return startProc({
        name: attempt === 0 ? name : `${name}.${attempt}`,
        cmd: bin,
        args: ['-config', cfg, '-logf', 'json'],
        cwd: dir,
        env,
        logDir,
        ready,
        listenPort: port,
      });
    };

    // --- signer (gRPC, mutual TLS). Config paths are relative to the config file.
    const signer = await startOnFreePort(async (port, attempt) =>
      startWithConfig(
        'notary-signer',
        attempt,
        NOTARY_SIGNER_BIN,
        port,
        {
          server: {
            grpc_addr: `127.0.0.1:${port}`,
            tls_cert_file: 'tls/signer.crt',
            tls_key_file: 'tls/signer.key',
            client_ca_file: 'tls/ca.crt',
          },
          logging: { level: 'info' },
          storage: pgStore
            ? { backend: 'postgres', db_url: withSslDisabled(pgStore.signerDb), default_alias: pgStore.alias }
            : { backend: 'memory' },
        },
        () => portOpen(port),
      ),
    );
    procs.push(signer.proc);

    const caPem = await readFile(ca.caCert);
    const startServer = async (name: string, withTls: boolean): Promise<{ port: number; proc: Proc }> =>
      startOnFreePort(async (port, attempt) => {
        const base = `${withTls ? 'https' : 'http'}://127.0.0.1:${port}`;
        return startWithConfig(
          name,
          attempt,
          NOTARY_SERVER_BIN,
          port,
          {
            server: {
              http_addr: `127.0.0.1:${port}`,
              ...(withTls ? { tls_cert_file: 'tls/server.crt', tls_key_file: 'tls/server.key' } : {}),
            },
            trust_service: {
              type: 'remote',
              hostname: '127.0.0.1',
              port: String(signer.port),
              key_algorithm: 'ecdsa',
              tls_ca_file: 'tls/ca.crt',
              tls_client_cert: 'tls/server-client.crt',
              tls_client_key: 'tls/server-client.key',
            },
            storage: pgStore
              ? { backend: 'postgres', db_url: withSslDisabled(pgStore.serverDb) }
              : { backend: 'memory' },
            logging: { level: 'info' },
          },
          () => httpOk(`${base}/_notary_server/health`, withTls ? caPem : undefined),
        );
      });

    const settled = await Promise.allSettled([
      startServer('notary-server', true),
      opts.http ? startServer('notary-server-http', false) : Promise.resolve(undefined),
    ]);
    for (const s of settled) if (s.status === 'fulfilled' && s.value) procs.push(s.value.proc);
    for (const s of settled) if (s.status === 'rejected') throw s.reason;
    const main = (settled[0] as PromiseFulfilledResult<{ port: number; proc: Proc }>).value;
    const plain = (settled[1] as PromiseFulfilledResult<{ port: number; proc: Proc } | undefined>).value;

    return {
      url: `https://127.0.0.1:${main.port}`,
      ...(plain ? { httpUrl: `http://127.0.0.1:${plain.port}` } : {}),
      caFile: ca.caCert,
      dir,
      serverLog: main.proc.logFile,
      stop,
    };
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
}

export { tailFile };
