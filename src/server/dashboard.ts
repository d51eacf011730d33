/**
 * The read-only dashboard (docs/dashboard.md): `GET /dashboard` (a static page), its assets, and a
 * JSON API under `/dashboard/api/` (repositories, repository, audit, rates) that the page's script
 * renders with DOM text nodes only. Every reply carries a strict Content-Security-Policy (scripts
 * and styles from this server only, no inline code) and is never cached. Behind the same auth as
 * the rest of the server (catalog scope, routes.ts).
 */
import type { MetaStore } from '../storage/index.js';
import { secondsLeft } from '../tuf/index.js';
import type { AuditReader } from './audit-recent.js';
import { readCurrentRole, resolveCurrent } from './current.js';
import { loadAsset } from './dashboard-assets.js';
import { HttpError } from './errors.js';
import type { ExpiryWatch, RoleExpiry } from './expiry.js';
import type { Reply } from './handlers.js';
import type { RateSeries } from './rates.js';
import type { RouteMatch } from './routes.js';

export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

export type ExpiryLevel = 'expired' | 'critical' | 'warning' | 'ok' | 'auto';

/** Within this many ms an expiry is "critical" (red-orange), before the warning window's amber. */
const CRITICAL_MS = 7 * 24 * 3600 * 1000;
const MAX_TAGS = 5000;
const VIEW_CACHE = 200;

export interface ExpiryView {
  role: string;
  kind: RoleExpiry['kind'];
  version: number;
  keyId?: string;
  heldBy: RoleExpiry['heldBy'];
  expires: string;
  secondsLeft: number;
  level: ExpiryLevel;
}

export interface SignerView {
  role: string;
  name: string;
  keyIds: string[];
  threshold: number;
  paths: string[];
}

export interface TagView {
  name: string;
  digest: string;
  size: number;
  signedBy: string[];
}

export interface RepositoryView {
  gun: string;
  rootKeyIds: string[];
  targetsKeyIds: string[];
  signers: SignerView[];
  tags: TagView[];
  tagsTruncated: boolean;
}

export interface DashboardDeps {
  store: MetaStore;
  watch: ExpiryWatch;
  rates: RateSeries;
  audit: AuditReader | undefined;
  now: () => Date;
  warnMs: number;
}

