/**
 * `startServer(config)`: opens storage, the signer and TLS, builds the app and listens. Handles
 * SIGTERM/SIGINT with a graceful shutdown (stop accepting, finish in-flight requests, close the
 * database). Everything arrives in `config`; nothing here reads the environment.
 */
import crypto from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { SignetError } from '../errors.js';
import { parseListen } from '../listen.js';
import { openStore, type MetaStore } from '../storage/index.js';
import { LocalServerSigner } from '../signer/index.js';
import { buildApp, type SignetApp } from './app.js';
import { openAuditLog, type AuditLog } from './audit.js';
import { createAuthorizer, type Authorizer, type BasicAuthSettings } from './auth/index.js';
import type { ServerOptions } from './options.js';
import { ensureTls } from './tls.js';

// kept here for the server's public API; the parser is shared with the other listening commands
export { parseListen };

export type TlsConfig =
  { mode: 'auto' } | { mode: 'files'; certFile: string; keyFile: string } | { mode: 'insecure-http' };

/** Auth as configured: token settings name the root certificate bundle file (read at start). */
export type AuthConfig =
  { type: 'token'; realm: string; service: string; issuer: string; rootCertBundle: string } | BasicAuthSettings;

export interface ServerConfig {
  /** HOST:PORT (default 127.0.0.1:4443); port 0 = any free port */
  listen: string;
  /** holds signet.db (SQLite), tls/, signer.passphrase */
  dataDir: string;
  /** postgres://… (default: SQLite in dataDir) */
  database?: string | undefined;
  tls: TlsConfig;
  /** passphrase that encrypts server-held keys; else read/created in <dataDir>/signer.passphrase */
  signerPassphrase?: string | undefined;
  logLevel?: string;
  /** a ready logger (tests); overrides logLevel */
  logger?: Logger;
  options?: Partial<ServerOptions>;
  /** install SIGTERM/SIGINT handlers (default true) */
  handleSignals?: boolean;
  /** token or basic auth; omitted = none (every request allowed) */
  auth?: AuthConfig | undefined;
  /** audit trail file, '-' for stdout, false for none; default <dataDir>/audit.log */
  auditLog?: string | false | undefined;
  /**
   * where GET /metrics is served: omitted = on the main listener, behind `auth` when auth is on;
   * HOST:PORT = only on a plain-HTTP listener of its own (e.g. 127.0.0.1:9464); 'off' = nowhere
   */
  metricsListen?: string | undefined;
}

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  /** CA certificate clients must trust (auto TLS), else undefined */
  caFile: string | undefined;
  tlsState: 'created' | 'renewed' | 'existing' | 'files' | 'none';
  signet: SignetApp;
  /** http://HOST:PORT/metrics when the metrics have a listener of their own */
  metricsUrl: string | undefined;
  store: MetaStore;
  logger: Logger;
  close(): Promise<void>;
}

/** Fields never to be logged (pino redact). */
export const REDACT = [
  'passphrase',
  '*.passphrase',
  'signerPassphrase',
  '*.signerPassphrase',
  'privateKey',
  '*.privateKey',
  'key',
  '*.key',
  'req.headers.authorization',
  'headers.authorization',
  'password',
  '*.password',
  'token',
  '*.token',
];

/** The authorizer of the config (reads the token root certificate bundle). */
export async function loadAuthorizer(auth: AuthConfig): Promise<Authorizer> {
  if (auth.type === 'basic') return createAuthorizer(auth);
  let pem: string;
  try {
    pem = await readFile(auth.rootCertBundle, 'utf8');
  } catch (cause) {
    throw new SignetError(
      'USAGE',
      `unable to read token auth root certificate bundle file ${JSON.stringify(auth.rootCertBundle)}`,
      { cause },
    );
  }
  const { rootCertBundle: _file, ...rest } = auth;
  return createAuthorizer({ ...rest, rootCertsPem: pem });
}

/** A secret file others may read or write is refused, as `keys` refuses such key files. */
async function checkPrivateFile(file: string): Promise<void> {
  const st = await stat(file);
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw new SignetError(
      'USAGE',
      `${file} must not be readable or writable by group or others (mode ${(st.mode & 0o777).toString(8)}): it holds the passphrase of the server's signing keys`,
      { fix: `chmod 600 ${file} (and consider rotating the passphrase if others could read it)` },
    );
  }
}

