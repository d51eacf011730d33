/**
 * `buildApp(deps)`: the trust server as a Fastify instance that never listens (tests use
 * `app.inject()`; `startServer` adds TLS and `listen`). Every request goes through the one route
 * table (`routes.ts`); errors leave as notary's envelope; nothing a client sends yields a 5xx.
 * GETs of cached current metadata can also be answered by `fastPath` straight from the Node
 * request handler, before Fastify (used by `startServer` through `serverFactory`).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { MetaStore } from '../storage/index.js';
import type { ServerSigner } from '../signer/index.js';
import { AuditTrail, type AuditActor, type AuditLog } from './audit.js';
import type { Authorizer } from './auth/index.js';
import { RepoCache } from './current.js';
import { HttpError, errorBody, toHttpError } from './errors.js';
import { FileCache } from './file-cache.js';
import * as h from './handlers.js';
import { makeFastPath, watchChanges } from './fast-path.js';
import { admission } from './limits.js';
import { createMetrics, type ServerMetrics } from './metrics.js';
import { createOperatorViews, type OperatorViews } from './operator.js';
import type { AuditReader } from './audit-recent.js';
import { DEFAULT_SERVER_OPTIONS, type ServerOptions } from './options.js';
import { NOT_FOUND_ACTIONS, cacheHeaders, matchRoute, type RouteMatch, type RouteName } from './routes.js';

export interface AppDeps {
  store: MetaStore;
  signer: ServerSigner;
  /** a pino logger (redaction configured by the caller), or false / undefined for none */
  logger?: FastifyBaseLogger | false;
  options?: Partial<ServerOptions>;
  now?: () => Date;
  /** default Node process metrics in /metrics */
  processMetrics?: boolean;
  /**
   * serve GET /metrics on this app (behind `auth` when auth is on); false when the metrics have a
   * listener of their own (`serveMetrics`) or are off. Default true.
   */
  metricsRoute?: boolean;
  /** creates the HTTP(S) server around the request handler (startServer); omitted in tests */
  createServer?: (handler: (req: IncomingMessage, res: ServerResponse) => void) => Server;
  /** token or basic auth (`createAuthorizer`); omitted = every request is allowed */
  auth?: Authorizer | undefined;
  /** JSON-lines copy of the audit trail (which is always kept in the store); omitted = none */
  audit?: AuditLog | undefined;
  /** where the dashboard reads recent audit entries; default: the store's trail (audit-recent.ts) */
  auditReader?: AuditReader | undefined;
  /** without `auth`: whether anonymous clients may publish, delete and make keys (default true) */
  anonymousWrites?: boolean;
}

export interface SignetApp {
  app: FastifyInstance;
  metrics: ServerMetrics;
  /** expiry watch, alerts, rates and dashboard (operator.ts) */
  operator: OperatorViews;
  /** drops every cached view (tests) */
  clearCaches(): void;
}

const ENVELOPE = 'application/json; charset=utf-8';
const NO_BODY_LIMIT = 64 * 1024;

type Handler = (ctx: h.HandlerContext, m: RouteMatch, req: FastifyRequest, actor: AuditActor) => Promise<h.Reply>;

const HANDLERS: Record<string, Handler> = {
  ping: async () => ({ status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: '{}' }),
  publish: (ctx, m, req, actor) => h.publishHandler(ctx, m, { stream: req.raw, headers: req.headers }, actor),
  get_by_checksum: (ctx, m, req) => h.getByChecksum(ctx, m, req),
  get_by_version: (ctx, m, req) => h.getByVersion(ctx, m, req),
  get_current: (ctx, m, req) => h.getCurrent(ctx, m, req),
  get_key: (ctx, m, _req, actor) => h.getKey(ctx, m, actor),
  rotate_key: (ctx, m, _req, actor) => h.rotateKey(ctx, m, actor),
  delete_gun: (ctx, m, _req, actor) => h.deleteGun(ctx, m, actor),
  changefeed_gun: (ctx, m) => h.changefeed(ctx, m),
  changefeed_all: (ctx, m) => h.changefeed(ctx, m),
  health: (ctx) => h.health(ctx),
  metrics: (ctx) => h.metrics(ctx),
};

const metricsElsewhere: Handler = async () => {
  throw new HttpError('METADATA_NOT_FOUND', undefined, 'metrics are served on their own listener, or off');
};

const NOOP_LOG: h.Logger = { info() {}, warn() {}, error() {} };

/** Routes whose refusals are audited (their successes are audited by the transaction that stores them). */
const AUDITED: ReadonlySet<RouteName> = new Set(['publish', 'delete_gun', 'rotate_key']);

/** What the auth hook learnt about a request, for the handler (no request decoration). */
interface RequestState {
  m: RouteMatch;
  start: bigint;
  user: string | undefined;
}

