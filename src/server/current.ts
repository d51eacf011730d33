/**
 * "Current" metadata as notary's SQL backends define it (N:server/storage/sqldb.go): the newest
 * timestamp; the snapshot whose sha256 that timestamp lists; every other role = the row whose
 * sha256 the snapshot lists. A role the snapshot does not list is not found (notary: 500; us: 404).
 *
 * `RepoCache` keeps, per GUN, the current timestamp/snapshot with their expiry (parsed once) and
 * the current bytes of each role asked for, so the GET path does no parsing and no database work.
 * Only what exists is cached, never "not found". Entries are dropped by this process's writes and,
 * with a shared PostgreSQL database, by the change notices of the other servers (`changed`);
 * `ttlMs` bounds an entry's life as the fallback. Timestamps never go backwards per GUN.
 */
import { SignetError } from '../errors.js';
import type { MetaReader, StoredMeta } from '../storage/index.js';

export interface CachedFile {
  role: string;
  version: number;
  sha256: string;
  bytes: Buffer;
  /** Go RFC1123 with the zone name "UTC", as notary sends it */
  lastModified: string;
}

export interface CurrentState {
  timestamp: CachedFile;
  timestampExpires: number;
  snapshot: CachedFile | null;
  snapshotExpires: number;
  /** role → lowercase hex sha256, from the current snapshot's meta */
  roleSha: Map<string, string>;
}

export function lastModified(d: Date): string {
  return d.toUTCString().replace(/GMT$/, 'UTC');
}

export function toCached(m: StoredMeta): CachedFile {
  return { role: m.role, version: m.version, sha256: m.sha256, bytes: m.data, lastModified: lastModified(m.createdAt) };
}

function b64ToHex(s: unknown): string | undefined {
  if (typeof s !== 'string') return undefined;
  const b = Buffer.from(s, 'base64');
  return b.length === 32 ? b.toString('hex') : undefined;
}

function expiresOf(signed: Record<string, unknown> | undefined): number {
  const t = typeof signed?.expires === 'string' ? Date.parse(signed.expires) : NaN;
  return Number.isNaN(t) ? 0 : t;
}

type Obj = Record<string, unknown>;
function obj(v: unknown): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

/** Resolves timestamp → snapshot → role hashes through any reader (the store or a transaction). */
export async function resolveCurrent(reader: MetaReader, gun: string): Promise<CurrentState | null> {
  const ts = await reader.getLatest(gun, 'timestamp');
  if (ts === null) return null;
  let tsSigned: Obj | undefined;
  try {
    tsSigned = obj(obj(JSON.parse(ts.data.toString('utf8')))?.signed);
  } catch {
    tsSigned = undefined;
  }
  const snHex = b64ToHex(obj(obj(obj(tsSigned?.meta)?.snapshot)?.hashes)?.sha256);
  const sn = snHex === undefined ? null : await reader.getByChecksum(gun, 'snapshot', snHex);
  const roleSha = new Map<string, string>();
  let snExpires = 0;
  if (sn !== null) {
    try {
      const snSigned = obj(obj(JSON.parse(sn.data.toString('utf8')))?.signed);
      snExpires = expiresOf(snSigned);
      for (const [role, fm] of Object.entries(obj(snSigned?.meta) ?? {})) {
        const hex = b64ToHex(obj(obj(fm)?.hashes)?.sha256);
        if (hex !== undefined) roleSha.set(role, hex);
      }
    } catch {
      // unparsable snapshot: nothing below it is reachable
    }
  }
  return {
    timestamp: toCached(ts),
    timestampExpires: expiresOf(tsSigned),
    snapshot: sn === null ? null : toCached(sn),
    snapshotExpires: snExpires,
    roleSha,
  };
}

/** The current bytes of `role` given a resolved state (root, targets, delegations, snapshot, timestamp). */
export async function readCurrentRole(
  reader: MetaReader,
  gun: string,
  state: CurrentState,
  role: string,
): Promise<CachedFile | null> {
  if (role === 'timestamp') return state.timestamp;
  if (role === 'snapshot') return state.snapshot;
  const sha = state.roleSha.get(role);
  if (sha === undefined) return null;
  const m = await reader.getByChecksum(gun, role, sha);
  return m === null ? null : toCached(m);
}

interface GunEntry {
  state: CurrentState;
  /** current files asked for; only files that exist (a "not found" is never cached) */
  files: Map<string, CachedFile>;
  loadedAt: number;
  /** bumped by invalidate(): a load that started before a write must not be cached */
  epoch: number;
  /** bytes of the files held (for the cache's memory budget) */
  bytes: number;
}

export interface RepoCacheOptions {
  /** 0 = entries live until this process writes the GUN or hears of a change (PostgreSQL notices) */
  ttlMs: number;
  maxGuns: number;
  /** memory budget for cached file bytes (least recently loaded GUNs are dropped first) */
  maxBytes: number;
}

/** Re-reads of a GUN whose stored timestamp is below one already seen, before giving up. */
const BEHIND_RETRIES = 5;
const BEHIND_WAIT_MS = 20;

export class RepoCache {
  readonly #reader: MetaReader;
  readonly #opts: RepoCacheOptions;
  readonly #entries = new Map<string, GunEntry>();
  readonly #epochs = new Map<string, number>();
  readonly #loading = new Map<string, Promise<GunEntry | null>>();
  /**
   * Per GUN, the highest timestamp version this process has served, stored, or heard of from
   * another server: a read that finds less is not served (monotonic reads across servers).
   * Reset by a deletion.
   */
  readonly #floor = new Map<string, number>();
  #bytes = 0;

