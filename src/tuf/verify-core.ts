/**
 * The one TUF verification core: the checks the client's trusted set (updater/trusted-set.ts) and the
 * server's update validation (validation/validate-update.ts) both make, one verb per check, each
 * returning a result rather than an error, in the shape of python-tuf's `verify_delegate` /
 * `get_verification_result` and `get_root_verification_result`. Each caller maps a result into its own
 * dialect (SignetError codes on the client, notary's validation errors on the server), so the rules
 * live here once, as they do in notary's one `tuf.RepoBuilder` (N:tuf/builder.go, N:tuf/signed/verify.go,
 * N:trustpinning/certs.go ValidateRoot).
 *
 * Only a spent SignatureBudget (SIGNATURE_BUDGET) and a structurally missing role (INVALID_ROLE from
 * rootRoleKeys) throw: those are refusals to do the work, not verdicts.
 */
import { SignetError } from '../errors.js';
import { SignatureBudget } from './budget.js';
import type { Gun } from './gun.js';
import { findDelegation, isDelegationRole, parentRole } from './delegations.js';
import { keyObjectFromPublicKey } from './public-key.js';
import { parseRfc3339 } from './structure.js';
import type { Metadata, PublicKey, RootSigned, TargetsSigned } from './types.js';
import { MAX_TRIES_PER_KEY, delegationRoleKeys, rootRoleKeys, verifySignature, type RoleKeySet } from './verify.js';
import { validateRootCertificates } from './x509.js';

/** What the signatures of one role amount to under the keys its delegator assigns. */
export interface DelegateResult {
  role: string;
  /** one listed key ID per DISTINCT key with a valid signature: `valid.length` is what counts */
  valid: string[];
  /** listed key IDs whose signatures did not verify */
  invalid: string[];
  /** key IDs of signatures by keys the role does not list (ignored, as notary ignores them) */
  unknown: string[];
  /** a listed key whose content hashes to another ID: notary refuses the file (N:tuf/signed/verify.go ErrInvalidKeyID) */
  misidentified: { listed: string; actual: string } | undefined;
  threshold: number;
  /** a threshold that is not an integer ≥ 1 can never be met */
  thresholdValid: boolean;
  ok: boolean;
}

/** Identity of the key material (not of its encoding): JWK coordinates of the bare key. */
function keyMaterialId(pk: PublicKey, budget: SignatureBudget): string {
  const ko = budget.keyObject(pk, 'key', () => keyObjectFromPublicKey(pk));
  if (ko === undefined) return `id:${pk.id}`;
  const jwk = ko.export({ format: 'jwk' });
  return [jwk.kty, jwk.crv, jwk.x, jwk.y, jwk.n, jwk.e].map((v) => v ?? '').join(':');
}

/**
 * Do `set.threshold` DISTINCT keys among `set.keyids` sign md.signedBytes? "Distinct" is by the public
 * key itself, not by key ID or by listing: a key listed twice, one private key under two IDs (a
 * compressed-point SPKI, two certificates for one key, a re-encoded PEM) counts once, so a threshold
 * of N needs N key holders. Checking stops once the threshold is met; each listed key gets
 * MAX_TRIES_PER_KEY signatures checked, so the work is bounded by the role's own key list. Throws
 * only SIGNATURE_BUDGET (the checks would go over `budget`, shared by every role of one update).
 */
export function verifyDelegate(
  md: Metadata,
  set: RoleKeySet,
  budget: SignatureBudget = new SignatureBudget(),
): DelegateResult {
  const threshold = set.threshold;
  const allowed = new Set(set.keyids);
  const result: DelegateResult = {
    role: md.role,
    valid: [],
    invalid: [],
    unknown: [...new Set(md.signatures.filter((s) => !allowed.has(s.keyid)).map((s) => s.keyid))],
    misidentified: undefined,
    threshold,
    thresholdValid: Number.isInteger(threshold) && threshold >= 1,
    ok: false,
  };
  if (!result.thresholdValid) return result;
  // no crypto is needed to see a listed key under a wrong ID, so it is checked for every signature
  // first and stopping at the threshold below cannot change the verdict
  for (const sig of md.signatures) {
    const pk = allowed.has(sig.keyid) ? set.keys[sig.keyid] : undefined;
    if (pk !== undefined && pk.id !== sig.keyid) {
      result.misidentified = { listed: sig.keyid, actual: pk.id };
      return result;
    }
  }
  const tries = new Map<string, number>(); // key ID → signatures checked for it
  const verified = new Set<string>(); // key IDs with a valid signature
  const distinct = new Set<string>(); // key material of the valid signatures
  for (const sig of md.signatures) {
    if (distinct.size >= threshold) break;
    const pk = allowed.has(sig.keyid) ? set.keys[sig.keyid] : undefined;
    if (pk === undefined || verified.has(sig.keyid)) continue;
    const n = tries.get(sig.keyid) ?? 0;
    if (n >= MAX_TRIES_PER_KEY) continue;
    tries.set(sig.keyid, n + 1);
    const sigBytes = Buffer.from(sig.sig, 'base64');
    if (budget.check(md.role, () => verifySignature(pk, sig.method, md.signedBytes, sigBytes, budget))) {
      verified.add(sig.keyid);
      const material = keyMaterialId(pk, budget);
      if (!distinct.has(material)) {
        distinct.add(material);
        result.valid.push(sig.keyid);
      }
    } else result.invalid.push(sig.keyid);
  }
  result.ok = result.valid.length >= threshold;
  return result;
}

