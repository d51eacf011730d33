export { buildApp, type AppDeps, type SignetApp } from './app.js';
export {
  startServer,
  parseListen,
  signerPassphrase,
  REDACT,
  type ServerConfig,
  type RunningServer,
  type TlsConfig,
  type AuthConfig,
  loadAuthorizer,
} from './start.js';
export {
  createAuthorizer,
  libtrustKeyId,
  TOKEN_LEEWAY_S,
  type Authorizer,
  type AuthSettings,
  type BasicAuthSettings,
  type BasicUser,
} from './auth/index.js';
export {
  openAuditLog,
  auditLine,
  AuditTrail,
  AUDIT_FAILURES_PER_SECOND,
  type AuditLog,
  type AuditActor,
} from './audit.js';
export { DEFAULT_SERVER_OPTIONS, type ServerOptions } from './options.js';
export {
  LOG_LEVELS,
  acquireDataDirLock,
  checkListenFree,
  checkLogLevel,
  entriesOf,
  prepareDataDir,
  removeCreated,
} from './preflight.js';
export { existingPassphrase, createPassphrase } from './passphrase.js';
export { ensureTls, type TlsMaterial } from './tls.js';
export type { RemoteSignerConfig } from './signer-setup.js';
export { ROUTES, matchRoute, type RouteDef, type RouteName } from './routes.js';
export { errorBody, HttpError, type NotaryErrorCode } from './errors.js';
export { startPrimary, MAX_WORKERS, WORKER_INDEX_ENV, type PrimaryHandle } from './workers.js';
export { sharedStore, workerBus, WorkerBus, isBusMessage, type BusMessage } from './worker-bus.js';
