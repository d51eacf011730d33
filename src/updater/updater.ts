/**
 * The I/O half of the client update (N:client/tufclient.go): cache in the trust dir, fetch with caps,
 * feed bytes to the pure TrustedSet, persist only what verified.
 *  bootstrap: cached root.json (trusted as is, expiry allowed) or root.json from the server, checked
 *             against the pin (UNTRUSTED_ROOT without pin/TOFU); 404 → REPOSITORY_NOT_FOUND. A write,
 *             or an expired cached root, fetches root.json and walks the chain first. A cert pin
 *             anchors the chain and follows rotations (pin-walk.ts).
 *  update:    timestamp.json (always fetched; the cache only when the server is unreachable, within
 *             maxStaleMs) → snapshot by checksum → root vs snapshot → targets and delegations pre-order,
 *             each from cache when it matches, else from this client's last upload when that matches
 *             (cache.ts writeUploaded), else `<role>.<sha256>.json`. A warm run with nothing
 *             changed makes exactly one request: timestamp.json.
 *  failure:   update the root (chain walk through `<v>.root.json`) and retry once, as notary does.
 */
import { SignetError, isSignetError } from '../errors.js';
import type { NotaryRemote } from '../remote/index.js';
import {
  canonicalSignedVersion,
  fileMetaSha256Hex,
  isDirectChild,
  parseGun,
  parseMetadata,
  parseRoot,
  type FileMeta,
  type Gun,
  type SnapshotSigned,
} from '../tuf/index.js';
import { MetadataCache, type RoleBytes } from './cache.js';
import { missingOffline, repositoryMissing, staleOffline } from './refusals.js';
import { expiryWarnings, staleError } from './staleness.js';
import { DEFAULT_LIMITS, type UpdaterLimits } from './limits.js';
import { bootstrapFromPin, followPin } from './pin-walk.js';
import type { PinSource, ResolvedPin } from './pins.js';
import type { TrustFreshness, TrustedRepo } from './targets.js';
import { TrustedSet } from './trusted-set.js';

export interface UpdaterOptions {
  gun: string; // parsed by the constructor (tuf `parseGun`): INVALID_GUN before any read or fetch
  remote: NotaryRemote;
  trustDir: string;
  pins: PinSource;
  /** Accept a first-seen root without a pin (prints a warning). */
  tofu?: boolean;
  /** No network: verify the cached metadata only (it must be complete and unexpired). */
  offline?: boolean;
  /** Server unreachable: max age of the cached data (since last confirmed), else TRUST_STALE; undefined: any. */
  maxStaleMs?: number;
  now?: () => Date;
  limits?: Partial<UpdaterLimits>;
  onWarning?: (msg: string) => void;
}

/** Errors after which notary refreshes the root and tries once more. */
const RETRY_AFTER_ROOT = new Set([
  'THRESHOLD',
  'UNKNOWN_KEY',
  'INVALID_KEY_ID',
  'MIX_AND_MATCH',
  'EXPIRED',
  'ROLLBACK',
  'NOT_FOUND',
]);
/** Delegation failures notary logs and skips (N:client/tufclient.go downloadTargets). */
const SKIPPABLE_DELEGATION = new Set(['EXPIRED', 'THRESHOLD', 'UNKNOWN_KEY']);
/** Timestamp download failures that fall back to the cached timestamp (network, any status but 200/400). */
const TIMESTAMP_FALLBACK = new Set(['NETWORK', 'TIMEOUT', 'HTTP', 'NOT_FOUND', 'UNAUTHORIZED']);

const checksumOf = (meta: FileMeta): string => fileMetaSha256Hex(meta) ?? '';

class RootChanged extends Error {
  constructor(readonly meta: FileMeta) {
    super('the snapshot lists a different root');
  }
}

export class Updater {
  readonly gun: Gun;
  private readonly remote: NotaryRemote;
  private readonly cache: MetadataCache;
  private readonly pins: PinSource;
  private readonly tofu: boolean;
  private readonly offline: boolean;
  private readonly maxStaleMs: number | undefined;
  private readonly now: () => Date;
  private readonly limits: UpdaterLimits;
  private readonly warn: (msg: string) => void;
  /** A read-only pin source's pin (JSON) and the pin this process follows in its place. */
  private followed: { from: string; pin: ResolvedPin } | undefined;

  constructor(opts: UpdaterOptions) {
    this.gun = parseGun(opts.gun);
    this.remote = opts.remote;
    this.cache = new MetadataCache(opts.trustDir, this.gun);
    this.pins = opts.pins;
    this.tofu = opts.tofu === true;
    this.offline = opts.offline === true;
    this.maxStaleMs = opts.maxStaleMs;
    this.now = opts.now ?? (() => new Date());
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.warn = opts.onWarning ?? (() => undefined);
  }

