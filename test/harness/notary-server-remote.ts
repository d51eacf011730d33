// The real notary-server 0.7 (Debian package "notary") on 127.0.0.1 with a free port, its trust
// service pointed at a remote signer given by the caller (Signet's signer service, or notary-signer):
// `"trust_service": {"type": "remote", …}` with mutual TLS, as notary-peers.ts configures it for
// notary-signer. Storage is PostgreSQL (schema by notary's own migrations) so a test can reach the
// stored rows, or memory.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createNotarySchema, httpOk, NOTARY_SERVER_BIN, startOnFreePort } from './notary-peers.js';
import { childEnv, requireBinary, startProc, type Proc } from './proc.js';

export interface RemoteSignerRef {
  host: string;
  port: number;
  /** CA file notary-server trusts for the signer's certificate */
  caFile: string;
  /** notary-server's client certificate and key for the signer */
  clientCert: string;
  clientKey: string;
}

export interface NotaryServerWithSigner {
  url: string;
  port: number;
  log: string;
  stop(): Promise<void>;
}

/**
 * notary-server with TLS (`tlsCert`/`tlsKey`) in `dir`, using `signer`. `serverDb` = an empty
 * PostgreSQL database (notary's server migrations are applied to it unless `createSchema` is
 * false), or undefined for memory.
 * Resolves when /_notary_server/health answers 200, which notary-server only does once the
 * signer's health checks (grpc.health.v1 KeyManagement and Signer) pass.
 */
export async function startNotaryServerWithSigner(opts: {
  dir: string;
  tlsCert: string;
  tlsKey: string;
  caFile: string;
  signer: RemoteSignerRef;
  serverDb?: string;
  signerDbForSchema?: string;
  /** false: `serverDb` already holds notary's schema (and data) */
  createSchema?: boolean;
}): Promise<NotaryServerWithSigner> {
  await requireBinary(NOTARY_SERVER_BIN, 'notary');
  if (opts.serverDb !== undefined && opts.createSchema !== false) {
    await createNotarySchema({
      serverDb: opts.serverDb,
      signerDb: opts.signerDbForSchema ?? opts.serverDb,
      alias: 'unused',
      passphrase: 'unused',
    });
  }
  const caPem = await readFile(opts.caFile);
  const env = childEnv({}, (k) => k.startsWith('NOTARY_SERVER_') || k.startsWith('NOTARY_SIGNER_'));
  const started = await startOnFreePort(async (port, attempt): Promise<Proc> => {
    const cfg = path.join(opts.dir, 'notary-server.json');
    await writeFile(
      cfg,
      JSON.stringify(
        {
          server: { http_addr: `127.0.0.1:${port}`, tls_cert_file: opts.tlsCert, tls_key_file: opts.tlsKey },
          trust_service: {
            type: 'remote',
            hostname: opts.signer.host,
            port: String(opts.signer.port),
            key_algorithm: 'ecdsa',
            tls_ca_file: opts.signer.caFile,
            tls_client_cert: opts.signer.clientCert,
            tls_client_key: opts.signer.clientKey,
          },
          storage:
            opts.serverDb !== undefined
              ? {
                  backend: 'postgres',
                  db_url: `${opts.serverDb}${opts.serverDb.includes('?') ? '&' : '?'}sslmode=disable`,
                }
              : { backend: 'memory' },
          logging: { level: 'info' },
        },
        null,
        2,
      ),
    );
    return startProc({
      name: attempt === 0 ? 'notary-server' : `notary-server.${attempt}`,
      cmd: NOTARY_SERVER_BIN,
      args: ['-config', cfg, '-logf', 'json'],
      cwd: opts.dir,
      env,
      logDir: path.join(opts.dir, 'logs'),
      listenPort: port,
      timeoutMs: 30_000,
      ready: () => httpOk(`https://127.0.0.1:${port}/_notary_server/health`, caPem),
    });
  });
  return {
    url: `https://127.0.0.1:${started.port}`,
    port: started.port,
    log: started.proc.logFile,
    stop: () => started.proc.stop(),
  };
}
