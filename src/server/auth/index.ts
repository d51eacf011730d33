/**
 * Request authorisation, off unless configured (N:utils/http.go, C:cli/trust/trust.go): token auth
 * as notary-server runs it (token.ts), or basic auth from the config file or an htpasswd file
 * (basic.ts). Every refusal is 401 with a `WWW-Authenticate` challenge and notary's UNAUTHORIZED
 * envelope (common.ts). Synchronous and cheap on repeat, so the cached GET fast path can authorise too.
 */
import { basicAuthorizer, type BasicAuthSettings, type HtpasswdAuthSettings } from './basic.js';
import type { Authorizer } from './common.js';
import { tokenAuthorizer, type TokenAuthSettings } from './token.js';

export {
  accessRecords,
  unauthorizedBody,
  type AccessRecord,
  type AuthAction,
  type AuthFailure,
  type AuthResult,
  type Authorizer,
} from './common.js';
export {
  libtrustKeyId,
  parseRootBundle,
  verifyToken,
  TOKEN_LEEWAY_S,
  type TokenAuthSettings,
  type VerifiedToken,
} from './token.js';
export {
  parseHtpasswd,
  repositoryPatternMatches,
  type BasicAuthSettings,
  type BasicUser,
  type HtpasswdAuthSettings,
} from './basic.js';

export type AuthSettings = TokenAuthSettings | BasicAuthSettings | HtpasswdAuthSettings;

/** Builds the authorizer of the settings; throws USAGE on a bad bundle or user entry. */
export function createAuthorizer(settings: AuthSettings): Authorizer {
  return settings.type === 'token' ? tokenAuthorizer(settings) : basicAuthorizer(settings);
}