  /** Bring the trusted metadata up to date (or, offline, verify the cache) and return it. */
  async refresh(opts: { forWrite?: boolean } = {}): Promise<TrustedRepo> {
    const now = this.now();
    const configured = await this.pins.resolve(this.gun);
    const pin = this.followed?.from === JSON.stringify(configured) ? this.followed.pin : configured;
    const { set, fetched } = await this.bootstrap(now, pin);
    // a write (or an expired cached root) starts from the server's current root; a root we just
    // fetched is already that
    if (!this.offline && !fetched && (opts.forWrite === true || set.needsPinnedRoot || this.rootExpired(set))) {
      await this.updateRoot(set);
    }
    const repo = await this.updateOrRetry(set);
    const followed = await followPin(this.gun, set, pin, this.pins, this.warn);
    if (followed === undefined) return repo;
    this.followed = { from: JSON.stringify(configured), pin: { kind: 'certs', pattern: this.gun, certs: followed.to } };
    return { ...repo, pinFollowed: followed };
  }

  /** update(); after the failures notary retries on, update the root and try once more. */
  private async updateOrRetry(set: TrustedSet): Promise<TrustedRepo> {
    try {
      return await this.update(set);
    } catch (e) {
      if (this.offline) throw e instanceof RootChanged ? staleOffline(this.gun) : e;
      const hint = e instanceof RootChanged ? e.meta : undefined;
      if (!(e instanceof RootChanged) && !(isSignetError(e) && RETRY_AFTER_ROOT.has(e.code))) throw e;
      const before = set.root.bytes;
      await this.updateRoot(set, hint);
      if (set.root.bytes.equals(before) && !(e instanceof RootChanged)) throw e; // nothing new to try
      try {
        return await this.update(set);
      } catch (e2) {
        if (e2 instanceof RootChanged) {
          throw new SignetError(
            'MIX_AND_MATCH',
            `the snapshot of ${this.gun} lists a root that the server does not serve as current`,
            { fix: 'the server is inconsistent (or mixing repositories); retry later or report it' },
          );
        }
        throw e2;
      }
    }
  }

  private rootExpired(set: TrustedSet): boolean {
    try {
      set.checkRootFresh();
      return false;
    } catch {
      return true;
    }
  }

  /** GET root.json; a 404 means the server has no trust data for this GUN (N:client ErrRepositoryNotExist). */
  private async currentRoot(): Promise<Buffer> {
    try {
      return await this.remote.getRole(this.gun, 'root', { maxBytes: this.limits.rootMaxBytes });
    } catch (e) {
      if (isSignetError(e, 'NOT_FOUND')) throw repositoryMissing(this.remote.serverUrl, this.gun, e);
      throw e;
    }
  }

  private async bootstrap(now: Date, pin: ResolvedPin): Promise<{ set: TrustedSet; fetched: boolean }> {
    const base = { gun: this.gun, now, pin, tofu: this.tofu, limits: this.limits };
    const cached = await this.cache.read('root');
    if (cached !== undefined) {
      try {
        const set = TrustedSet.fromTrustedRoot(cached, base);
        // a cached root the cert pin refuses anchors nothing: start from the pin, as a fresh client does
        if (!set.needsPinnedRoot || pin.kind !== 'certs' || this.offline) return { set, fetched: false };
      } catch (e) {
        if (isSignetError(e)) {
          throw new SignetError(
            e.code,
            `the cached root of ${this.gun} (${this.cache.fileFor('root')}) cannot be trusted: ${e.message}`,
            {
              cause: e,
              fix: `if you trust the server's current root, remove ${this.cache.dir} and pin again`,
              ...(e.details !== undefined ? { details: e.details } : {}),
            },
          );
        }
        throw e;
      }
    }
    if (this.offline) {
      throw new SignetError('REPOSITORY_NOT_FOUND', `no cached trust data for ${this.gun}; cannot verify offline`, {
        fix: 'run once without --offline to fetch and cache the trust data',
      });
    }
    const bytes = await this.currentRoot();
    const walk = { gun: this.gun, remote: this.remote, limits: this.limits };
    const set = await bootstrapFromPin(walk, bytes, base);
    if (pin.kind === 'none' || pin.kind === 'tofu') {
      const ids = Object.keys(set.root.signed.keys).filter((id) => set.root.signed.roles['root']?.keyids.includes(id));
      this.warn(
        `WARNING: trusting the root of ${this.gun} on first use (TOFU), root key ID(s) ${ids.join(' ')}. ` +
          `To detect a root change from now on without relying on this cache, pin it: signet pin ${this.gun} ${ids.join(' ')}`,
      );
    }
    await this.cache.write('root', bytes);
    return { set, fetched: true };
  }

