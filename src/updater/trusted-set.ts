/**
 * The trusted metadata set, in notary's dialect: a PURE state machine (bytes and a fixed `now` in,
 * verified metadata or a coded error out; no I/O). Modelled on python-tuf's TrustedMetadataSet with
 * notary's rules (N:trustpinning/certs.go, N:client/tufclient.go, N:tuf/builder.go):
 *  - root keys are x509 certificates valid for the GUN; a new root must verify against the previous
 *    root's certificates with the previous threshold AND against its own ones with its own;
 *  - a certificate-ID pin anchors the chain: once a root the pin allows is trusted, the roots that
 *    follow it through the chain are trusted whatever their certificates (the pin follows them,
 *    docs/client.md); a CA pin is applied to every root; TOFU only to the first one;
 *  - hashes/lengths come from the parent (timestamp → snapshot → targets/delegations), MIX_AND_MATCH;
 *  - versions never go below what was trusted before (ROLLBACK); nothing is accepted expired (EXPIRED),
 *    except intermediate roots of a rotation chain and a cached root on load.
 */
import { SignetError } from '../errors.js';
import {
  certKeySet,
  checkExpiry,
  checkFileMeta,
  checkVersion,
  delegateError,
  delegatorKeys,
  isDelegationRole,
  parentRole,
  parseRoot,
  parseSnapshot,
  parseTargets,
  parseTimestamp,
  rootRoleKeys,
  rootThreshold,
  rootVersionStep,
  type SignatureBudget,
  verifyRootStep,
  type Gun,
  type Metadata,
  type RootSigned,
  type SnapshotSigned,
  type TargetsSigned,
  type PublicKey,
  type TimestampSigned,
} from '../tuf/index.js';
import type { UpdaterLimits } from './limits.js';
import { applyPin, type ResolvedPin } from './pins.js';
import { budgetOf, limitsOf, throwSelfFailure, verifyRoleSignatures } from './role-signatures.js';

export interface TrustedSetOptions {
  gun: Gun;
  now: Date;
  /** The pin for this GUN (a cert pin anchors the chain, a CA pin is checked on every new root). */
  pin?: ResolvedPin;
  /** Accept a first-seen root without a pin. */
  tofu?: boolean;
  limits?: Partial<UpdaterLimits>;
  /** Signature checks already under way (a bootstrap trying several past roots shares one budget). */
  budget?: SignatureBudget;
}

export class TrustedSet {
  readonly gun: Gun;
  readonly now: Date;
  readonly limits: UpdaterLimits;
  private readonly pin: ResolvedPin;
  private readonly tofu: boolean;
  /** Signature checks of this update (all roles), with each key parsed once. */
  private readonly budget: SignatureBudget;
  private rootMd: Metadata<RootSigned>;
  timestamp: Metadata<TimestampSigned> | undefined;
  snapshot: Metadata<SnapshotSigned> | undefined;
  targets: Metadata<TargetsSigned> | undefined;
  readonly delegations = new Map<string, Metadata<TargetsSigned>>();
  /** Versions trusted before (from the cache or earlier in this session): the rollback floor. */
  private readonly floor = new Map<string, number>();
  private previousSnapshotMeta: SnapshotSigned['meta'] | undefined;
  /** Set when the cached root does not satisfy the pin: nothing may be trusted until a pinned root is reached. */
  private unpinnedAnchor: SignetError | undefined;
  /** The trusted root's valid root certificate keys (all of them, pinned or not). */
  private rootCerts: readonly PublicKey[] = [];

  private constructor(root: Metadata<RootSigned>, opts: TrustedSetOptions, budget: SignatureBudget) {
    this.gun = opts.gun;
    this.now = opts.now;
    this.pin = opts.pin ?? { kind: 'none' };
    this.tofu = opts.tofu === true;
    this.limits = limitsOf(opts);
    this.budget = budget;
    this.rootMd = root;
  }

  get root(): Metadata<RootSigned> {
    return this.rootMd;
  }

