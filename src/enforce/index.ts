/** src/enforce: one policy for verify, the proxy and the webhook, and the warm in-process enforcer (docs/policy.md). */
export type { EnforcementMode, Verdict, Enforcer, EnforcerOptions } from './types.js';
export { createEnforcer, DEFAULT_CACHE_TTL_MS } from './enforcer.js';
export {
  loadPolicy,
  parseDuration,
  DEFAULT_POLICY,
  type Policy,
  type PolicyRule,
  type PolicyPins,
  type TrustServerConfig,
} from './policy.js';
export {
  DEFAULT_RULE,
  allowedDigests,
  globToRegExp,
  matchRule,
  metadataExpiry,
  rulePin,
  signedTarget,
  signingRoles,
  trustServerFor,
} from './evaluate.js';
export { TrustSources, type TrustSourceOptions } from './trust.js';
export { WarmCache, type Loaded } from './warm-cache.js';