  /** Fetch the newest root (by checksum when the snapshot names one) and walk the chain to it. */
  private async updateRoot(set: TrustedSet, hint?: FileMeta): Promise<void> {
    if (hint !== undefined && hint.length > this.limits.rootMaxBytes) {
      // the snapshot may be signed by a server-held key: its length for root is not a licence to stream
      throw new SignetError(
        'ENDLESS_DATA',
        `the snapshot of ${this.gun} lists root.json as ${hint.length} bytes, over the ${this.limits.rootMaxBytes}-byte limit`,
        {
          fix: 'the repository metadata is unreasonably large (or the server lies about it); raise the limit only if you trust it',
        },
      );
    }
    const newest =
      hint !== undefined && hint.hashes.sha256 !== undefined
        ? await this.remote.getRole(this.gun, 'root', { maxBytes: hint.length, checksum: checksumOf(hint) })
        : await this.currentRoot();
    if (newest.equals(set.root.bytes)) {
      set.checkRootFresh();
      return;
    }
    const target = parseRoot(newest).signed.version;
    const from = set.root.signed.version;
    if (target - from > this.limits.maxRootRotations) {
      throw new SignetError(
        'ROOT_ROTATION',
        `root of ${this.gun} jumps from version ${from} to ${target}, more than ${this.limits.maxRootRotations} rotations`,
        {
          fix: 'refusing to walk that many roots; remove the cached trust data and re-pin if this is expected',
        },
      );
    }
    for (let v = from + 1; v < target; v++) {
      const bytes = await this.remote.getRole(this.gun, 'root', { maxBytes: this.limits.rootMaxBytes, version: v });
      set.updateRoot(bytes, { final: false });
    }
    set.updateRoot(newest, { final: true });
    await this.cache.write('root', newest);
  }

  private async update(set: TrustedSet): Promise<TrustedRepo> {
    set.checkRootFresh();

    // 1. timestamp: always fetched; the cache only if the server cannot be reached
    const cachedTs = await this.cache.read('timestamp');
    this.floorFrom(set, 'timestamp', cachedTs);
    let tsBytes: Buffer;
    let freshness: TrustFreshness;
    if (this.offline) {
      if (cachedTs === undefined) throw missingOffline(this.gun, 'timestamp');
      tsBytes = cachedTs;
      freshness = { source: 'cached', checkedAt: (await this.cache.checkedAt('timestamp')) ?? new Date(0) };
    } else {
      try {
        tsBytes = await this.remote.getRole(this.gun, 'timestamp', { maxBytes: this.limits.timestampMaxBytes });
        freshness = { source: 'fresh', checkedAt: new Date() };
      } catch (e) {
        if (cachedTs === undefined && isSignetError(e, 'NOT_FOUND'))
          throw repositoryMissing(this.remote.serverUrl, this.gun, e);
        if (cachedTs === undefined || !isSignetError(e) || !TIMESTAMP_FALLBACK.has(e.code)) throw e;
        freshness = { source: 'cached', checkedAt: (await this.cache.checkedAt('timestamp')) ?? new Date(0) };
        this.checkStaleness(e, freshness.checkedAt);
        this.warn(`WARNING: could not fetch timestamp.json for ${this.gun} (${e.message}); using the cached copy`);
        tsBytes = cachedTs;
      }
    }
    const ts = set.updateTimestamp(tsBytes);
    if (cachedTs === undefined || !cachedTs.equals(tsBytes)) await this.cache.write('timestamp', tsBytes);
    else if (freshness.source === 'fresh') await this.cache.touch('timestamp');

    // 2. snapshot, by checksum
    const snapMeta = ts.signed.meta.snapshot;
    const snapBytes = await this.roleBytes(set, 'snapshot', snapMeta);
    set.updateSnapshot(snapBytes.bytes);
    await this.cache.keep('snapshot', snapBytes);
    const snapshot = set.snapshot as NonNullable<typeof set.snapshot>;

    // 3. the root the snapshot lists must be ours; otherwise update the root and retry
    if (!set.rootMatchesSnapshot()) throw new RootChanged(snapshot.signed.meta['root'] as FileMeta);

    // 4. targets, then delegations pre-order (only roles listed in the snapshot)
    await this.loadTargetsRole(set, 'targets', snapshot.signed);
    const stack = this.childrenOf(set, 'targets', snapshot.signed);
    const ignored: { role: string; error: SignetError }[] = [];
    while (stack.length > 0) {
      const role = stack.shift() as string;
      try {
        await this.loadTargetsRole(set, role, snapshot.signed);
      } catch (e) {
        if (isSignetError(e) && SKIPPABLE_DELEGATION.has(e.code)) {
          this.warn(`WARNING: ignoring delegation ${role} of ${this.gun}: ${e.message}`);
          ignored.push({ role, error: e });
          continue;
        }
        throw e;
      }
      stack.unshift(...this.childrenOf(set, role, snapshot.signed));
    }

    for (const w of expiryWarnings(this.gun, set.now, [set.root, set.targets, set.snapshot])) this.warn(w);
    return {
      gun: this.gun,
      root: set.root,
      timestamp: ts,
      snapshot,
      targets: set.targets as NonNullable<typeof set.targets>,
      delegations: new Map(set.delegations),
      freshness,
      ...(ignored.length > 0 ? { ignored } : {}),
    };
  }

