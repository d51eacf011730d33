/**
 * The expiry watch: for every repository, when each current role (root, targets, delegations,
 * snapshot, timestamp) and each root certificate stops being valid. Feeds the expiry gauges of
 * /metrics, the webhook alerts (expiry-alerts.ts) and the dashboard.
 *
 * Cheap by construction: the repositories and their changes come from the changefeed (one row per
 * new timestamp, also those written by other servers on the same database), read from a cursor;
 * only a repository whose timestamp changed is resolved again, and a role file is parsed only when
 * its sha256 changed. A scrape reads the last result; a re-check runs at most once per
 * `refreshMs`, one at a time, and only the very first scrape waits for it.
 */
import { Gauge, type Registry } from 'prom-client';
import type { MetaStore } from '../storage/index.js';
import { expiriesOf, secondsLeft, type ExpiryItem } from '../tuf/index.js';
import { readCurrentRole, resolveCurrent } from './current.js';

/** `server`: the server re-signs it on read (timestamp, a snapshot whose key it holds); `client`: only its owner can. */
export type HeldBy = 'server' | 'client';

export interface RoleExpiry extends ExpiryItem {
  gun: string;
  heldBy: HeldBy;
}

interface RoleCache {
  sha256: string;
  items: ExpiryItem[];
}

interface GunState {
  /** hex sha256 of the timestamp the items were computed from ('' = not yet) */
  timestampSha: string;
  roles: Map<string, RoleCache>;
  snapshotHeldBy: HeldBy;
  items: RoleExpiry[];
}

const PAGE = 1000;

/** Whether the server's signer holds a snapshot key the root (its bytes) lists; omitted = look in the key table. */
export type SnapshotHeld = (gun: string, rootBytes: Buffer) => Promise<boolean>;

export class ExpiryWatch {
  readonly #store: MetaStore;
  readonly #refreshMs: number;
  readonly #now: () => Date;
  readonly #guns = new Map<string, GunState>();
  /** GUN → sha256 of its newest timestamp, as the changefeed says */
  readonly #latest = new Map<string, string>();
  #cursor = '';
  #lastStart = -Infinity;
  #inflight: Promise<void> | undefined;
  #ready = false;
  readonly #listeners: ((items: readonly RoleExpiry[]) => void)[] = [];
  readonly #snapshotHeld: SnapshotHeld | undefined;

  constructor(store: MetaStore, opts: { refreshMs: number; now: () => Date; snapshotHeld?: SnapshotHeld | undefined }) {
    this.#store = store;
    this.#snapshotHeld = opts.snapshotHeld;
    this.#refreshMs = opts.refreshMs;
    this.#now = opts.now;
  }

  /** Called with every item after each re-check (alerts). */
  onChecked(fn: (items: readonly RoleExpiry[]) => void): void {
    this.#listeners.push(fn);
  }