/** Colour class of an expiry: server-renewed roles are "auto" unless they are already past due. */
export function expiryLevel(i: RoleExpiry, now: Date, warnMs: number): ExpiryLevel {
  const left = i.expires.getTime() - now.getTime();
  if (i.heldBy === 'server' && left >= 0) return 'auto';
  if (left < 0) return 'expired';
  if (left < CRITICAL_MS) return 'critical';
  if (left < warnMs) return 'warning';
  return 'ok';
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function signedOf(bytes: Buffer | undefined): Obj | undefined {
  if (bytes === undefined) return undefined;
  try {
    return obj(obj(JSON.parse(bytes.toString('utf8')))?.signed);
  } catch {
    return undefined;
  }
}

/** Tags (targets of targets and every delegation), the signers (delegations) and key IDs of one repository. */
async function buildView(store: MetaStore, gun: string): Promise<{ sha: string; view: RepositoryView } | null> {
  const state = await resolveCurrent(store, gun);
  if (state === null) return null;
  const root = signedOf((await readCurrentRole(store, gun, state, 'root'))?.bytes);
  const roles = obj(root?.roles);
  const view: RepositoryView = {
    gun,
    rootKeyIds: strings(obj(roles?.root)?.keyids),
    targetsKeyIds: strings(obj(roles?.targets)?.keyids),
    signers: [],
    tags: [],
    tagsTruncated: false,
  };
  const tags = new Map<string, TagView>();
  const targetRoles = [...state.roleSha.keys()].filter((r) => r === 'targets' || r.startsWith('targets/')).sort();
  for (const role of targetRoles) {
    const signed = signedOf((await readCurrentRole(store, gun, state, role))?.bytes);
    for (const d of Array.isArray(obj(signed?.delegations)?.roles)
      ? (obj(signed?.delegations)?.roles as unknown[])
      : []) {
      const dr = obj(d);
      if (typeof dr?.name !== 'string') continue;
      view.signers.push({
        role: dr.name,
        name: dr.name.slice(dr.name.lastIndexOf('/') + 1),
        keyIds: strings(dr.keyids),
        threshold: typeof dr.threshold === 'number' ? dr.threshold : 1,
        paths: strings(dr.paths),
      });
    }
    for (const [name, fm] of Object.entries(obj(signed?.targets) ?? {})) {
      const sha = obj(obj(fm)?.hashes)?.sha256;
      const digest = typeof sha === 'string' ? `sha256:${Buffer.from(sha, 'base64').toString('hex')}` : '';
      const key = `${name}\n${digest}`;
      let t = tags.get(key);
      if (t === undefined) {
        if (tags.size >= MAX_TAGS) {
          view.tagsTruncated = true;
          continue;
        }
        const len = obj(fm)?.length;
        t = { name, digest, size: typeof len === 'number' ? len : 0, signedBy: [] };
        tags.set(key, t);
      }
      t.signedBy.push(role);
    }
  }
  view.tags = [...tags.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { sha: state.timestamp.sha256, view };
}

function json(body: unknown): Reply {
  return {
    status: 200,
    headers: { ...DASHBOARD_HEADERS, 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  };
}

export class Dashboard {
  readonly #deps: DashboardDeps;
  /** GUN → view of the timestamp it was built from (least recently built dropped first) */
  readonly #views = new Map<string, { sha: string; view: RepositoryView }>();

  constructor(deps: DashboardDeps) {
    this.#deps = deps;
  }

  #expiries(gun: string, now: Date): ExpiryView[] {
    return this.#deps.watch.itemsOf(gun).map((i) => ({
      role: i.role,
      kind: i.kind,
      version: i.version,
      ...(i.keyId !== undefined ? { keyId: i.keyId } : {}),
      heldBy: i.heldBy,
      expires: i.expires.toISOString(),
      secondsLeft: secondsLeft(i, now),
      level: expiryLevel(i, now, this.#deps.warnMs),
    }));
  }

  async page(): Promise<Reply> {
    const a = await loadAsset('index.html');
    return { status: 200, headers: { ...DASHBOARD_HEADERS, 'content-type': a.type }, body: a.bytes };
  }

  async asset(m: RouteMatch): Promise<Reply> {
    const a = await loadAsset(m.params[0] ?? '');
    return { status: 200, headers: { ...DASHBOARD_HEADERS, 'content-type': a.type }, body: a.bytes };
  }

  async api(m: RouteMatch): Promise<Reply> {
    const q = new URLSearchParams(m.query);
    const now = this.#deps.now();
    switch (m.params[0]) {
      case 'repositories': {
        await this.#deps.watch.current();
        const repositories = this.#deps.watch.guns().map((gun) => ({ gun, expiries: this.#expiries(gun, now) }));
        return json({ now: now.toISOString(), warnSeconds: Math.floor(this.#deps.warnMs / 1000), repositories });
      }
      case 'repository': {
        const gun = q.get('gun') ?? '';
        const built = await this.#view(gun);
        if (built === null) throw new HttpError('METADATA_NOT_FOUND', undefined, 'no such repository');
        return json({ ...built, now: now.toISOString(), expiries: this.#expiries(gun, now) });
      }
      case 'audit': {
        const limit = Math.min(500, Math.max(1, Number(q.get('limit') ?? 50) || 50));
        return json({
          available: this.#deps.audit !== undefined,
          entries: (await this.#deps.audit?.recent(limit)) ?? [],
        });
      }
      case 'rates':
        return json({ sampleSeconds: this.#deps.rates.sampleMs / 1000, points: this.#deps.rates.points() });
      default:
        throw new HttpError('METADATA_NOT_FOUND', undefined, 'no such dashboard API');
    }
  }

  async #view(gun: string): Promise<RepositoryView | null> {
    if (gun === '' || gun.length > 255) return null;
    const state = await resolveCurrent(this.#deps.store, gun);
    if (state === null) return null;
    const known = this.#views.get(gun);
    if (known !== undefined && known.sha === state.timestamp.sha256) return known.view;
    const built = await buildView(this.#deps.store, gun);
    if (built === null) return null;
    this.#views.delete(gun);
    this.#views.set(gun, built);
    if (this.#views.size > VIEW_CACHE) this.#views.delete(this.#views.keys().next().value as string);
    return built.view;
  }
}
