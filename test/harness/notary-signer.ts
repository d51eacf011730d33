// The real notary-signer 0.7 alone (Debian package "notary"), for Signet's server to sign with: gRPC
// on 127.0.0.1 with mutual TLS (a fresh test CA; a client certificate for Signet), memory storage
// or PostgreSQL (schema by notary's own migration, test/fixtures/notary-migrations). stop() and
// start() again on the same port (and, with PostgreSQL, the same keys) for signer-down tests.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { NOTARY_SIGNER_BIN, startOnFreePort } from './notary-peers.js';
import { portOpen } from './ports.js';
import { childEnv, requireBinary, startProc, type Proc } from './proc.js';
import { makeTestCA } from './tls.js';

export interface NotarySigner {
  /** 127.0.0.1:PORT */
  address: string;
  port: number;
  caFile: string;
  /** client certificate and key Signet's server presents */
  clientCert: string;
  clientKey: string;
  dir: string;
  logFile: string;
  /** stops the process (keeps the temp dir) */
  stop(): Promise<void>;
  /** starts it again on the same port */
  start(): Promise<void>;
  /** stops it and removes the temp dir */
  dispose(): Promise<void>;
}

const MIGRATION = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'notary-migrations',
  'signer',
  'postgresql',
  '0001_initial.up.sql',
);

/** The signer's key alias; its passphrase is passed as NOTARY_SIGNER_<ALIAS> (SQL storage only). */
const ALIAS = 'signetalias';

/** notary tools read NOTARY_SERVER_* / NOTARY_SIGNER_* as config overrides: never pass ours on. */
const dropNotaryEnv = (k: string): boolean => k.startsWith('NOTARY_SERVER_') || k.startsWith('NOTARY_SIGNER_');

export async function startNotarySigner(opts: { postgresUrl?: string } = {}): Promise<NotarySigner> {
  await requireBinary(NOTARY_SIGNER_BIN, 'notary');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'signet-notary-signer-'));
  const ca = await makeTestCA(path.join(dir, 'tls'));
  await ca.issue('signer', { cn: 'notary-signer', eku: 'serverAuth' });
  const client = await ca.issue('signet-client', { cn: 'signet-server', eku: 'clientAuth' });
  if (opts.postgresUrl !== undefined) {
    const c = new pg.Client({ connectionString: opts.postgresUrl });
    await c.connect();
    try {
      await c.query(await readFile(MIGRATION, 'utf8'));
    } finally {
      await c.end();
    }
  }
  const env = childEnv(
    opts.postgresUrl !== undefined ? { [`NOTARY_SIGNER_${ALIAS.toUpperCase()}`]: 'signer-alias-pass' } : {},
    dropNotaryEnv,
  );
  let proc: Proc | undefined;
  let runs = 0;
  const launch = async (port: number): Promise<Proc> => {
    const cfg = path.join(dir, 'notary-signer.json');
    await writeFile(
      cfg,
      JSON.stringify({
        server: {
          grpc_addr: `127.0.0.1:${port}`,
          tls_cert_file: 'tls/signer.crt',
          tls_key_file: 'tls/signer.key',
          client_ca_file: 'tls/ca.crt',
        },
        logging: { level: 'info' },
        storage:
          opts.postgresUrl !== undefined
            ? {
                backend: 'postgres',
                db_url: `${opts.postgresUrl}${opts.postgresUrl.includes('?') ? '&' : '?'}sslmode=disable`,
                default_alias: ALIAS,
              }
            : { backend: 'memory' },
      }),
    );
    return startProc({
      name: `notary-signer.${runs++}`,
      cmd: NOTARY_SIGNER_BIN,
      args: ['-config', cfg, '-logf', 'json'],
      cwd: dir,
      env,
      logDir: path.join(dir, 'logs'),
      ready: () => portOpen(port),
      listenPort: port,
    });
  };
  const first = await startOnFreePort((port) => launch(port));
  proc = first.proc;
  const port = first.port;
  const signer: NotarySigner = {
    address: `127.0.0.1:${port}`,
    port,
    caFile: ca.caCert,
    clientCert: client.cert,
    clientKey: client.key,
    dir,
    get logFile() {
      return proc?.logFile ?? '';
    },
    async stop() {
      await proc?.stop();
      proc = undefined;
    },
    async start() {
      if (proc === undefined) proc = await launch(port);
    },
    async dispose() {
      await signer.stop();
      if (process.env.SIGNET_KEEP_PEERS !== '1') await rm(dir, { recursive: true, force: true });
    },
  };
  return signer;
}