  /**
   * Load a root that was trusted before (the cached root.json): it must be valid for the GUN and
   * signed by its own certificates; expiry (metadata and certificates) is allowed, as notary does.
   */
  static fromTrustedRoot(bytes: Buffer, opts: TrustedSetOptions): TrustedSet {
    const md = parseRoot(bytes);
    const budget = budgetOf(opts);
    const step = verifyRootStep(undefined, md, { gun: opts.gun, now: opts.now, budget, certExpiry: false });
    throwSelfFailure(step);
    const certs = step.certificates;
    const set = new TrustedSet(md, opts, budget);
    set.rootCerts = certs;
    // A pin must hold for the cached root too, or anyone who can write the trust dir replaces the
    // anchor and the pin means nothing. A cached root the pin refuses is kept only as the start of
    // a chain walk: the root reached (updateRoot, final) must satisfy the pin, else PIN_MISMATCH.
    const pin = opts.pin ?? { kind: 'none' };
    if (pin.kind === 'certs' || pin.kind === 'ca') {
      try {
        applyPin(pin, certs, { gun: opts.gun, now: opts.now, firstBootstrap: false, tofu: opts.tofu === true });
      } catch (e) {
        if (!(e instanceof SignetError) || e.code !== 'PIN_MISMATCH') throw e;
        set.unpinnedAnchor = e;
      }
    }
    return set;
  }

  /** True when the trusted root still has to be replaced by one the pin allows. */
  get needsPinnedRoot(): boolean {
    return this.unpinnedAnchor !== undefined;
  }

  /** PIN_MISMATCH while the trusted root is a cached root the pin does not allow. */
  checkPinned(): void {
    if (this.unpinnedAnchor !== undefined) throw this.unpinnedAnchor;
  }

  /**
   * Bootstrap from a first-seen root (no cache): certificates valid now for the GUN, self-signed to its
   * threshold, not expired, and then allowed by the pin (UNTRUSTED_ROOT without pin or TOFU).
   */
  static fromNewRoot(bytes: Buffer, opts: TrustedSetOptions): TrustedSet {
    return TrustedSet.selfAnchored(bytes, opts, false);
  }

  /**
   * Start a chain walk at an OLD root of the server (`<v>.root.json`) that a certificate pin allows (else
   * PIN_MISMATCH): signed to its threshold by the pinned certificates; its metadata and certificates may
   * have expired since (an intermediate root, as a cached one). updateRoot must then reach a current root.
   */
  static fromPinnedPastRoot(bytes: Buffer, opts: TrustedSetOptions): TrustedSet {
    if (opts.pin?.kind !== 'certs') throw new SignetError('INTERNAL', 'only a certificate pin anchors a past root');
    return TrustedSet.selfAnchored(bytes, opts, true);
  }

  private static selfAnchored(bytes: Buffer, opts: TrustedSetOptions, past: boolean): TrustedSet {
    const md = parseRoot(bytes);
    const budget = budgetOf(opts);
    const step = verifyRootStep(undefined, md, { gun: opts.gun, now: opts.now, budget, certExpiry: !past });
    throwSelfFailure(step);
    if (!past) checkExpiry(md, opts.now);
    const pinned = applyPin(opts.pin ?? { kind: 'none' }, step.certificates, {
      gun: opts.gun,
      now: opts.now,
      firstBootstrap: true,
      tofu: !past && opts.tofu === true,
    });
    verifyRoleSignatures(md, certKeySet(pinned, rootThreshold(md.signed)), budget);
    const set = new TrustedSet(md, opts, budget);
    set.rootCerts = step.certificates;
    return set;
  }

  /** The root's certificate key IDs when it was reached by the chain from a root a cert pin allows, but the pin names none. */
  get followedPin(): string[] | undefined {
    if (this.pin.kind !== 'certs' || this.unpinnedAnchor !== undefined) return undefined;
    const allowed = new Set(this.pin.certs.map((c) => c.toLowerCase()));
    if (this.rootCerts.some((k) => allowed.has(k.id) || allowed.has(k.canonicalId))) return undefined;
    return this.rootCerts.map((k) => k.id);
  }

  /**
   * The keys of a new root's certificates that may sign it (verifyRootStep's trustedKeys). A certificate
   * pin applies only until the chain holds a root it allows (`pinned`); after that the chain carries
   * the trust. An intermediate root may stand between a refused cached root and a pinned one.
   */
  private keysForNewRoot(certs: PublicKey[], final: boolean, reached: { pinned: boolean }): PublicKey[] {
    const pinOpts = { gun: this.gun, now: this.now, firstBootstrap: false, tofu: this.tofu };
    if (this.pin.kind !== 'certs') return applyPin(this.pin, certs, pinOpts);
    if (this.unpinnedAnchor === undefined) return certs;
    try {
      const ok = applyPin(this.pin, certs, pinOpts);
      reached.pinned = true;
      return ok;
    } catch (e) {
      if (final || !(e instanceof SignetError) || e.code !== 'PIN_MISMATCH') throw e;
      return certs;
    }
  }

