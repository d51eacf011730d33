/**
 * Route handlers, transport-agnostic: each takes the matched route and returns status, headers and
 * body (the Fastify adapter and the fast GET path both send them). Thin: storage, validation and
 * signing live in their own modules.
 */
import type { Readable } from 'node:stream';
import type { MetaStore } from '../storage/index.js';
import type { ServerKeyRole, ServerSigner } from '../signer/index.js';
import { isValidRoleName, parseRoot, type ParsedJson, type PublicKey } from '../tuf/index.js';
import { isSignetError } from '../errors.js';
import { lastModified, toCached, type CachedFile, type CurrentState, type RepoCache } from './current.js';
import { encodedBody } from './encoding.js';
import { auditFields, type AuditActor } from './audit.js';
import { HttpError } from './errors.js';
import { FileCache } from './file-cache.js';
import type { ServerMetrics } from './metrics.js';
import { readUpload } from './multipart.js';
import type { ServerOptions } from './options.js';
import { publish, refreshTimestamp } from './publish.js';
import { routeGun, type CacheHeaders, type RouteMatch } from './routes.js';

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

export interface Logger {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
  error(o: object, msg?: string): void;
}

export interface HandlerContext {
  store: MetaStore;
  signer: ServerSigner;
  now: () => Date;
  opts: ServerOptions;
  cache: RepoCache;
  files: FileCache;
  metrics: ServerMetrics;
  cacheHeaders: CacheHeaders;
  log: Logger;
  /** GUN → time (ms) before which no re-sign is attempted again */
  resignCooldown: Map<string, number>;
  /** GUN → re-sign in progress */
  resigning: Map<string, Promise<void>>;
}

const TEXT = 'text/plain; charset=utf-8';
const NOT_FOUND_DETAIL = {};

/** Request headers a handler reads (Fastify's and Node's request both have them). */
export interface RequestHeaders {
  headers: Record<string, string | string[] | undefined>;
}

export function metadataReply(file: CachedFile, cache: Record<string, string>, req?: RequestHeaders): Reply {
  const e = encodedBody(file, req?.headers['accept-encoding']);
  return {
    status: 200,
    headers: { 'content-type': TEXT, 'last-modified': file.lastModified, ...cache, ...e.headers },
    body: e.body,
  };
}

/** Whether a cached current timestamp/snapshot must be re-signed before it is served. */
export function needsResign(ctx: HandlerContext, gun: string, state: CurrentState, nowMs: number): boolean {
  if (state.timestampExpires - nowMs >= ctx.opts.resignWindowMs && state.snapshotExpires >= nowMs) return false;
  return (ctx.resignCooldown.get(gun) ?? 0) <= nowMs;
}

async function resign(ctx: HandlerContext, gun: string): Promise<void> {
  let p = ctx.resigning.get(gun);
  if (p === undefined) {
    p = (async () => {
      try {
        const used = await refreshTimestamp(ctx, gun, ctx.opts.resignWindowMs);
        if (used === null) {
          // nothing to do (no key, or another server re-signed first): re-read, and do not retry for a while
          ctx.resignCooldown.set(gun, Date.now() + ctx.opts.resignCooldownMs);
          ctx.cache.invalidate(gun);
          return;
        }
        ctx.cache.invalidate(gun);
        ctx.metrics.resigns.inc({ role: 'timestamp' });
        ctx.log.info({ gun }, 're-signed expiring timestamp');
        await ctx.signer.markUsed(used, ctx.now()).catch(() => undefined);
      } catch (err) {
        ctx.resignCooldown.set(gun, Date.now() + ctx.opts.resignCooldownMs);
        ctx.log.warn(
          { gun, err: (err as Error)?.message },
          'could not re-sign expiring timestamp; serving the stored one',
        );
      }
    })().finally(() => ctx.resigning.delete(gun));
    ctx.resigning.set(gun, p);
  }
  return p;
}

/**
 * With a database other servers write, a change notice can arrive after a client that published
 * through another server already asks here. Every update starts at timestamp.json, so its GET
 * compares the cached version with the stored one (one indexed row) and drops a view that is
 * behind: a publish acknowledged anywhere is served everywhere at once, as notary-server (which
 * caches nothing) does.
 */
async function catchUp(ctx: HandlerContext, gun: string): Promise<void> {
  const cached = ctx.cache.peek(gun, 'timestamp', Date.now());
  if (cached === undefined) return;
  const stored = await ctx.store.getLatest(gun, 'timestamp');
  if (stored === null) ctx.cache.changed(gun, 0, true);
  else if (stored.version > cached.file.version) ctx.cache.changed(gun, stored.version, false);
}