export function buildApp(deps: AppDeps): SignetApp {
  const opts: ServerOptions = { ...DEFAULT_SERVER_OPTIONS, ...deps.options };
  const metrics = createMetrics({
    countGuns: () => deps.store.countGuns(),
    defaultMetrics: deps.processMetrics ?? false,
    gunCountRefreshMs: opts.gunCountRefreshMs,
  });
  const now = deps.now ?? (() => new Date());
  const log = deps.logger ? (deps.logger as unknown as h.Logger) : NOOP_LOG;
  const operator = createOperatorViews({
    store: deps.store,
    signer: deps.signer,
    metrics,
    opts,
    now,
    log,
    auditReader: deps.auditReader,
  });
  const handlers: Record<string, Handler> = {
    ...HANDLERS,
    ...(deps.metricsRoute === false ? { metrics: metricsElsewhere } : {}),
    dashboard: (_ctx, m) => operator.handlers.dashboard(m),
    dashboard_asset: (_ctx, m) => operator.handlers.dashboard_asset(m),
    dashboard_api: (_ctx, m) => operator.handlers.dashboard_api(m),
  };
  const ctx: h.HandlerContext = {
    store: deps.store,
    signer: deps.signer,
    now,
    opts,
    cache: new RepoCache(deps.store, {
      ttlMs: opts.cacheTtlMs,
      maxGuns: opts.cacheMaxGuns,
      maxBytes: opts.cacheMaxBytes,
    }),
    files: new FileCache(opts.cacheMaxFiles, opts.cacheTtlMs, opts.cacheMaxBytes),
    metrics,
    cacheHeaders: cacheHeaders(opts.maxAgeCurrent, opts.maxAgeConsistent),
    log,
    resignCooldown: new Map(),
    resigning: new Map(),
  };

  const { admit, backoff } = admission(opts, deps.auth === undefined && deps.anonymousWrites === false);
  const fastPath = makeFastPath(ctx, deps.auth, (ip) => backoff.blockedFor(ip) > 0);
  const { auth } = deps;
  const trail = new AuditTrail(deps.store, deps.audit, (err) =>
    ctx.log.error({ err: (err as Error)?.message }, 'audit trail write failed'),
  );
  const stopWatching = watchChanges(ctx);
  const createServer = deps.createServer;
  // request ids unique across restarts and servers: a random id of this process, then a counter
  const bootId = randomBytes(6).toString('hex');
  let requests = 0;
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    // one structured line per request is written by `dispatch` instead
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    requestIdHeader: false,
    genReqId: () => `${bootId}-${++requests}`,
    ...(createServer
      ? {
          serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void) =>
            createServer((req, res) => {
              if (!fastPath(req, res)) handler(req, res);
            }),
        }
      : {}),
  });

  // Bodies are read by the publish handler itself (streamed, limited); no other route reads one.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));

  const states = new WeakMap<FastifyRequest, RequestState>();
  const stateOf = (req: FastifyRequest): RequestState => {
    let st = states.get(req);
    if (st === undefined) {
      st = { m: matchRoute(req.method, req.raw.url ?? req.url), start: process.hrtime.bigint(), user: undefined };
      states.set(req, st);
    }
    return st;
  };

  const actorOf = (req: FastifyRequest, st: RequestState, user: string | undefined = st.user): AuditActor => ({
    reqId: req.id,
    user: user ?? null,
    remote: req.ip ?? null,
    method: req.method,
    route: st.m.route?.name ?? 'not_found',
    gun: st.m.gun,
  });

  /** Metrics, the request log line, the audit entry of a refused state-changing request, then the reply. */
  const send = async (
    req: FastifyRequest,
    reply: FastifyReply,
    st: RequestState,
    r: h.Reply,
    code?: string,
  ): Promise<void> => {
    const { m } = st;
    const routeName = m.route?.name ?? 'not_found';
    const secs = Number(process.hrtime.bigint() - st.start) / 1e9;
    metrics.requests.inc({ route: routeName, method: req.method, status: String(r.status) });
    metrics.latency.observe({ route: routeName }, secs);
    const level = req.method === 'GET' && r.status < 400 ? opts.readLogLevel : 'info';
    req.log[level](
      {
        method: req.method,
        path: m.path,
        route: routeName,
        gun: m.gun,
        status: r.status,
        ms: Math.round(secs * 1e4) / 10,
        ...(st.user !== undefined ? { user: st.user } : {}),
      },
      'request',
    );
    if (r.status >= 400 && r.status !== 401 && AUDITED.has(routeName as RouteName)) {
      await trail.refused(actorOf(req, st), 'refused', { status: r.status, code: code ?? null });
    }
    reply.code(r.status).headers(r.headers).send(r.body);
  };

  const dispatch = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const st = stateOf(req);
    const m = st.m;
    const routeName = m.route?.name ?? 'not_found';
    let r: h.Reply;
    let code: string | undefined;
    try {
      if (m.route === null) throw new HttpError('METADATA_NOT_FOUND', undefined, 'no route');
      if (m.gunError !== undefined) throw new HttpError('INVALID_GUN', m.gunError, m.gunError);
      // routes without a body accept none to speak of (the publish body is limited while it streams)
      if (m.route.body === 'none' && Number(req.headers['content-length'] ?? 0) > NO_BODY_LIMIT) {
        throw new HttpError('PAYLOAD_TOO_LARGE', undefined, 'this route takes no request body');
      }
      const handler = handlers[m.route.name] as Handler;
      const release = admit(m.route.name, req.ip, req.headers['content-length']);
      try {
        r = await handler(ctx, m, req, actorOf(req, st));
      } finally {
        release?.();
      }
    } catch (err) {
      const he = toHttpError(err);
      code = he.code;
      if (he.status >= 500) req.log.error({ err, route: routeName, gun: m.gun }, 'request failed');
      r = {
        status: he.status,
        headers: { ...he.headers, 'content-type': ENVELOPE },
        body: errorBody(he.code, he.detail),
      };
      if (he.status < 500 && routeName !== 'not_found')
        req.log.info({ route: routeName, gun: m.gun, code: he.code, reason: he.message }, 'request refused');
    }
    await send(req, reply, st, r, code);
  };

  /**
   * Auth (N:utils/http.go), as an onRequest hook of the protected context only. A refused GUN is
   * answered before auth, like notary's GUN-prefix filter; routes with `actions: null` are public.
   */
  const authHook = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (auth === undefined) return undefined;
    const st = stateOf(req);
    const { m } = st;
    if (m.gunError !== undefined) return undefined;
    const actions = m.route === null ? NOT_FOUND_ACTIONS : m.route.actions;
    if (actions === null) return undefined;
    // after repeated failed credentials from this address, credentials are not even checked for a while
    const wait = req.headers.authorization === undefined ? 0 : backoff.blockedFor(req.ip);
    if (wait > 0) {
      req.log.info({ route: m.route?.name, remote: req.ip }, 'request refused: failed-auth backoff');
      const body = errorBody('TOOMANYREQUESTS', 'too many failed authentications from this address');
      const headers = { 'content-type': ENVELOPE, 'retry-after': String(wait) };
      send(req, reply, st, { status: 429, headers, body }, 'TOOMANYREQUESTS');
      return reply;
    }
    const res = auth.authorize(req.headers.authorization, m.gun, actions);
    if (res.ok) {
      st.user = res.user;
      if (res.user !== undefined) backoff.succeeded(req.ip);
      return undefined;
    }
    // wrong passwords only: a signed token cannot be guessed, and clients retry stale tokens
    if (res.reason === 'bad_credentials') backoff.failed(req.ip);
    const routeName = m.route?.name ?? 'not_found';
    req.log.info({ route: routeName, gun: m.gun, reason: res.reason, why: res.why }, 'request refused: unauthorized');
    // a credential-less ping is how clients learn the challenge (C:cli/trust/trust.go), not a failed attempt
    const handshake = routeName === 'ping' && res.reason === 'token_required';
    if (!handshake)
      await trail.refused(actorOf(req, st, res.user), 'auth_failure', {
        status: res.reply.status,
        reason: res.reason,
        required: m.gun === undefined ? ['registry:catalog:*'] : [...actions],
      });
    await send(req, reply, st, res.reply, 'UNAUTHORIZED');
    return reply;
  };

  // The public route (health) lives in a context without the auth hook; a non-canonical spelling
  // of it (`//_notary_server/health`) reaches the table through `*` and is public there too.
  void app.register(async (pub) => {
    pub.route({ method: 'GET', url: '/_notary_server/health', exposeHeadRoute: false, handler: dispatch });
  });
  void app.register(async (api) => {
    if (auth !== undefined) api.addHook('onRequest', authHook);
    api.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'], url: '*', handler: dispatch });
  });
  app.addHook('onClose', async () => operator.close());
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).header('content-type', ENVELOPE).send(errorBody('METADATA_NOT_FOUND'));
  });
  app.addHook('onClose', async () => {
    stopWatching();
    trail.close();
  });
  app.setErrorHandler((err, req, reply) => {
    // Fastify-level failures (bad headers, aborted bodies…): the client's fault unless proven otherwise
    const he = toHttpError(err);
    if (he.status >= 500) req.log.error({ err }, 'unhandled error');
    reply.code(he.status).header('content-type', ENVELOPE).send(errorBody(he.code, he.detail));
  });

  return {
    app,
    metrics,
    operator,
    clearCaches() {
      ctx.cache.clear();
      ctx.files.clear();
    },
  };
}