  constructor(reader: MetaReader, opts: RepoCacheOptions) {
    this.#reader = reader;
    this.#opts = opts;
  }

  #fresh(e: GunEntry | undefined, now: number): e is GunEntry {
    return e !== undefined && (this.#opts.ttlMs <= 0 || now - e.loadedAt < this.#opts.ttlMs);
  }

  /** Synchronous lookup for the fast GET path: a cached current file, or undefined if not cached. */
  peek(gun: string, role: string, now: number): { entry: CurrentState; file: CachedFile } | undefined {
    const e = this.#entries.get(gun);
    if (!this.#fresh(e, now)) return undefined;
    const f = e.files.get(role);
    if (f === undefined) return undefined;
    return { entry: e.state, file: f };
  }

  #raise(gun: string, version: number): void {
    if (version > (this.#floor.get(gun) ?? -1)) {
      if (this.#floor.size >= 4 * this.#opts.maxGuns) this.#floor.clear();
      this.#floor.set(gun, version);
    }
  }

  /** The current state from storage, re-read while it is behind the floor (another server's commit not yet visible). */
  async #read(gun: string): Promise<CurrentState | null> {
    for (let attempt = 0; ; attempt++) {
      const state = await resolveCurrent(this.#reader, gun);
      const floor = this.#floor.get(gun);
      if (state === null || floor === undefined || state.timestamp.version >= floor) return state;
      if (attempt >= BEHIND_RETRIES) {
        throw new SignetError(
          'STORAGE',
          `${gun}: storage returned timestamp version ${state.timestamp.version}, below version ${floor} already seen`,
          { fix: 'the database lags behind a write this server saw; check for a replica serving reads' },
        );
      }
      await new Promise((r) => setTimeout(r, BEHIND_WAIT_MS));
    }
  }

  async #entry(gun: string): Promise<GunEntry | null> {
    const now = Date.now();
    const e = this.#entries.get(gun);
    if (this.#fresh(e, now)) return e;
    let p = this.#loading.get(gun);
    if (p === undefined) {
      const epoch = this.#epochs.get(gun) ?? 0;
      p = (async () => {
        const state = await this.#read(gun);
        if (state === null) return null;
        this.#raise(gun, state.timestamp.version);
        const entry: GunEntry = { state, files: new Map(), loadedAt: Date.now(), epoch, bytes: 0 };
        entry.files.set('timestamp', state.timestamp);
        entry.bytes = state.timestamp.bytes.length;
        if (state.snapshot !== null) {
          entry.files.set('snapshot', state.snapshot);
          entry.bytes += state.snapshot.bytes.length;
        }
        if ((this.#epochs.get(gun) ?? 0) === epoch) this.#store(gun, entry);
        return entry;
      })();
      this.#loading.set(gun, p);
      p.finally(() => this.#loading.delete(gun)).catch(() => undefined);
    }
    return p;
  }

  #drop(gun: string): void {
    const e = this.#entries.get(gun);
    if (e === undefined) return;
    this.#bytes -= e.bytes;
    this.#entries.delete(gun);
  }

  #store(gun: string, entry: GunEntry): void {
    this.#drop(gun);
    this.#entries.set(gun, entry);
    this.#bytes += entry.bytes;
    this.#evict();
  }

  #evict(): void {
    while (this.#entries.size > this.#opts.maxGuns || (this.#bytes > this.#opts.maxBytes && this.#entries.size > 1)) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#drop(oldest);
    }
  }

  async state(gun: string): Promise<CurrentState | null> {
    return (await this.#entry(gun))?.state ?? null;
  }

  async current(gun: string, role: string): Promise<CachedFile | null> {
    const e = await this.#entry(gun);
    if (e === null) return null;
    if (role === 'snapshot') return e.state.snapshot;
    const cached = e.files.get(role);
    if (cached !== undefined) return cached;
    const f = await readCurrentRole(this.#reader, gun, e.state, role);
    if (f === null) return null;
    if (e.epoch === (this.#epochs.get(gun) ?? 0) && this.#entries.get(gun) === e && e.files.size < 10_000) {
      e.files.set(role, f);
      e.bytes += f.bytes.length;
      this.#bytes += f.bytes.length;
      this.#evict();
    }
    return f;
  }

  invalidate(gun: string): void {
    this.#epochs.set(gun, (this.#epochs.get(gun) ?? 0) + 1);
    this.#drop(gun);
    this.#loading.delete(gun);
    if (this.#epochs.size > 4 * this.#opts.maxGuns) this.#epochs.clear();
  }

  /**
   * A change committed to `gun` (by this process or another server): timestamp `version` is now
   * current, or the GUN was deleted (its versions start again, so the floor goes).
   */
  changed(gun: string, version: number, deleted: boolean): void {
    this.invalidate(gun);
    if (deleted) this.#floor.delete(gun);
    else this.#raise(gun, version);
  }

  /** Drops everything, floors included (after lost change notices a GUN may have been deleted and re-made). */
  clear(): void {
    for (const gun of [...this.#entries.keys()]) this.invalidate(gun);
    this.#floor.clear();
  }
}
