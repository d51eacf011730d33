/**
 * A certificate pin follows root rotations (docs/client.md "Pinning"). notary 0.7 checks a cert pin
 * against every new root (N:trustpinning/certs.go ValidateRoot, N:trustpinning/trustpin.go certsCheck),
 * so a root key rotation breaks every pinned client. Signet uses the pin as the ANCHOR of the root chain:
 *  - with a root the pin allows in the cache, the ordinary chain walk (each root signed by the previous
 *    root's threshold and its own) reaches the new root, and the pin is moved to its certificates;
 *  - with no such root cached (a fresh verifier that only has the pin), when the server's current root
 *    is not one the pin allows, the versioned roots `<v>.root.json` (N:server/handlers/default.go
 *    GetHandler) are read from version 1 up to the first one the pin allows, and the chain is verified
 *    from it to the current root. The walk is bounded by maxRootRotations.
 * A CA pin is still applied to every root (TrustedSet); TOFU only to the first one.
 */
import { SignetError, isSignetError } from '../errors.js';
import type { NotaryRemote } from '../remote/index.js';
import { parseRoot, type Gun } from '../tuf/index.js';
import type { UpdaterLimits } from './limits.js';
import { budgetOf } from './role-signatures.js';
import type { PinFollowed, PinSource, ResolvedPin } from './pins.js';
import { TrustedSet, type TrustedSetOptions } from './trusted-set.js';

/** Failures of the trust server itself: they end the walk (anything else only disqualifies one version). */
const TRANSPORT = new Set(['NETWORK', 'TIMEOUT', 'HTTP', 'UNAUTHORIZED', 'SERVER_REJECTED', 'ENDLESS_DATA']);

interface WalkContext {
  gun: Gun;
  remote: NotaryRemote;
  limits: UpdaterLimits;
}

/**
 * Trust the server's current root (`current`, bytes of root.json) for a first bootstrap. A cert pin
 * that refuses it is searched for among the past root versions, and the chain is walked from there.
 */
export async function bootstrapFromPin(
  ctx: WalkContext,
  current: Buffer,
  base: TrustedSetOptions,
): Promise<TrustedSet> {
  const pin = base.pin ?? { kind: 'none' };
  try {
    return TrustedSet.fromNewRoot(current, base);
  } catch (e) {
    if (pin.kind !== 'certs' || !isSignetError(e, 'PIN_MISMATCH')) throw e;
    return await walkFromPinnedRoot(ctx, current, base, e);
  }
}

async function walkFromPinnedRoot(
  ctx: WalkContext,
  current: Buffer,
  base: TrustedSetOptions,
  mismatch: SignetError,
): Promise<TrustedSet> {
  const target = parseRoot(current).signed.version;
  if (target <= 1) throw mismatch;
  if (target - 1 > ctx.limits.maxRootRotations) {
    throw new SignetError(
      'PIN_MISMATCH',
      `${mismatch.message}; the current root is version ${target}, too many versions (over ${ctx.limits.maxRootRotations}) to look for the pinned root among them`,
      { cause: mismatch, fix: mismatch.fix ?? 'verify the new root key ID out of band and re-pin' },
    );
  }
  // one signature budget for every candidate root and the walk after it: a server cannot buy a fresh
  // budget per version with roots full of bogus signatures
  const budgeted = { ...base, budget: budgetOf(base) };
  let set: TrustedSet | undefined;
  let v = 1;
  for (; v < target && set === undefined; v++) {
    try {
      const bytes = await ctx.remote.getRole(ctx.gun, 'root', { maxBytes: ctx.limits.rootMaxBytes, version: v });
      set = TrustedSet.fromPinnedPastRoot(bytes, budgeted);
    } catch (e) {
      if (!isSignetError(e) || TRANSPORT.has(e.code) || e.code === 'SIGNATURE_BUDGET') throw e;
      // not a root the pin allows (or not a valid root at all): it cannot anchor the chain
    }
  }
  if (set === undefined) {
    throw new SignetError(
      'PIN_MISMATCH',
      `${mismatch.message}, and no earlier root version (1 to ${target - 1}) is one the pin allows`,
      {
        cause: mismatch,
        ...(mismatch.fix !== undefined ? { fix: mismatch.fix } : {}),
        ...(mismatch.details !== undefined ? { details: mismatch.details } : {}),
      },
    );
  }
  const anchor = set.root.signed.version;
  try {
    for (; v < target; v++) {
      const bytes = await ctx.remote.getRole(ctx.gun, 'root', { maxBytes: ctx.limits.rootMaxBytes, version: v });
      set.updateRoot(bytes, { final: false });
    }
    set.updateRoot(current, { final: true });
  } catch (e) {
    if (!isSignetError(e, 'ROOT_ROTATION')) throw e;
    // the pinned root is there, but the current root is not reached from it: that is the pin's refusal
    throw new SignetError(
      'PIN_MISMATCH',
      `${mismatch.message}; root version ${anchor} is one the pin allows, but the chain from it to version ${target} is broken: ${e.message}`,
      { cause: e, ...(mismatch.fix !== undefined ? { fix: mismatch.fix } : {}) },
    );
  }
  return set;
}

/**
 * After an update: when the trusted root was reached through the chain from a root the cert pin allows
 * but the pin names none of its certificates, move the pin (PinSource.follow) and say so once.
 */
export async function followPin(
  gun: Gun,
  set: TrustedSet,
  pin: ResolvedPin,
  pins: PinSource,
  warn: (msg: string) => void,
): Promise<PinFollowed | undefined> {
  const to = set.followedPin;
  if (to === undefined || pin.kind !== 'certs') return undefined;
  const followed: PinFollowed = {
    pattern: pin.pattern,
    from: pin.certs,
    to,
    rootVersion: set.root.signed.version,
    saved: pins.follow !== undefined,
  };
  let unsaved = '';
  try {
    if (pins.follow !== undefined) await pins.follow(gun, followed);
  } catch (e) {
    // a read-only trust dir must not fail a verification that succeeded: follow in memory
    followed.saved = false;
    unsaved = ` (could not save it: ${(e as Error).message})`;
  }
  const where = followed.saved
    ? 'pin updated'
    : `the configured pin (${pin.pattern}) is not rewritten${unsaved}: this process follows the chain, update the pin to ${to.join(' ')}`;
  warn(
    `root of ${gun} rotated from ${followed.from.join(', ')} to ${to.join(', ')} (root version ${followed.rootVersion}, signed by the pinned root); ${where}`,
  );
  return followed;
}
