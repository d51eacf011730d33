/** The HTTP floor under `remote/` and `registry/`: transport, challenges, tokens, where credentials may go. */
export { parseChallenges, basicAuthorization, type Challenge } from './challenge.js';
export { originOf, hostListEntry, hostListed, realmForCredentials, type RealmVerdict } from './origin.js';
export {
  HttpClient,
  header,
  isPlainHttpAnswer,
  type HttpClientOptions,
  type HttpErrors,
  type HttpRequest,
  type HttpResponse,
  type RequestBody,
  type Headers,
  type FailureKind,
} from './transport.js';
export { TokenCache, requestToken, TOKEN_BODY_LIMIT, type Credential, type Token, type TokenOutcome } from './token.js';
export { ChallengeAuth, type AuthTarget, type Answer } from './auth.js';