/**
 * The base dialect of a failed DelegateResult: INVALID_KEY_ID for a misidentified key, THRESHOLD
 * otherwise (details: valid and invalid key IDs). Undefined when the result is ok.
 */
export function delegateError(r: DelegateResult): SignetError | undefined {
  if (r.ok) return undefined;
  if (r.misidentified !== undefined) {
    return new SignetError(
      'INVALID_KEY_ID',
      `${r.role}: key listed as ${r.misidentified.listed} actually has ID ${r.misidentified.actual}`,
      { fix: 'the metadata that lists this key is corrupt or forged; re-create it with notary-compatible tooling' },
    );
  }
  if (!r.thresholdValid) {
    return new SignetError('THRESHOLD', `${r.role}: threshold ${r.threshold} is invalid; it must be at least 1`);
  }
  const why = r.invalid.length > 0 ? `; signatures that failed to verify: ${r.invalid.join(', ')}` : '';
  return new SignetError(
    'THRESHOLD',
    `${r.role}: ${r.valid.length} valid signature(s) from distinct keys of the role, ${r.threshold} required${why}`,
    {
      fix:
        r.invalid.length === 0 && r.unknown.length === 0
          ? `${r.role} needs ${r.threshold} of its key holders to sign the same version; the others must co-sign it before it is published`
          : 'the metadata was modified after signing or signed with the wrong key; re-sign it with the role key(s)',
      details: { role: r.role, valid: r.valid, invalid: r.invalid, threshold: r.threshold },
    },
  );
}

/** verifyDelegate, throwing delegateError's error when the threshold is not met. */
export function verifyThreshold(
  md: Metadata,
  keys: Record<string, PublicKey>,
  keyids: readonly string[],
  threshold: number,
  budget?: SignatureBudget,
): void {
  const err = delegateError(verifyDelegate(md, { keys, keyids: [...keyids], threshold }, budget));
  if (err !== undefined) throw err;
}

/** Convenience: verifyThreshold against a role key set. */
export function verifyRole(md: Metadata, set: RoleKeySet, budget?: SignatureBudget): void {
  const err = delegateError(verifyDelegate(md, set, budget));
  if (err !== undefined) throw err;
}

/** The key set of root certificate keys (IDs re-derived from the certificates) with a threshold. */
export function certKeySet(keys: readonly PublicKey[], threshold: number): RoleKeySet {
  const map: Record<string, PublicKey> = {};
  for (const k of keys) map[k.id] = k;
  return { keys: map, keyids: Object.keys(map), threshold };
}

/** The threshold a root assigns to itself. */
export function rootThreshold(root: RootSigned): number {
  return root.roles['root']?.threshold ?? 1;
}

export interface RootStepOptions {
  gun: Gun;
  now: Date;
  budget: SignatureBudget;
  /** whether the new root's certificates must be valid at `now` (the previous root's never are checked) */
  certExpiry: boolean;
  /**
   * Narrows the new root's valid certificate keys to those trusted to sign it (a client's pin); may
   * throw its own refusal. Default: all of them.
   */
  trustedKeys?: (certs: PublicKey[]) => PublicKey[];
}

/** How a new root's version relates to the trusted one's (0 when none is trusted). */
export type RootVersionStep = 'next' | 'same' | 'skip' | 'older';

