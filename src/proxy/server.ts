/**
 * `signet proxy`: an OCI distribution proxy in front of one upstream registry. Manifest reads are
 * enforced (manifests.ts); everything else streams through (passthrough.ts); writes are refused unless
 * pushes are allowed. Also `/metrics` (Prometheus text), `/healthz` (alive) and `/readyz` (the upstream
 * answers /v2/).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Enforcer } from '../enforce/index.js';
import { parseListen } from '../listen.js';
import { ManifestCache } from './manifest-cache.js';
import { handleManifest, type ManifestContext } from './manifests.js';
import { parseRoute, sendError } from './oci.js';
import type { Observer } from './observe.js';
import { passBlob, passThrough } from './passthrough.js';
import { Upstream } from './upstream.js';

export interface ProxyLimits {
  /** open client connections; further ones are refused by the kernel backlog (Node closes them) */
  maxConnections: number;
  /** request line + headers, bytes (431 beyond) */
  maxHeaderBytes: number;
  /** time to receive a request's headers, ms */
  headersTimeoutMs: number;
  /** idle keep-alive connection, ms */
  keepAliveTimeoutMs: number;
  /** upstream connect, response headers and idle body, ms */
  upstreamTimeoutMs: number;
  /** keep-alive connections to the upstream */
  upstreamConnections: number;
  /** how long verified manifest bytes are reused for the same access (manifest-cache.ts); 0 = never */
  manifestCacheMs: number;
  manifestCacheEntries: number;
}

export const DEFAULT_LIMITS: ProxyLimits = {
  maxConnections: 1024,
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 30_000,
  keepAliveTimeoutMs: 65_000,
  upstreamTimeoutMs: 30_000,
  upstreamConnections: 64,
  manifestCacheMs: 30_000,
  manifestCacheEntries: 1000,
};

export interface ProxyOptions {
  upstream: string;
  upstreamCa?: Buffer;
  /** registry host in the GUNs; default: the upstream's host[:port], docker.io for Docker Hub */
  registryName?: string;
  enforcer: Enforcer;
  observer: Observer;
  reportOnly: boolean;
  allowPush: boolean;
  limits?: Partial<ProxyLimits>;
}

export interface ProxyHandler {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** the upstream answered GET /v2/ (any status below 500) */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

/** The registry host a GUN names for this upstream: Docker Hub's API host is docker.io in GUNs. */
export function defaultRegistryName(upstream: string): string {
  const host = new URL(upstream).host;
  return host === 'registry-1.docker.io' || host === 'index.docker.io' ? 'docker.io' : host;
}

export function createProxyHandler(opts: ProxyOptions): ProxyHandler {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const upstream = new Upstream({
    url: opts.upstream,
    ...(opts.upstreamCa !== undefined ? { ca: opts.upstreamCa } : {}),
    timeoutMs: limits.upstreamTimeoutMs,
    connections: limits.upstreamConnections,
  });
  const ctx: ManifestContext = {
    enforcer: opts.enforcer,
    upstream,
    observer: opts.observer,
    registryName: opts.registryName ?? defaultRegistryName(opts.upstream),
    reportOnly: opts.reportOnly,
    cache: new ManifestCache(limits.manifestCacheMs, limits.manifestCacheEntries),
  };
  const { observer } = opts;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<[string, number]> {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const read = method === 'GET' || method === 'HEAD';
    if (path === '/metrics' && read) {
      const body = await observer.metrics.metrics();
      res.writeHead(200, { 'content-type': observer.metrics.contentType });
      res.end(method === 'HEAD' ? undefined : body);
      return ['metrics', 200];
    }
    if ((path === '/healthz' || path === '/readyz') && read) {
      const ok = path === '/healthz' || (await handler.ready());
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(method === 'HEAD' ? undefined : JSON.stringify({ ready: ok }));
      return ['health', ok ? 200 : 503];
    }
    // docker-registry 2.8 routes on the percent-decoded path (Go's net/http), so an encoded path such as
    // /v2/x/manifest%73/t would reach its manifest handler while passing ours as "other". Valid names,
    // tags and digests never need encoding: refuse any.
    const r = path.includes('%') ? undefined : parseRoute(path);
    if (r === undefined) {
      sendError(res, 404, 'NAME_INVALID', `invalid repository name or reference in ${path}`, method === 'HEAD');
      return ['invalid', 404];
    }
    if (!read) {
      if (!opts.allowPush || r.kind === 'other' || r.kind === 'base') {
        const what = 'name' in r ? ` to ${ctx.registryName}/${r.name}` : '';
        sendError(
          res,
          403,
          'DENIED',
          `signet: ${method}${what} refused: this proxy serves pulls only (start it with --allow-push to pass pushes through)`,
          false,
        );
        return ['push', 403];
      }
      return ['push', await passThrough(upstream, req, res)];
    }
    switch (r.kind) {
      case 'manifest':
        return ['manifest', await handleManifest(ctx, req, res, r.name, r.reference, r.byDigest)];
      case 'blob':
        return ['blob', await passBlob(upstream, req, res, r.digest)];
      case 'other':
        if (!path.startsWith('/v2/')) {
          sendError(res, 404, 'NOT_FOUND', `no such endpoint: ${path}`, method === 'HEAD');
          return ['other', 404];
        }
        return ['other', await passThrough(upstream, req, res)];
      default:
        return [r.kind, await passThrough(upstream, req, res)];
    }
  }

  let readyAt = 0;
  const handler: ProxyHandler = {
    handle(req, res) {
      route(req, res).then(
        ([kind, status]) => observer.request(kind, req.method ?? 'GET', status),
        (e: unknown) => {
          observer.event('error', {
            method: req.method,
            path: req.url?.split('?')[0],
            message: e instanceof Error ? e.message : String(e),
          });
          observer.request('error', req.method ?? 'GET', 502);
          if (res.headersSent) res.destroy();
          else
            sendError(
              res,
              502,
              'UNAVAILABLE',
              `signet proxy: upstream ${upstream.origin} failed: ${e instanceof Error ? e.message : String(e)}`,
              req.method === 'HEAD',
            );
        },
      );
    },
    async ready() {
      if (Date.now() - readyAt < 2_000) return true;
      try {
        const r = await upstream.request('GET', '/v2/', {});
        r.body.resume();
        if (r.status < 500) readyAt = Date.now();
        return r.status < 500;
      } catch {
        return false;
      }
    },
    close: () => upstream.close(),
  };
  return handler;
}

export interface RunningProxy {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Listen on `listen` (host:port); TLS when `tls` is given, else plain HTTP. */
export async function startProxy(
  opts: ProxyOptions & { listen: string; tls?: { cert: Buffer; key: Buffer } },
): Promise<RunningProxy> {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const handler = createProxyHandler(opts);
  const serverOpts = {
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: 0,
  };
  const server = opts.tls
    ? https.createServer({ ...serverOpts, cert: opts.tls.cert, key: opts.tls.key }, handler.handle)
    : http.createServer(serverOpts, handler.handle);
  server.maxConnections = limits.maxConnections;
  const { host, port } = parseListen(opts.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `${opts.tls ? 'https' : 'http'}://${shown}:${addr.port}`,
    port: addr.port,
    async close() {
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await handler.close();
    },
  };
}