export async function getCurrent(ctx: HandlerContext, m: RouteMatch, req?: RequestHeaders): Promise<Reply> {
  const gun = routeGun(m);
  const role = m.params[0] as string;
  if (!isValidRoleName(role)) throw new HttpError('METADATA_NOT_FOUND', NOT_FOUND_DETAIL);
  if (role === 'timestamp' && ctx.store.shared) await catchUp(ctx, gun);
  if (role === 'timestamp' || role === 'snapshot') {
    const state = await ctx.cache.state(gun);
    if (state !== null && needsResign(ctx, gun, state, ctx.now().getTime())) await resign(ctx, gun);
  }
  const file = await ctx.cache.current(gun, role);
  if (file === null) throw new HttpError('METADATA_NOT_FOUND', NOT_FOUND_DETAIL);
  return metadataReply(file, ctx.cacheHeaders.current, req);
}

export async function getByChecksum(ctx: HandlerContext, m: RouteMatch, req?: RequestHeaders): Promise<Reply> {
  const gun = routeGun(m);
  const [role, checksum] = m.params as [string, string];
  // Only sha256 is stored; notary compares lowercase hex case-sensitively (N:server/server.go)
  if (checksum.length !== 64 || /[A-F]/.test(checksum) || !isValidRoleName(role))
    throw new HttpError('METADATA_NOT_FOUND', NOT_FOUND_DETAIL);
  const key = FileCache.key(gun, 'sha', role, checksum);
  const now = Date.now();
  let file = ctx.files.get(key, now);
  if (file === undefined) {
    const row = await ctx.store.getByChecksum(gun, role, checksum);
    if (row === null) throw new HttpError('METADATA_NOT_FOUND', NOT_FOUND_DETAIL);
    file = toCached(row);
    ctx.files.set(key, file, now);
  }
  return metadataReply(file, ctx.cacheHeaders.consistent, req);
}

export async function getByVersion(ctx: HandlerContext, m: RouteMatch, req?: RequestHeaders): Promise<Reply> {
  const gun = routeGun(m);
  const [v, role] = m.params as [string, string];
  const version = Number(v);
  if (!Number.isSafeInteger(version) || version > 2 ** 31 - 1 || !isValidRoleName(role))
    throw new HttpError('METADATA_NOT_FOUND', NOT_FOUND_DETAIL);
  const key = FileCache.key(gun, 'ver', role, String(version));
  const now = Date.now();
  let file = ctx.files.get(key, now);
  if (file === undefined) {
    const row = await ctx.store.getByVersion(gun, role, version);
    if (row === null) throw new HttpError('METADATA_NOT_FOUND', NOT_FOUND_DETAIL);
    file = toCached(row);
    ctx.files.set(key, file, now);
  }
  return metadataReply(file, ctx.cacheHeaders.consistent, req);
}

/** Go encoding/json of notary's PublicKey struct: keytype, then keyval {public, private}. */
export function keyBody(pk: PublicKey): string {
  return JSON.stringify({ keytype: pk.keytype, keyval: { public: pk.public, private: null } });
}

async function currentRoot(ctx: HandlerContext, gun: string) {
  const f = await ctx.cache.current(gun, 'root');
  if (f === null) return undefined;
  try {
    return parseRoot(f.bytes).signed;
  } catch {
    return undefined;
  }
}

export async function getKey(ctx: HandlerContext, m: RouteMatch, actor: AuditActor): Promise<Reply> {
  const gun = routeGun(m);
  const role = m.params[0] as ServerKeyRole;
  const pk = await ctx.signer.getOrCreateKey(
    gun,
    role,
    await currentRoot(ctx, gun),
    auditFields(actor, 'create_key', { status: 200 }),
  );
  return { status: 200, headers: { 'content-type': TEXT }, body: keyBody(pk) };
}

export async function rotateKey(ctx: HandlerContext, m: RouteMatch, actor: AuditActor): Promise<Reply> {
  const gun = routeGun(m);
  const role = m.params[0] as ServerKeyRole;
  const pk = await ctx.signer.rotateKey(gun, role, auditFields(actor, 'rotate_key', { status: 200 }));
  ctx.log.info({ gun, role, keyId: pk.id }, 'created a new server key (pending until a root lists it)');
  return { status: 200, headers: { 'content-type': TEXT }, body: keyBody(pk) };
}

export async function deleteGun(ctx: HandlerContext, m: RouteMatch, actor: AuditActor): Promise<Reply> {
  const gun = routeGun(m);
  try {
    const deleted = await ctx.store.deleteGun(gun, auditFields(actor, 'delete', { status: 200 }));
    if (deleted) ctx.log.info({ gun }, 'deleted all trust data of the GUN');
  } finally {
    ctx.cache.changed(gun, 0, true);
    ctx.files.dropGun(gun);
    ctx.resignCooldown.delete(gun);
  }
  return { status: 200, headers: {}, body: '' };
}

