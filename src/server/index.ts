export { buildApp, type AppDeps, type SignetApp } from './app.js';
export {
  startServer,
  parseListen,
  signerPassphrase,
  REDACT,
  type ServerConfig,
  type RunningServer,
  type TlsConfig,
} from './start.js';
export { DEFAULT_SERVER_OPTIONS, type ServerOptions } from './options.js';
export { ensureTls, type TlsMaterial } from './tls.js';
export { ROUTES, matchRoute, type RouteDef, type RouteName } from './routes.js';
export { errorBody, HttpError, type NotaryErrorCode } from './errors.js';