  /** Remember the version of a role trusted earlier (the cache), so nothing older is accepted. */
  rememberVersion(role: string, version: number): void {
    if (Number.isSafeInteger(version) && version > (this.floor.get(role) ?? 0)) this.floor.set(role, version);
  }

  /** Remember the previously trusted snapshot's meta (for per-role version rollback where present). */
  rememberSnapshotMeta(meta: SnapshotSigned['meta']): void {
    this.previousSnapshotMeta = meta;
  }

  /**
   * One step of the root chain (N:trustpinning/certs.go ValidateRoot, N:client/tufclient.go updateRoot).
   * Intermediate roots (`final: false`) must be exactly version+1 and may be expired; the final root
   * may also be the same version (a re-signed root) but must not be expired and needs valid certs now.
   * Trust in the later roles is dropped: they must be verified again under the new root.
   */
  updateRoot(bytes: Buffer, opts: { final: boolean }): Metadata<RootSigned> {
    const cur = this.rootMd;
    if (bytes.equals(cur.bytes)) {
      if (opts.final) {
        this.checkPinned();
        checkExpiry(cur, this.now);
      }
      return cur;
    }
    const md = parseRoot(bytes);
    const versionStep = rootVersionStep(cur.signed.version, md.signed.version);
    if (versionStep === 'older') checkVersion(md, cur.signed.version);
    if (!opts.final && versionStep !== 'next') {
      throw new SignetError(
        'ROOT_ROTATION',
        `root version ${md.signed.version} does not follow trusted root version ${cur.signed.version}`,
        {
          fix: 'the server returned the wrong root version in the rotation chain; do not trust it',
        },
      );
    }
    const reached = { pinned: false };
    let allCerts: PublicKey[] = [];
    const step = verifyRootStep(cur.signed, md, {
      gun: this.gun,
      now: this.now,
      budget: this.budget,
      certExpiry: opts.final,
      trustedKeys: (certs) => {
        allCerts = certs;
        return this.keysForNewRoot(certs, opts.final, reached);
      },
    });
    if (step.failure === 'previous' && step.byPrevious !== undefined) {
      // signed by the previous root's certificates (expiry not checked for those) with its threshold
      throw new SignetError(
        'ROOT_ROTATION',
        `could not rotate trust to root version ${md.signed.version} of ${this.gun}: it is not signed by the trusted root's keys (threshold ${rootThreshold(cur.signed)})`,
        {
          cause: step.previousCertificateError ?? delegateError(step.byPrevious),
          fix: 'a legitimate root change is signed with the old root key too; if the repository was deleted and re-created on purpose, remove the cached trust data for it (tuf/<gun>) and re-pin',
        },
      );
    }
    throwSelfFailure(step);
    if (opts.final) checkExpiry(md, this.now);
    this.rootMd = md;
    this.rootCerts = allCerts;
    if (reached.pinned || (opts.final && this.pin.kind !== 'certs')) this.unpinnedAnchor = undefined;
    this.rememberVersion('root', md.signed.version);
    this.timestamp = undefined;
    this.snapshot = undefined;
    this.targets = undefined;
    this.delegations.clear();
    return md;
  }

  /** The trusted root must not be expired (checked before anything signed under it is used). */
  checkRootFresh(): void {
    this.checkPinned();
    checkExpiry(this.rootMd, this.now);
  }

  updateTimestamp(bytes: Buffer): Metadata<TimestampSigned> {
    if (bytes.length > this.limits.timestampMaxBytes) {
      throw new SignetError(
        'ENDLESS_DATA',
        `timestamp.json is ${bytes.length} bytes, over the ${this.limits.timestampMaxBytes}-byte limit`,
      );
    }
    const md = parseTimestamp(bytes);
    verifyRoleSignatures(md, rootRoleKeys(this.rootMd.signed, 'timestamp', this.budget), this.budget);
    checkVersion(md, Math.max(this.floor.get('timestamp') ?? 0, this.timestamp?.signed.version ?? 0));
    checkExpiry(md, this.now);
    this.timestamp = md;
    this.rememberVersion('timestamp', md.signed.version);
    this.snapshot = undefined;
    this.targets = undefined;
    this.delegations.clear();
    return md;
  }