export interface RootStepResult {
  root: Metadata<RootSigned>;
  /** the previous root's version, 0 without one */
  previousVersion: number;
  versionStep: RootVersionStep;
  /** the new root signed by a threshold of the previous root's valid certificates; undefined without a previous root */
  byPrevious: DelegateResult | undefined;
  /** why the previous root's certificates gave no key (byPrevious is then a failure over no keys) */
  previousCertificateError: SignetError | undefined;
  /** the new root's certificate keys valid for the GUN (after `trustedKeys`); empty when none */
  certificates: PublicKey[];
  certificateError: SignetError | undefined;
  /** the new root signed by a threshold of its own certificates; undefined when the checks stopped before */
  bySelf: DelegateResult | undefined;
  expired: boolean;
  /** the first failed trust check, in notary's order; version and expiry are facts each caller judges */
  failure: 'previous' | 'certificates' | 'self' | undefined;
}

/**
 * The version facts of a root step; the rule is each caller's (notary's server wants exactly 'next'
 * and answers 'same' as a conflict; its client walks 'next' steps and accepts a final 'same' or 'skip').
 */
export function rootVersionStep(previous: number, next: number): RootVersionStep {
  if (next === previous + 1) return 'next';
  if (next === previous) return 'same';
  return next > previous ? 'skip' : 'older';
}

/**
 * One step of a root chain (N:trustpinning/certs.go ValidateRoot): with a previous root, the new root
 * must be signed by a threshold (the previous root's) of the previous root's certificate keys valid
 * for the GUN, certificate expiry not checked; then its own certificates must be valid for the GUN
 * (expiry per `certExpiry`) and a threshold (its own) of them must sign it. Stops at the first failure.
 */
export function verifyRootStep(
  previous: RootSigned | undefined,
  next: Metadata<RootSigned>,
  opts: RootStepOptions,
): RootStepResult {
  const expires = parseRfc3339(next.signed.expires);
  const result: RootStepResult = {
    root: next,
    previousVersion: previous?.version ?? 0,
    versionStep: rootVersionStep(previous?.version ?? 0, next.signed.version),
    byPrevious: undefined,
    previousCertificateError: undefined,
    certificates: [],
    certificateError: undefined,
    bySelf: undefined,
    expired: expires === undefined || expires.getTime() < opts.now.getTime(),
    failure: undefined,
  };
  if (previous !== undefined) {
    let prevKeys: PublicKey[] = [];
    try {
      prevKeys = validateRootCertificates(previous, opts.gun, opts.now, false);
    } catch (err) {
      if (!(err instanceof SignetError)) throw err;
      result.previousCertificateError = err;
    }
    result.byPrevious = verifyDelegate(next, certKeySet(prevKeys, rootThreshold(previous)), opts.budget);
    if (!result.byPrevious.ok) {
      result.failure = 'previous';
      return result;
    }
  }
  try {
    const certs = validateRootCertificates(next.signed, opts.gun, opts.now, opts.certExpiry);
    result.certificates = opts.trustedKeys === undefined ? certs : opts.trustedKeys(certs);
  } catch (err) {
    if (!(err instanceof SignetError) || err.code !== 'CERTIFICATE') throw err;
    result.certificateError = err;
    result.failure = 'certificates';
    return result;
  }
  result.bySelf = verifyDelegate(next, certKeySet(result.certificates, rootThreshold(next.signed)), opts.budget);
  if (!result.bySelf.ok) result.failure = 'self';
  return result;
}

/** The keys a targets role is signed with, or why there are none. */
export type DelegatorKeys =
  | { ok: true; keys: RoleKeySet }
  | { ok: false; reason: 'invalid-name' | 'no-parent' | 'not-delegated'; parent: string };

/**
 * The key set the delegator of a targets role assigns to it (N:tuf/builder.go loadDelegation):
 * root's `targets` role for `targets`; for `targets/…`, the delegation its parent lists, and none
 * when the parent is not loaded (`parent` undefined) or does not delegate to it.
 */
export function delegatorKeys(
  role: string,
  root: RootSigned,
  parent: TargetsSigned | undefined,
  budget?: SignatureBudget,
): DelegatorKeys {
  if (role === 'targets') return { ok: true, keys: rootRoleKeys(root, 'targets', budget) };
  const parentName = parentRole(role) ?? 'targets';
  if (!isDelegationRole(role)) return { ok: false, reason: 'invalid-name', parent: parentName };
  if (parent === undefined) return { ok: false, reason: 'no-parent', parent: parentName };
  if (findDelegation(parent, role) === undefined) return { ok: false, reason: 'not-delegated', parent: parentName };
  return { ok: true, keys: delegationRoleKeys(parent, role, budget) };
}
