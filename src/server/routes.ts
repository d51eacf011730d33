/**
 * The one route table of the trust server (N:server/server.go, notary's `RootHandler`). Routes are tried
 * in order; the first match wins. `{gun}` may contain `/` (not `*`); `{role}` is
 * `root|targets(/…)*|snapshot|timestamp`. Each route names its metrics label, cache policy and
 * body limit. Anything unmatched is 404 METADATA_NOT_FOUND (route 13).
 */
import { SignetError, isSignetError } from '../errors.js';
import { parseGun, type Gun } from '../tuf/index.js';
import { normalisePath } from './gun.js';

export type RouteName =
  | 'ping'
  | 'publish'
  | 'get_by_checksum'
  | 'get_by_version'
  | 'get_current'
  | 'get_key'
  | 'rotate_key'
  | 'delete_gun'
  | 'changefeed_gun'
  | 'changefeed_all'
  | 'health'
  | 'metrics'
  | 'dashboard'
  | 'dashboard_asset'
  | 'dashboard_api'
  | 'not_found';

/** N:server/handlers/default.go: "current" = max-age 300 + must-revalidate; "consistent" = 30 days; set on 200 only. */
export type CachePolicy = 'current' | 'consistent' | 'none';

export interface RouteDef {
  name: RouteName;
  method: 'GET' | 'POST' | 'DELETE';
  pattern: RegExp;
  cache: CachePolicy;
  /** whether capture group 1 is a GUN (checked, 400 INVALID_GUN) */
  hasGun: boolean;
  /** request body allowed (bytes); 0 = any body is ignored and must be small */
  body: 'publish' | 'none';
  /**
   * Token actions required when auth is on (N:server/server.go table): on `repository:<gun>`, or, for a GUN-less
   * route, `registry:catalog:*`. null = public (health only: load balancers probe it).
   */
  actions: readonly ('pull' | 'push' | '*')[] | null;
}

/**
 * Routes that change state or create keys (`GET …/{role}.key` makes a key when none is unused):
 * refused to anonymous clients unless the operator allows anonymous writes (docs/server.md).
 */
export const WRITE_ROUTES: ReadonlySet<RouteName> = new Set(['publish', 'get_key', 'rotate_key', 'delete_gun']);

/** Actions required of a request that matched no route (notary's catch-all: `registry:catalog:*`). */
export const NOT_FOUND_ACTIONS: readonly '*'[] = ['*'];

const ROLE = 'root|targets(?:/[^/\\s]+)*|snapshot|timestamp';
// notary's GUN regex is [^*]+; we match any GUN and refuse bad ones (incl. '*') with 400 INVALID_GUN
const GUN = '([\\s\\S]+)';

