/**
 * The server's cached read paths: `makeFastPath` answers GETs of cached current metadata straight
 * from the Node request handler, and `watchChanges` keeps the caches true to changes other servers
 * announce. Kept apart from app.ts, which wires the Fastify routes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authorizer } from './auth/index.js';
import { acceptsGzip, gzipOf } from './encoding.js';
import * as h from './handlers.js';
import { matchRoute, routeGun } from './routes.js';

/**
 * Drops cached views of a GUN another server changed (PostgreSQL change notices), and never
 * serves a timestamp older than one announced; `resync` (notices lost) drops everything.
 */
export function watchChanges(ctx: h.HandlerContext): () => void {
  return ctx.store.onChange((c) => {
    if (c.kind === 'resync') {
      ctx.cache.clear();
      ctx.files.clear();
      return;
    }
    ctx.cache.changed(c.gun, c.version, c.deleted);
    if (c.deleted) {
      ctx.files.dropGun(c.gun);
      ctx.resignCooldown.delete(c.gun);
    }
  });
}

const PULL = ['pull'] as const;

/**
 * GET of current metadata already in the cache, answered from the raw Node handler: no Fastify
 * request objects, no parsing, no storage. Anything else (miss, stale, error) returns false and
 * takes the normal path.
 */
export function makeFastPath(
  ctx: h.HandlerContext,
  auth: Authorizer | undefined,
  blocked: (address: string) => boolean,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const current = Object.entries(ctx.cacheHeaders.current).flat();
  // raw URL → (gun, role) of a get_current match: skips the route regexes for repeated URLs
  const parsed = new Map<string, { gun: string; role: string }>();
  // flat header arrays per cached file (built once per file object)
  const headers = new WeakMap<object, string[]>();
  const gzHeaders = new WeakMap<object, string[]>();
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
      p = { gun: routeGun(m), role: m.params[0] as string };
      if (parsed.size >= 10_000) parsed.clear();
      parsed.set(url, p);
    }
    // under auth only an authorised request is answered here; any refusal takes the normal path
    if (
      auth !== undefined &&
      (blocked(req.socket.remoteAddress ?? '') || !auth.authorize(req.headers.authorization, p.gun, PULL).ok)
    )
      return false;
    // a shared database's timestamp is checked against storage first (handlers.ts catchUp)
    if (p.role === 'timestamp' && ctx.store.shared) return false;
    const now = Date.now();
    const hit = ctx.cache.peek(p.gun, p.role, now);
    if (hit === undefined) return false;
    if ((p.role === 'timestamp' || p.role === 'snapshot') && h.needsResign(ctx, p.gun, hit.entry, now)) return false;
    const f = hit.file;
    const z = acceptsGzip(req.headers['accept-encoding']) ? gzipOf(f) : null;
    const body = z ?? f.bytes;
    const memo = z === null ? headers : gzHeaders;
    let hdr = memo.get(f);
    if (hdr === undefined) {
      hdr = [
        'content-type',
        'text/plain; charset=utf-8',
        'last-modified',
        f.lastModified,
        'content-length',
        String(body.length),
        'vary',
        'Accept-Encoding',
        ...(z === null ? [] : ['content-encoding', 'gzip']),
        ...current,
      ];
      memo.set(f, hdr);
    }
    res.writeHead(200, hdr);
    res.end(body);
    count.inc();
    latency.observe(Number(process.hrtime.bigint() - start) / 1e9);
    return true;
  };
}
