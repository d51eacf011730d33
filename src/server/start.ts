/**
 * `startServer(config)`: opens storage, the signer and TLS, builds the app and listens. Handles
 * SIGTERM/SIGINT with a graceful shutdown (stop accepting, finish in-flight requests, close the
 * database). Everything arrives in `config`; nothing here reads the environment.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFile } from 'node:fs/promises';
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
import { createPassphrase, existingPassphrase, signerPassphrase } from './passphrase.js';
import {
  acquireDataDirLock,
  checkListenFree,
  checkLogLevel,
  entriesOf,
  listenError,
  prepareDataDir,
  removeCreated,
} from './preflight.js';
import { ensureTls } from './tls.js';

// kept here for the server's public API; the parser is shared with the other listening commands
export { parseListen, signerPassphrase };

export type TlsConfig =
  { mode: 'auto' } | { mode: 'files'; certFile: string; keyFile: string } | { mode: 'insecure-http' };

/** Auth as configured: token settings name the root certificate bundle file (read at start). */
export type AuthConfig =
  | { type: 'token'; realm: string; service: string; issuer: string; rootCertBundle: string }
  | BasicAuthSettings
  | { type: 'htpasswd'; realm?: string | undefined; file: string };

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
  /**
   * without auth, let anonymous clients publish, delete and make keys; default: only when every
   * listen address is loopback
   */
  allowAnonymousWrites?: boolean | undefined;
  /** open connections accepted at once (Node's server.maxConnections; default 1024) */
  maxConnections?: number | undefined;
  /**
   * server keys that never signed, of GUNs never published, are deleted once older than this
   * (default 7 days; 0 = never); checked at start and every hour
   */
  unpublishedKeyMaxAgeMs?: number | undefined;
  /** set in the workers of `--workers N` (workers.ts): the primary checked the address and holds the lock */
  worker?: { wrapStore(store: MetaStore): MetaStore } | undefined;
}

export const DEFAULT_MAX_CONNECTIONS = 1024;
export const DEFAULT_UNPUBLISHED_KEY_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
const KEY_SWEEP_EVERY_MS = 60 * 60 * 1000;