/** The signer passphrase: given, or read from / created in <dataDir>/signer.passphrase (0600). */
export async function signerPassphrase(dataDir: string, given: string | undefined, log: Logger): Promise<string> {
  if (given !== undefined && given !== '') return given;
  const file = path.join(dataDir, 'signer.passphrase');
  try {
    await checkPrivateFile(file);
    const p = (await readFile(file, 'utf8')).trim();
    if (p !== '') return p;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const p = crypto.randomBytes(32).toString('base64url');
  await writeFile(file, p + '\n', { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code === 'EEXIST') return;
    throw err;
  });
  await chmod(file, 0o600);
  log.warn(
    { file },
    'created a random signer passphrase (encrypts the server-held timestamp/snapshot keys); back it up, or set SIGNET_SIGNER_PASSPHRASE / --signer-passphrase-file',
  );
  return (await readFile(file, 'utf8')).trim();
}

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const logger =
    config.logger ??
    pino({
      level: config.logLevel ?? 'info',
      redact: { paths: REDACT, censor: '[redacted]' },
      base: { service: 'signet-server' },
    });
  const { host, port } = parseListen(config.listen);
  const metricsOwn =
    config.metricsListen !== undefined && config.metricsListen !== 'off'
      ? parseListen(config.metricsListen, '--metrics-listen')
      : undefined;
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const store = await openStore({
    ...(config.database ? { database: config.database } : {}),
    dataDir: config.dataDir,
    logger: { warn: (o, msg) => logger.warn(o, msg) },
  });
  let audit: AuditLog | undefined;
  let metricsServer: Server | undefined;
  try {
    const authorizer = config.auth !== undefined ? await loadAuthorizer(config.auth) : undefined;
    const auditFile = config.auditLog === undefined ? path.join(config.dataDir, 'audit.log') : config.auditLog;
    if (auditFile !== false) {
      audit = openAuditLog(auditFile, (err) =>
        logger.error({ err: err.message, file: auditFile }, 'audit log write failed'),
      );
    }
    if (authorizer !== undefined) logger.info({ type: authorizer.type }, 'authorization enabled');
    const passphrase = await signerPassphrase(config.dataDir, config.signerPassphrase, logger);
    const signer = new LocalServerSigner({ keys: store.keys, passphrase });

    let tlsState: RunningServer['tlsState'] = 'none';
    let caFile: string | undefined;
    let tls: { cert: string; key: string } | undefined;
    if (config.tls.mode === 'auto') {
      // the certificate also names the listen address (or this host's name for a wildcard address)
      const extra = host === '0.0.0.0' || host === '::' ? [os.hostname()] : [host];
      const m = await ensureTls(config.dataDir, { names: extra.filter((n) => n !== '' && !n.includes('%')) });
      tls = { cert: m.cert, key: m.key };
      caFile = m.caFile;
      tlsState = m.state;
      if (m.state !== 'existing')
        logger.info({ caFile, state: m.state }, 'TLS certificate authority and server certificate ready');
    } else if (config.tls.mode === 'files') {
      tls = { cert: await readFile(config.tls.certFile, 'utf8'), key: await readFile(config.tls.keyFile, 'utf8') };
      tlsState = 'files';
    } else {
      logger.warn(
        'serving plain HTTP (--insecure-http): put a TLS-terminating proxy in front; docker refuses http trust servers',
      );
    }

    const isPg = /^postgres(ql)?:\/\//i.test(config.database ?? '');
    const signet = buildApp({
      store,
      signer,
      logger,
      processMetrics: true,
      metricsRoute: config.metricsListen === undefined,
      auth: authorizer,
      audit,
      // several servers may share a PostgreSQL database: cached "current" views live briefly
      options: { ...(isPg ? { cacheTtlMs: 1000 } : {}), ...config.options },
      createServer: (handler) =>
        tls
          ? createHttpsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, handler)
          : createHttpServer(handler),
    });
    const app = signet.app;
    app.server.keepAliveTimeout = 65_000;
    app.server.requestTimeout = 120_000;
    app.server.headersTimeout = 30_000;
    await app.listen({
      host,
      port,
      listenTextResolver: (address) => `listening on ${tls ? address.replace(/^http:/, 'https:') : address}`,
    });
    const addr = app.server.address() as AddressInfo;
    const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    const url = `${tls ? 'https' : 'http'}://${shownHost}:${addr.port}`;
    logger.info(
      { url, dataDir: config.dataDir, database: isPg ? 'postgresql' : 'sqlite' },
      'signet trust server listening',
    );
    let metricsUrl: string | undefined;
    if (metricsOwn !== undefined) {
      metricsServer = await serveMetrics(signet, metricsOwn.host, metricsOwn.port);
      const a = metricsServer.address() as AddressInfo;
      metricsUrl = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/metrics`;
      logger.info({ url: metricsUrl }, 'metrics listening');
    }

    let closing: Promise<void> | undefined;
    const close = (): Promise<void> => {
      closing ??= (async () => {
        if (metricsServer !== undefined) await closeServer(metricsServer);
        await app.close();
        await store.close();
        await audit?.close();
      })();
      return closing;
    };
    if (config.handleSignals !== false) {
      const onSignal = (sig: NodeJS.Signals): void => {
        logger.info({ signal: sig }, 'shutting down');
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        const force = setTimeout(() => process.exit(1), 10_000);
        force.unref();
        close().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    }
    return { url, host: addr.address, port: addr.port, caFile, tlsState, signet, metricsUrl, store, logger, close };
  } catch (err) {
    if (metricsServer !== undefined) await closeServer(metricsServer).catch(() => undefined);
    await store.close().catch(() => undefined);
    await audit?.close().catch(() => undefined);
    throw err;
  }
}

/**
 * `--metrics-listen`: plain HTTP answering only `GET /metrics` (404 for anything else), for a
 * scraper on an internal address while the trust API listener serves no metrics at all.
 */
async function serveMetrics(signet: SignetApp, host: string, port: number): Promise<Server> {
  const { registry } = signet.metrics;
  const server = createHttpServer((req, res) => {
    const url = (req.url ?? '').split('?')[0];
    if ((req.method !== 'GET' && req.method !== 'HEAD') || url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? '' : body),
      () => res.writeHead(500).end(),
    );
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
