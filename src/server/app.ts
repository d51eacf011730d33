/**
 * `buildApp(deps)`: the trust server as a Fastify instance that never listens (tests use
 * `app.inject()`; `startServer` adds TLS and `listen`). Every request goes through the one route
 * table (`routes.ts`); errors leave as notary's envelope; nothing a client sends yields a 5xx.
 * GETs of cached current metadata can also be answered by `fastPath` straight from the Node
 * request handler, before Fastify (used by `startServer` through `serverFactory`).
 */
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
import { RepoCache } from './current.js';
import { HttpError, errorBody, toHttpError } from './errors.js';
import { FileCache } from './file-cache.js';
import * as h from './handlers.js';
import { createMetrics, type ServerMetrics } from './metrics.js';
import { DEFAULT_SERVER_OPTIONS, type ServerOptions } from './options.js';
import { cacheHeaders, matchRoute, type RouteMatch } from './routes.js';

export interface AppDeps {
  store: MetaStore;
  signer: ServerSigner;
  /** a pino logger (redaction configured by the caller), or false / undefined for none */
  logger?: FastifyBaseLogger | false;
  options?: Partial<ServerOptions>;
  now?: () => Date;
  /** default Node process metrics in /metrics */
  processMetrics?: boolean;
  /** creates the HTTP(S) server around the request handler (startServer); omitted in tests */
  createServer?: (handler: (req: IncomingMessage, res: ServerResponse) => void) => Server;
}

export interface SignetApp {
  app: FastifyInstance;
  metrics: ServerMetrics;
  /** drops every cached view (tests) */
  clearCaches(): void;
}

const ENVELOPE = 'application/json; charset=utf-8';
const NO_BODY_LIMIT = 64 * 1024;

type Handler = (ctx: h.HandlerContext, m: RouteMatch, req: FastifyRequest) => Promise<h.Reply>;

const HANDLERS: Record<string, Handler> = {
  ping: async () => ({ status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: '{}' }),
  publish: (ctx, m, req) => h.publishHandler(ctx, m, { stream: req.raw, headers: req.headers }),
  get_by_checksum: (ctx, m) => h.getByChecksum(ctx, m),
  get_by_version: (ctx, m) => h.getByVersion(ctx, m),
  get_current: (ctx, m) => h.getCurrent(ctx, m),
  get_key: (ctx, m) => h.getKey(ctx, m),
  rotate_key: (ctx, m) => h.rotateKey(ctx, m),
  delete_gun: (ctx, m) => h.deleteGun(ctx, m),
  changefeed_gun: (ctx, m) => h.changefeed(ctx, m),
  changefeed_all: (ctx, m) => h.changefeed(ctx, m),
  health: (ctx) => h.health(ctx),
  metrics: (ctx) => h.metrics(ctx),
};

const NOOP_LOG: h.Logger = { info() {}, warn() {}, error() {} };