/** Whether a listen host reaches only this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
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
  if (auth.type === 'htpasswd') {
    let text: string;
    try {
      text = await readFile(auth.file, 'utf8');
    } catch (cause) {
      throw new SignetError('USAGE', `cannot read the htpasswd file ${auth.file}`, {
        cause,
        fix: 'point --auth-htpasswd at a file made with htpasswd -B (apache2-utils)',
      });
    }
    return createAuthorizer({ type: 'htpasswd', realm: auth.realm, file: auth.file, text });
  }
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

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  if (config.logger === undefined) checkLogLevel(config.logLevel ?? 'info');
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
  const isPg = /^postgres(ql)?:\/\//i.test(config.database ?? '');
  // nothing is created before these pass (a refused start leaves the data dir as it was)
  if (config.worker === undefined) await checkListenFree(host, port, '--listen');
  if (metricsOwn !== undefined && config.worker === undefined)
    await checkListenFree(metricsOwn.host, metricsOwn.port, '--metrics-listen');
  const createdDir = await prepareDataDir(config.dataDir);
  const before = await entriesOf(config.dataDir);
  let unlock: (() => Promise<void>) | undefined;
  let store: MetaStore | undefined;
  let audit: AuditLog | undefined;
  let metricsServer: Server | undefined;
  let sweep: NodeJS.Timeout | undefined;
  try {
    // SQLite: one process per data dir (PostgreSQL servers share the database, not a data dir lock)
    if (!isPg && config.worker === undefined) unlock = await acquireDataDirLock(config.dataDir);
    store = await openStore({
      ...(config.database ? { database: config.database } : {}),
      dataDir: config.dataDir,
      logger: { warn: (o, msg) => logger.warn(o, msg) },
    });
    if (config.worker !== undefined) store = config.worker.wrapStore(store);
    const opened = store;
    const keys = opened.keys;
    const authorizer = config.auth !== undefined ? await loadAuthorizer(config.auth) : undefined;
    const auditFile = config.auditLog === undefined ? path.join(config.dataDir, 'audit.log') : config.auditLog;
    if (auditFile !== false) {
      audit = openAuditLog(auditFile, (err) =>
        logger.error({ err: err.message, file: auditFile }, 'audit log write failed'),
      );
    }
    if (authorizer !== undefined) logger.info({ type: authorizer.type }, 'authorization enabled');
    const given = await existingPassphrase(config.dataDir, config.signerPassphrase);
    if (given === undefined && (await keys.first()) !== null) {
      throw new SignetError(
        'BAD_PASSPHRASE',
        'no signer passphrase was given and the data directory holds none, but the database holds server keys',
        {
          fix: 'give the passphrase the server was first started with: --signer-passphrase-file FILE, SIGNET_SIGNER_PASSPHRASE_FILE or SIGNET_SIGNER_PASSPHRASE',
        },
      );
    }
    const passphrase = given ?? (await createPassphrase(config.dataDir, logger));
    const signer = new LocalServerSigner({ keys, passphrase });
    await signer.checkPassphrase();
    const maxAge = config.unpublishedKeyMaxAgeMs ?? DEFAULT_UNPUBLISHED_KEY_MAX_AGE_MS;
    if (maxAge > 0) {
      const sweepKeys = (): void => {
        keys.deleteUnpublished(new Date(Date.now() - maxAge)).then(
          (n) => n > 0 && logger.info({ deleted: n }, 'deleted server keys of repositories never published'),
          (err: unknown) => logger.warn({ err: (err as Error)?.message }, 'server key clean-up failed'),
        );
      };
      sweepKeys();
      sweep = setInterval(sweepKeys, KEY_SWEEP_EVERY_MS);
      sweep.unref();
    }

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

    const anonymousWrites = config.allowAnonymousWrites === true || isLoopback(host);
    if (authorizer === undefined && !anonymousWrites)
      logger.warn(
        { listen: config.listen },
        'no auth configured and not listening on loopback only: anonymous publish, delete and key creation are refused (configure auth, or --allow-anonymous-writes)',
      );
    else if (authorizer === undefined && config.allowAnonymousWrites === true && !isLoopback(host))
      logger.warn({ listen: config.listen }, 'anyone who reaches this server may publish, delete and make keys');
    const signet = buildApp({
      store,
      signer,
      logger,
      processMetrics: true,
      metricsRoute: config.metricsListen === undefined,
      auth: authorizer,
      audit,
      anonymousWrites,
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
    app.server.maxConnections = config.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    try {
      await app.listen({
        host,
        port,
        listenTextResolver: (address) => `listening on ${tls ? address.replace(/^http:/, 'https:') : address}`,
      });
    } catch (err) {
      throw listenError(err, '--listen', `${host}:${port}`) ?? err;
    }
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
        clearInterval(sweep);
        if (metricsServer !== undefined) await closeServer(metricsServer);
        await app.close();
        await opened.close();
        await audit?.close();
        await unlock?.();
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
    return {
      url,
      host: addr.address,
      port: addr.port,
      caFile,
      tlsState,
      signet,
      metricsUrl,
      store: opened,
      logger,
      close,
    };
  } catch (err) {
    clearInterval(sweep);
    if (metricsServer !== undefined) await closeServer(metricsServer).catch(() => undefined);
    await store?.close().catch(() => undefined);
    await audit?.close().catch(() => undefined);
    // what this start created goes again, but only while no other process can be using the dir
    if (unlock !== undefined || createdDir !== undefined)
      await removeCreated(config.dataDir, createdDir, before).catch(() => undefined);
    await unlock?.().catch(() => undefined);
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