  /** The server is unreachable: the cache may stand in only while it is younger than maxStaleMs. */
  private checkStaleness(cause: SignetError, checkedAt: Date): void {
    if (this.maxStaleMs === undefined) return;
    const ageMs = Date.now() - checkedAt.getTime();
    if (ageMs > this.maxStaleMs) throw staleError(this.gun, cause, ageMs, this.maxStaleMs);
  }

  private childrenOf(set: TrustedSet, role: string, snapshot: SnapshotSigned): string[] {
    const md = role === 'targets' ? set.targets : set.delegations.get(role);
    const out: string[] = [];
    for (const d of md?.signed.delegations?.roles ?? []) {
      if (isDirectChild(role, d.name) && snapshot.meta[d.name] !== undefined && !out.includes(d.name)) out.push(d.name);
    }
    return out;
  }

  private async loadTargetsRole(set: TrustedSet, role: string, snapshot: SnapshotSigned): Promise<void> {
    const meta = snapshot.meta[role];
    if (meta === undefined) {
      throw new SignetError('MIX_AND_MATCH', `the snapshot of ${this.gun} does not list ${role}`, {
        fix: 'the server is serving an inconsistent repository; retry later',
      });
    }
    const got = await this.roleBytes(set, role, meta);
    set.updateDelegation(role, got.bytes);
    await this.cache.keep(role, got);
  }

  /**
   * Bytes that match the parent's meta: the cached file, else the copy of this client's last upload
   * (MetadataCache.writeUploaded), else the download `<role>.<sha256>.json` capped at its length.
   */
  private async roleBytes(set: TrustedSet, role: string, meta: FileMeta): Promise<RoleBytes> {
    const found = await this.cache.matching(role, meta);
    if ('bytes' in found) return found;
    this.floorFrom(set, role, found.stale);
    if (this.offline) throw missingOffline(this.gun, role);
    if (meta.length > this.limits.metadataMaxBytes) {
      throw new SignetError(
        'ENDLESS_DATA',
        `${role}.json of ${this.gun} is listed as ${meta.length} bytes, over the ${this.limits.metadataMaxBytes}-byte limit`,
        {
          fix: 'the repository metadata is unreasonably large (or the server lies about it); raise the limit only if you trust it',
        },
      );
    }
    if (meta.hashes.sha256 === undefined) {
      throw new SignetError('MIX_AND_MATCH', `the parent of ${role} lists no sha256 for it`, {
        fix: 'the repository metadata is malformed',
      });
    }
    const bytes = await this.remote.getRole(this.gun, role, { maxBytes: meta.length, checksum: checksumOf(meta) });
    return { bytes, source: 'server' };
  }

  /** A cached copy that no longer matches still tells us the lowest acceptable version. */
  private floorFrom(set: TrustedSet, role: string, cached: Buffer | undefined): void {
    if (cached === undefined) return;
    // a large targets file in notary's canonical form gives its version without a full parse
    // (a floor can only make the update refuse more, never accept more)
    const version = role === 'snapshot' ? undefined : canonicalSignedVersion(cached);
    if (version !== undefined) {
      set.rememberVersion(role, version);
      return;
    }
    try {
      const md = parseMetadata(role, cached);
      set.rememberVersion(role, md.signed.version);
      if (role === 'snapshot') set.rememberSnapshotMeta((md.signed as SnapshotSigned).meta);
    } catch {
      // an unparsable cache file gives no floor; it is overwritten once something verifies
    }
  }
}