  /** The snapshot the trusted timestamp lists: length + hashes, then signature, version, expiry. */
  updateSnapshot(bytes: Buffer): Metadata<SnapshotSigned> {
    const ts = this.timestamp;
    if (ts === undefined) throw new SignetError('INTERNAL', 'snapshot loaded before timestamp');
    checkFileMeta(bytes, ts.signed.meta.snapshot, 'snapshot.json');
    const md = parseSnapshot(bytes);
    verifyRoleSignatures(md, rootRoleKeys(this.rootMd.signed, 'snapshot', this.budget), this.budget);
    checkVersion(md, Math.max(this.floor.get('snapshot') ?? 0, this.snapshot?.signed.version ?? 0));
    // notary's meta has no versions; where both snapshots carry one (TUF style), it must not go back
    for (const [role, prev] of Object.entries(this.previousSnapshotMeta ?? {})) {
      const pv = prev.version;
      const nv = md.signed.meta[role]?.version;
      if (typeof pv === 'number' && typeof nv === 'number' && nv < pv) {
        throw new SignetError('ROLLBACK', `snapshot lists ${role} version ${nv}, older than the trusted ${pv}`, {
          fix: 'the server is serving old metadata (possible rollback attack); do not trust it',
        });
      }
    }
    checkExpiry(md, this.now);
    this.snapshot = md;
    this.rememberVersion('snapshot', md.signed.version);
    this.previousSnapshotMeta = md.signed.meta;
    this.targets = undefined;
    this.delegations.clear();
    return md;
  }

  /** Does the trusted root match what the snapshot lists for root? (N:client/tufclient.go step 3) */
  rootMatchesSnapshot(): boolean {
    const meta = this.snapshot?.signed.meta['root'];
    if (meta === undefined) return true;
    try {
      checkFileMeta(this.rootMd.bytes, meta, 'root.json');
      return true;
    } catch {
      return false;
    }
  }

  updateTargets(bytes: Buffer): Metadata<TargetsSigned> {
    return this.updateDelegation('targets', bytes);
  }

  /**
   * `targets` or a delegation `targets/…`: listed in the snapshot (length + hashes), signed by the keys
   * its delegator (root for `targets`, the trusted parent otherwise) assigns to it with that threshold,
   * version not below the trusted one, not expired. Delegations only below a trusted parent.
   */
  updateDelegation(role: string, bytes: Buffer): Metadata<TargetsSigned> {
    const snap = this.snapshot;
    if (snap === undefined) throw new SignetError('INTERNAL', `${role} loaded before snapshot`);
    if (isDelegationRole(role)) {
      const depth = role.split('/').length - 1;
      if (depth > this.limits.maxDelegationDepth) {
        throw new SignetError(
          'INVALID_ROLE',
          `${role} is nested ${depth} levels deep, more than the limit of ${this.limits.maxDelegationDepth}`,
        );
      }
      if (!this.delegations.has(role) && this.delegations.size >= this.limits.maxDelegations) {
        throw new SignetError(
          'INVALID_ROLE',
          `more than ${this.limits.maxDelegations} delegated roles; refusing to load ${role}`,
        );
      }
    }
    const parentName = parentRole(role) ?? 'targets';
    const parent =
      role === 'targets' ? undefined : parentName === 'targets' ? this.targets : this.delegations.get(parentName);
    const delegator = delegatorKeys(role, this.rootMd.signed, parent?.signed, this.budget);
    if (!delegator.ok) {
      const why = {
        'invalid-name': `${role} is not a valid delegation role name`,
        'no-parent': `${role} cannot be loaded: its parent ${delegator.parent} is not trusted`,
        'not-delegated': `${role} is not delegated by its parent`,
      }[delegator.reason];
      throw new SignetError('INVALID_ROLE', why);
    }
    const keys = delegator.keys;
    const meta = snap.signed.meta[role];
    if (meta === undefined) {
      throw new SignetError('MIX_AND_MATCH', `snapshot does not list ${role}`, {
        fix: 'the server is serving an inconsistent repository; retry later or report it',
      });
    }
    checkFileMeta(bytes, meta, `${role}.json`);
    const md = parseTargets(role, bytes);
    verifyRoleSignatures(md, keys, this.budget);
    checkVersion(
      md,
      Math.max(
        this.floor.get(role) ?? 0,
        (role === 'targets' ? this.targets : this.delegations.get(role))?.signed.version ?? 0,
      ),
    );
    checkExpiry(md, this.now);
    if (role === 'targets') {
      this.targets = md;
      this.delegations.clear();
    } else {
      this.delegations.set(role, md);
    }
    this.rememberVersion(role, md.signed.version);
    return md;
  }
}