export async function publishHandler(
  ctx: HandlerContext,
  m: RouteMatch,
  req: { stream: Readable; headers: Record<string, string | string[] | undefined> },
  actor: AuditActor,
): Promise<Reply> {
  const gun = routeGun(m);
  let outcome = 'rejected';
  try {
    const parsed = new Map<string, ParsedJson>();
    const uploaded = await readUpload(
      req.stream,
      req.headers,
      {
        bodyLimit: ctx.opts.bodyLimit,
        roleLimit: ctx.opts.roleSizeLimit,
        maxParts: ctx.opts.maxParts,
      },
      parsed,
    );
    const root = await ctx.cache.current(gun, 'root');
    let result;
    try {
      const audit = auditFields(actor, 'publish', { status: 200 });
      result = await publish(ctx, gun, uploaded, root?.bytes, audit, parsed);
    } finally {
      ctx.cache.invalidate(gun);
    }
    const ts = result.stored.find((x) => x.role === 'timestamp');
    if (ts !== undefined) ctx.cache.changed(gun, ts.version, false);
    outcome = 'ok';
    ctx.log.info({ gun, stored: result.stored }, 'published');
    await ctx.signer
      .markUsed(result.usedKeys, ctx.now())
      .catch((err: unknown) => ctx.log.warn({ err: (err as Error)?.message }, 'markUsed failed'));
    return { status: 200, headers: {}, body: '' };
  } catch (err) {
    if (isSignetError(err, 'CONFLICT')) outcome = 'conflict';
    if (isSignetError(err, 'STORAGE')) throw new HttpError('UPDATING', undefined, err.message);
    throw err;
  } finally {
    ctx.metrics.publishes.inc({ outcome });
  }
}

function int32(s: string): number | undefined {
  if (!/^-?\d{1,10}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= -(2 ** 31) && n <= 2 ** 31 - 1 ? n : undefined;
}

export async function changefeed(ctx: HandlerContext, m: RouteMatch): Promise<Reply> {
  const q = new URLSearchParams(m.query);
  const recordsRaw = q.get('records') ?? '';
  const records = int32(recordsRaw);
  if (records === undefined)
    throw new HttpError('INVALID_PARAMETERS', `invalid records parameter: ${recordsRaw.slice(0, 50)}`);
  const changeId = q.get('change_id') ?? '';
  if (changeId !== '' && !/^-?\d{1,19}$/.test(changeId)) {
    throw new HttpError('INVALID_PARAMETERS', `did not recognize parameters: change_id=${changeId.slice(0, 50)}`);
  }
  let rows;
  try {
    rows = await ctx.store.getChanges({ changeId, records, ...(m.gun !== undefined ? { gun: m.gun } : {}) });
  } catch (err) {
    if (isSignetError(err, 'USAGE'))
      throw new HttpError('INVALID_PARAMETERS', `did not recognize parameters: change_id=${changeId.slice(0, 50)}`);
    throw err;
  }
  const body = JSON.stringify({
    count: rows.length,
    records: rows.map((r) => ({
      ID: r.id,
      CreatedAt: r.createdAt,
      GUN: r.gun,
      Version: r.version,
      SHA256: r.sha256,
      Category: r.category,
    })),
  });
  return { status: 200, headers: { 'content-type': TEXT }, body };
}

/**
 * notary's health body: `{}` or `{"<check>": "<problem>"}` (N:server/server.go health handler).
 * The body names the dependency that failed, never the database's own error text (it can name
 * internal hosts and addresses); that goes to the server log. A remote signer is named by the
 * address the operator configured (`remote HOST:PORT`).
 */
export async function health(ctx: HandlerContext): Promise<Reply> {
  const problems: Record<string, string> = {};
  try {
    await ctx.store.ping();
  } catch (err) {
    ctx.log.warn({ err: (err as Error)?.message }, 'health check: database unavailable');
    problems['DB operational'] = 'database unavailable';
  }
  // a remote signer is checked as notary-server checks notary-signer ("Trust operational", N:cmd/notary-server/config.go)
  if (ctx.signer.checkHealth !== undefined) {
    try {
      await ctx.signer.checkHealth();
    } catch (err) {
      ctx.log.warn({ err: (err as Error)?.message }, 'health check: signer unavailable');
      problems['Trust operational'] = `${ctx.signer.name ?? 'the signer'} is unavailable`;
    }
  }
  const ok = Object.keys(problems).length === 0;
  return {
    status: ok ? 200 : 503,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(ok ? {} : problems),
  };
}

export async function metrics(ctx: HandlerContext): Promise<Reply> {
  return {
    status: 200,
    headers: { 'content-type': ctx.metrics.registry.contentType },
    body: await ctx.metrics.registry.metrics(),
  };
}

export { lastModified };
