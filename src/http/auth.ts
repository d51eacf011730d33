/**
 * Answering a 401 the way Docker's clients do, with the credential-origin rule of `origin.ts`
 * applied in one place: the challenge must come from the credentials' own origin, a Bearer realm
 * must pass `realmForCredentials`, and tokens are cached per owner origin (a token is only ever
 * sent to the origin whose challenge asked for it).
 */
import { sha256Hex } from '../digest.js';
import { basicAuthorization, parseChallenges, type Challenge } from './challenge.js';
import { originOf, realmForCredentials } from './origin.js';
import { TokenCache, requestToken, tokenError, type Credential } from './token.js';
import type { Headers, HttpClient } from './transport.js';

export interface AuthTarget {
  /** the origin the credentials belong to, e.g. `https://registry.example.com:5000` */
  owner: string;
  /** e.g. `repository:library/app:pull` */
  scope: string;
  credential: Credential | undefined;
  /** what to tell the user when the token service refuses */
  fix: string;
}

export type Answer =
  | { ok: true; authorization: string }
  | {
      ok: false;
      /**
       * foreign-challenge: the 401 came from another origin (after a redirect);
       * no-challenge: no Bearer or Basic challenge; needs-password: Basic without a username;
       * realm: the realm may not receive these credentials.
       */
      problem: 'foreign-challenge' | 'no-challenge' | 'needs-password' | 'realm';
      detail: string;
    };

export class ChallengeAuth {
  private readonly challenges = new Map<string, Challenge>();
  private readonly tokens: TokenCache;

  /** `plainHttpHosts`: exact host:port entries whose http realms may receive credentials. */
  constructor(
    private readonly http: HttpClient,
    private readonly plainHttpHosts: readonly string[] = [],
    now: () => number = Date.now,
  ) {
    this.tokens = new TokenCache(now);
  }

  /** The Authorization for a first request, from the last challenge `target.owner` sent, if any. */
  first(target: AuthTarget): string | undefined {
    const c = this.challenges.get(target.owner);
    if (c === undefined) return undefined;
    if (c.scheme === 'basic') {
      return target.credential !== undefined && 'username' in target.credential
        ? basicAuthorization(target.credential.username, target.credential.password)
        : undefined;
    }
    const token = this.tokens.peek(tokenKey(target, c));
    return token !== undefined ? `Bearer ${token}` : undefined;
  }

  /**
   * A request to `target.owner` ended in the 401 `res` (at `res.url`, after any redirects).
   * `rejected`: the Authorization that request carried, if any; a cached token equal to it is not
   * offered again. Token-service failures are thrown (SignetError).
   */
  async answer(
    target: AuthTarget,
    res: { url: string; headers: Headers },
    rejected: string | undefined,
  ): Promise<Answer> {
    if (originOf(res.url) !== target.owner) {
      return {
        ok: false,
        problem: 'foreign-challenge',
        detail: `${originOf(res.url)}, reached by a redirect from ${target.owner}, asked for credentials; they are only sent to ${target.owner}`,
      };
    }
    const all = parseChallenges(res.headers['www-authenticate']);
    const c = all.find((x) => x.scheme === 'bearer') ?? all.find((x) => x.scheme === 'basic');
    if (c === undefined) return { ok: false, problem: 'no-challenge', detail: 'no Bearer or Basic challenge' };
    this.challenges.set(target.owner, c);
    const cred = target.credential;
    if (c.scheme === 'basic') {
      if (cred === undefined || !('username' in cred)) {
        return { ok: false, problem: 'needs-password', detail: 'Basic authentication needs a username and password' };
      }
      return { ok: true, authorization: basicAuthorization(cred.username, cred.password) };
    }
    const realm = c.params.realm ?? '';
    const verdict = realmForCredentials(realm, target.owner, this.plainHttpHosts);
    // Without credentials nothing can leak: an anonymous token may come from any http(s) realm.
    const realmUrl = verdict.url;
    if (realmUrl === undefined || (!verdict.ok && cred !== undefined)) {
      return { ok: false, problem: 'realm', detail: verdict.ok ? '' : verdict.reason };
    }
    const service = c.params.service;
    const req = { realm: realmUrl, service, scope: target.scope, credential: cred };
    const rejectedToken = rejected?.startsWith('Bearer ') === true ? rejected.slice(7) : undefined;
    const token = await this.tokens.get(
      tokenKey(target, c),
      async () => {
        const outcome = await requestToken(this.http, req);
        if (!outcome.ok) throw tokenError(outcome, realmUrl, target.scope, target.fix);
        return outcome.token;
      },
      rejectedToken,
    );
    return { ok: true, authorization: `Bearer ${token}` };
  }
}

function tokenKey(target: AuthTarget, c: Challenge): string {
  const cred = target.credential;
  const identity =
    cred === undefined
      ? 'anonymous'
      : 'identityToken' in cred
        ? `identity:${sha256Hex(cred.identityToken)}`
        : `user:${cred.username}`;
  return [target.owner, c.params.realm ?? '', c.params.service ?? '', target.scope, identity].join('\n');
}
