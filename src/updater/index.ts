/** Client-side TUF update: pure trusted set + cache/fetch/pinning (docs/verify.md). */
export { TrustedSet, type TrustedSetOptions } from './trusted-set.js';
export { verifyRoleSignatures } from './role-signatures.js';
export { Updater, type UpdaterOptions } from './updater.js';
export { MetadataCache, trustGunDir } from './cache.js';
export { formatAge } from './staleness.js';
export { defaultTrustServer } from './server-url.js';
export { DEFAULT_LIMITS, type UpdaterLimits } from './limits.js';
export {
  PinStore,
  applyPin,
  type PinSource,
  pinCommand,
  resolvePin,
  type PinEntry,
  type PinFollowed,
  type PinsFile,
  type ResolvedPin,
} from './pins.js';
export {
  DOCKER_ROLES,
  findTarget,
  listSignedTags,
  requireSignedTag,
  resolveTag,
  walkTargets,
  type ResolvedTag,
  type SignedTag,
  type TrustedRepo,
  type TargetsView,
  type TrustFreshness,
} from './targets.js';
export { cachedExpiries, cachedGuns, type CachedExpiry } from './expiry.js';