export const ROUTES: readonly RouteDef[] = [
  { name: 'ping', method: 'GET', pattern: /^\/v2$/, cache: 'none', hasGun: false, body: 'none', actions: ['*'] },
  {
    name: 'publish',
    method: 'POST',
    pattern: new RegExp(`^/v2/${GUN}/_trust/tuf$`),
    cache: 'none',
    hasGun: true,
    body: 'publish',
    actions: ['push', 'pull'],
  },
  {
    name: 'get_by_checksum',
    method: 'GET',
    pattern: new RegExp(
      `^/v2/${GUN}/_trust/tuf/(${ROLE})\\.([0-9a-fA-F]{64}|[0-9a-fA-F]{96}|[0-9a-fA-F]{128})\\.json$`,
    ),
    cache: 'consistent',
    hasGun: true,
    body: 'none',
    actions: ['pull'],
  },
  {
    name: 'get_by_version',
    method: 'GET',
    pattern: new RegExp(`^/v2/${GUN}/_trust/tuf/([1-9]*[0-9]+)\\.(${ROLE})\\.json$`),
    cache: 'consistent',
    hasGun: true,
    body: 'none',
    actions: ['pull'],
  },
  {
    name: 'get_current',
    method: 'GET',
    pattern: new RegExp(`^/v2/${GUN}/_trust/tuf/(${ROLE})\\.json$`),
    cache: 'current',
    hasGun: true,
    body: 'none',
    actions: ['pull'],
  },
  {
    name: 'get_key',
    method: 'GET',
    pattern: new RegExp(`^/v2/${GUN}/_trust/tuf/(snapshot|timestamp)\\.key$`),
    cache: 'none',
    hasGun: true,
    body: 'none',
    actions: ['push', 'pull'],
  },
  {
    name: 'rotate_key',
    method: 'POST',
    pattern: new RegExp(`^/v2/${GUN}/_trust/tuf/(snapshot|timestamp)\\.key$`),
    cache: 'none',
    hasGun: true,
    body: 'none',
    actions: ['*'],
  },
  {
    name: 'delete_gun',
    method: 'DELETE',
    pattern: new RegExp(`^/v2/${GUN}/_trust/tuf$`),
    cache: 'none',
    hasGun: true,
    body: 'none',
    actions: ['*'],
  },
  {
    name: 'changefeed_gun',
    method: 'GET',
    pattern: new RegExp(`^/v2/${GUN}/_trust/changefeed$`),
    cache: 'none',
    hasGun: true,
    body: 'none',
    actions: ['pull'],
  },
  {
    name: 'changefeed_all',
    method: 'GET',
    pattern: /^\/v2\/_trust\/changefeed$/,
    cache: 'none',
    hasGun: false,
    body: 'none',
    actions: ['*'],
  },
  {
    name: 'health',
    method: 'GET',
    pattern: /^\/_notary_server\/health$/,
    cache: 'none',
    hasGun: false,
    body: 'none',
    actions: null,
  },
  // the operator's view (repository count, process and Node version): catalog scope, like the
  // changefeed of all GUNs; `--metrics-listen` moves it to a listener of its own instead
  {
    name: 'metrics',
    method: 'GET',
    pattern: /^\/metrics$/,
    cache: 'none',
    hasGun: false,
    body: 'none',
    actions: ['*'],
  },
  // the read-only dashboard (dashboard.ts): every repository at once, so catalog scope like /metrics
  {
    name: 'dashboard',
    method: 'GET',
    pattern: /^\/dashboard$/,
    cache: 'none',
    hasGun: false,
    body: 'none',
    actions: ['*'],
  },
  {
    name: 'dashboard_asset',
    method: 'GET',
    pattern: /^\/dashboard\/assets\/([A-Za-z0-9._-]+)$/,
    cache: 'none',
    hasGun: false,
    body: 'none',
    actions: ['*'],
  },
  {
    name: 'dashboard_api',
    method: 'GET',
    pattern: /^\/dashboard\/api\/([a-z]+)$/,
    cache: 'none',
    hasGun: false,
    body: 'none',
    actions: ['*'],
  },
];

export interface RouteMatch {
  route: RouteDef | null; // null = not found (route 13)
  /** regex groups after the GUN */
  params: string[];
  /** the GUN of a GUN route, when `parseGun` accepted it */
  gun: Gun | undefined;
  /** set when the GUN was refused (why) */
  gunError: string | undefined;
  path: string;
  query: string;
}

const NOT_FOUND: Omit<RouteMatch, 'path' | 'query'> = { route: null, params: [], gun: undefined, gunError: undefined };

/** Matches method + raw URL (path and query) against the table, after cleaning the path. */
export function matchRoute(method: string, url: string): RouteMatch {
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q + 1);
  const path = normalisePath(rawPath);
  if (path === null) return { ...NOT_FOUND, path: rawPath, query, gunError: 'path is not valid percent-encoding' };
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const m = route.pattern.exec(path);
    if (m === null) continue;
    const groups = m.slice(1).map((g) => g ?? '');
    if (!route.hasGun) return { route, params: groups, gun: undefined, gunError: undefined, path, query };
    const params = groups.slice(1);
    try {
      return { route, params, gun: parseGun(groups[0] ?? '', { url: true }), gunError: undefined, path, query };
    } catch (err) {
      if (!isSignetError(err, 'INVALID_GUN')) throw err;
      const gunError = String(err.details?.['reason'] ?? err.message);
      return { route, params, gun: undefined, gunError, path, query };
    }
  }
  return { ...NOT_FOUND, path, query };
}

/** The GUN of a matched GUN route; a refused GUN is answered (400 INVALID_GUN) before any handler runs. */
export function routeGun(m: RouteMatch): Gun {
  if (m.gun === undefined) throw new SignetError('INTERNAL', `route ${m.route?.name ?? 'not found'} has no valid GUN`);
  return m.gun;
}

export interface CacheHeaders {
  current: Record<string, string>;
  consistent: Record<string, string>;
}

/** N:server/handlers/default.go headers for a max-age in seconds (0 = no caching at all). */
export function cacheHeaders(maxAgeCurrent: number, maxAgeConsistent: number): CacheHeaders {
  const mk = (s: number, revalidate: boolean): Record<string, string> =>
    s === 0
      ? { 'cache-control': 'max-age=0, no-cache, no-store', pragma: 'no-cache' }
      : { 'cache-control': `public, max-age=${s}, s-maxage=${s}${revalidate ? ', must-revalidate' : ''}` };
  return { current: mk(maxAgeCurrent, true), consistent: mk(maxAgeConsistent, false) };
}