export function buildApp(deps: AppDeps): SignetApp {
  const opts: ServerOptions = { ...DEFAULT_SERVER_OPTIONS, ...deps.options };
  const metrics = createMetrics({
    countGuns: () => deps.store.countGuns(),
    defaultMetrics: deps.processMetrics ?? false,
  });
  const ctx: h.HandlerContext = {
    store: deps.store,
    signer: deps.signer,
    now: deps.now ?? (() => new Date()),
    opts,
    cache: new RepoCache(deps.store, {
      ttlMs: opts.cacheTtlMs,
      maxGuns: opts.cacheMaxGuns,
      maxBytes: opts.cacheMaxBytes,
    }),
    files: new FileCache(opts.cacheMaxFiles, opts.cacheTtlMs, opts.cacheMaxBytes),
    metrics,
    cacheHeaders: cacheHeaders(opts.maxAgeCurrent, opts.maxAgeConsistent),
    log: deps.logger ? (deps.logger as unknown as h.Logger) : NOOP_LOG,
    resignCooldown: new Map(),
    resigning: new Map(),
  };

  const fastPath = makeFastPath(ctx);
  const createServer = deps.createServer;
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    // one structured line per request is written by `dispatch` instead
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    requestIdHeader: false,
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

  const dispatch = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const start = process.hrtime.bigint();
    const m = matchRoute(req.method, req.raw.url ?? req.url);
    const routeName = m.route?.name ?? 'not_found';
    let r: h.Reply;
    try {
      if (m.route === null) throw new HttpError('METADATA_NOT_FOUND', undefined, 'no route');
      if (m.gunError !== undefined) throw new HttpError('INVALID_GUN', m.gunError, m.gunError);
      // routes without a body accept none to speak of (the publish body is limited while it streams)
      if (m.route.body === 'none' && Number(req.headers['content-length'] ?? 0) > NO_BODY_LIMIT) {
        throw new HttpError('PAYLOAD_TOO_LARGE', undefined, 'this route takes no request body');
      }
      const handler = HANDLERS[m.route.name] as Handler;
      r = await handler(ctx, m, req);
    } catch (err) {
      const he = toHttpError(err);
      if (he.status >= 500) req.log.error({ err, route: routeName, gun: m.gun }, 'request failed');
      r = { status: he.status, headers: { 'content-type': ENVELOPE }, body: errorBody(he.code, he.detail) };
      if (he.status < 500 && routeName !== 'not_found')
        req.log.info({ route: routeName, gun: m.gun, code: he.code, reason: he.message }, 'request refused');
    }
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
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
      },
      'request',
    );
    reply.code(r.status).headers(r.headers).send(r.body);
  };

  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'], url: '*', handler: dispatch });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).header('content-type', ENVELOPE).send(errorBody('METADATA_NOT_FOUND'));
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
    clearCaches() {
      ctx.cache.clear();
      ctx.files.clear();
    },
  };
}

/**
 * GET of current metadata already in the cache, answered from the raw Node handler: no Fastify
 * request objects, no parsing, no storage. Anything else (miss, stale, error) returns false and
 * takes the normal path.
 */
function makeFastPath(ctx: h.HandlerContext): (req: IncomingMessage, res: ServerResponse) => boolean {
  const current = Object.entries(ctx.cacheHeaders.current).flat();
  // raw URL → (gun, role) of a get_current match: skips the route regexes for repeated URLs
  const parsed = new Map<string, { gun: string; role: string }>();
  // flat header arrays per cached file (built once per file object)
  const headers = new WeakMap<object, string[]>();
  const count = ctx.metrics.requests.labels({ route: 'get_current', method: 'GET', status: '200' });
  const latency = ctx.metrics.latency.labels({ route: 'get_current' });
  return (req, res) => {
    if (req.method !== 'GET') return false;
    const url = req.url;
    if (url === undefined || !url.endsWith('.json') || !url.startsWith('/v2/')) return false;
    const start = process.hrtime.bigint();
    let p = parsed.get(url);
    if (p === undefined) {
      const m = matchRoute('GET', url);
      if (m.route?.name !== 'get_current' || m.gunError !== undefined) return false;
      p = { gun: m.gun as string, role: m.params[0] as string };
      if (parsed.size >= 10_000) parsed.clear();
      parsed.set(url, p);
    }
    const now = Date.now();
    const hit = ctx.cache.peek(p.gun, p.role, now);
    if (hit === undefined || hit.file === null || hit.entry === null) return false;
    if ((p.role === 'timestamp' || p.role === 'snapshot') && h.needsResign(ctx, p.gun, hit.entry, now)) return false;
    const f = hit.file;
    let hdr = headers.get(f);
    if (hdr === undefined) {
      hdr = [
        'content-type',
        'text/plain; charset=utf-8',
        'last-modified',
        f.lastModified,
        'content-length',
        String(f.bytes.length),
        ...current,
      ];
      headers.set(f, hdr);
    }
    res.writeHead(200, hdr);
    res.end(f.bytes);
    count.inc();
    latency.observe(Number(process.hrtime.bigint() - start) / 1e9);
    return true;
  };
}