  /** Starts a re-check when due; waits only when no check has finished yet. */
  async current(): Promise<readonly RoleExpiry[]> {
    const t = this.#now().getTime();
    if (this.#inflight === undefined && t - this.#lastStart >= this.#refreshMs) {
      this.#lastStart = t;
      this.#inflight = this.#check().finally(() => (this.#inflight = undefined));
      this.#inflight.catch(() => undefined); // storage down: keep the last result
    }
    if (!this.#ready && this.#inflight !== undefined) await this.#inflight.catch(() => undefined);
    return this.items();
  }

  /** Resolves when the check in progress (if any) has finished. */
  async settled(): Promise<void> {
    await this.#inflight?.catch(() => undefined);
  }

  /** The last computed items of every repository. */
  items(): RoleExpiry[] {
    return [...this.#guns.values()].flatMap((g) => g.items);
  }

  /** The repositories the changefeed has shown, sorted. */
  guns(): string[] {
    return [...this.#guns.keys()].sort();
  }

  itemsOf(gun: string): RoleExpiry[] {
    return this.#guns.get(gun)?.items ?? [];
  }

  async #check(): Promise<void> {
    for (;;) {
      const rows = await this.#store.getChanges({ changeId: this.#cursor, records: PAGE });
      for (const r of rows) {
        if (r.category === 'deletion') this.#latest.delete(r.gun);
        else this.#latest.set(r.gun, r.sha256);
      }
      const last = rows[rows.length - 1];
      if (last !== undefined) this.#cursor = last.id;
      if (rows.length < PAGE) break;
    }
    for (const gun of this.#guns.keys()) if (!this.#latest.has(gun)) this.#guns.delete(gun);
    for (const [gun, sha] of this.#latest) {
      const g = this.#guns.get(gun);
      if (g !== undefined && g.timestampSha === sha) continue;
      await this.#resolve(gun, g);
    }
    this.#ready = true;
    const all = this.items();
    for (const fn of this.#listeners) fn(all);
  }

  async #resolve(gun: string, prev: GunState | undefined): Promise<void> {
    const state = await resolveCurrent(this.#store, gun);
    if (state === null) {
      this.#guns.delete(gun);
      return;
    }
    const g: GunState = prev ?? { timestampSha: '', roles: new Map(), snapshotHeldBy: 'client', items: [] };
    const files = new Map<string, { sha256: string; bytes: () => Promise<Buffer | undefined> }>();
    files.set('timestamp', { sha256: state.timestamp.sha256, bytes: async () => state.timestamp.bytes });
    if (state.snapshot !== null) {
      const sn = state.snapshot;
      files.set('snapshot', { sha256: sn.sha256, bytes: async () => sn.bytes });
    }
    for (const [role, sha256] of state.roleSha) {
      files.set(role, {
        sha256,
        bytes: async () => (await readCurrentRole(this.#store, gun, state, role))?.bytes,
      });
    }
    const roles = new Map<string, RoleCache>();
    for (const [role, f] of files) {
      const known = g.roles.get(role);
      if (known !== undefined && known.sha256 === f.sha256) {
        roles.set(role, known);
        continue;
      }
      const bytes = await f.bytes();
      roles.set(role, { sha256: f.sha256, items: bytes === undefined ? [] : expiriesOf(role, bytes) });
      if (role === 'root' && bytes !== undefined) g.snapshotHeldBy = await this.#snapshotHolder(gun, bytes);
    }
    g.roles = roles;
    g.timestampSha = state.timestamp.sha256;
    g.items = [...roles.entries()].flatMap(([role, rc]) =>
      rc.items.map((i) => ({
        ...i,
        gun,
        heldBy: role === 'timestamp' || (role === 'snapshot' && g.snapshotHeldBy === 'server') ? 'server' : 'client',
      })),
    );
    this.#guns.set(gun, g);
  }

  /** Whether a key the root lists for the snapshot is one of this server's (it then re-signs the snapshot). */
  async #snapshotHolder(gun: string, rootBytes: Buffer): Promise<HeldBy> {
    // a remote signer's keys are not in the key table: ask the signer
    if (this.#snapshotHeld !== undefined) {
      return this.#snapshotHeld(gun, rootBytes).then(
        (held) => (held ? 'server' : 'client'),
        () => 'client',
      );
    }
    try {
      const root = JSON.parse(rootBytes.toString('utf8')) as {
        signed?: { roles?: { snapshot?: { keyids?: unknown } } };
      };
      const ids = root.signed?.roles?.snapshot?.keyids;
      for (const id of Array.isArray(ids) ? ids : []) {
        if (typeof id !== 'string') continue;
        const row = await this.#store.keys.get(id);
        if (row !== null && row.gun === gun && row.role === 'snapshot') return 'server';
      }
    } catch {
      // unreadable root: nothing the server could sign for it
    }
    return 'client';
  }
}

/** The expiry gauges of /metrics, read from the watch at scrape time. */
export function registerExpiryMetrics(registry: Registry, watch: ExpiryWatch, now: () => Date): void {
  new Gauge({
    name: 'signet_metadata_expiry_seconds',
    help: 'Seconds until the current metadata of a role expires (negative: expired), by repository, role and who re-signs it',
    labelNames: ['gun', 'role', 'held_by'] as const,
    registers: [registry],
    async collect() {
      const items = await watch.current();
      const t = now();
      this.reset();
      for (const i of items)
        if (i.kind === 'metadata') this.set({ gun: i.gun, role: i.role, held_by: i.heldBy }, secondsLeft(i, t));
    },
  });
  new Gauge({
    name: 'signet_root_certificate_expiry_seconds',
    help: 'Seconds until a root certificate of a repository expires (negative: expired), by repository and key ID',
    labelNames: ['gun', 'key_id'] as const,
    registers: [registry],
    async collect() {
      const items = await watch.current();
      const t = now();
      this.reset();
      for (const i of items)
        if (i.kind === 'certificate') this.set({ gun: i.gun, key_id: i.keyId ?? '' }, secondsLeft(i, t));
    },
  });
}
