/**
 * The Bearer token flow of docker/distribution's `registry/client/auth` (the one notary's client
 * uses too): GET `<realm>?service=…&scope=…&account=…` with Basic credentials, or anonymously; with
 * an identity token, an OAuth POST `grant_type=refresh_token`. Tokens are cached until `expires_in`
 * (60 s when absent, as distribution's `minimumTokenLifetimeSeconds`), renewed a little early, and
 * concurrent requests for one token share one fetch.
 */
import { SignetError } from '../errors.js';
import { basicAuthorization } from './challenge.js';
import type { HttpClient, HttpResponse } from './transport.js';

export type Credential = { username: string; password: string } | { identityToken: string };

export interface TokenRequest {
  /** checked by `realmForCredentials` before any credential goes there */
  realm: URL;
  service: string | undefined;
  scope: string;
  credential: Credential | undefined;
}

export interface Token {
  token: string;
  /** ms since the epoch */
  expiresAt: number;
}

/** Tokens are small; a JWT with an x5c chain is a few KiB. */
export const TOKEN_BODY_LIMIT = 1024 * 1024;
const MIN_LIFETIME_S = 60;
const RENEW_EARLY_S = 10;

/** How the token service answered, for the caller to word (it knows whose realm it is). */
export type TokenOutcome =
  { ok: true; token: Token } | { ok: false; status: number; problem: 'refused' | 'status' | 'no-token' | 'not-json' };

export async function requestToken(http: HttpClient, req: TokenRequest, now = Date.now()): Promise<TokenOutcome> {
  const url = new URL(req.realm.toString());
  const cred = req.credential;
  let res: HttpResponse;
  if (cred !== undefined && 'identityToken' in cred) {
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: cred.identityToken,
      client_id: 'docker',
      scope: req.scope,
      ...(req.service !== undefined && req.service !== '' ? { service: req.service } : {}),
    });
    res = await http.exchange({
      method: 'POST',
      url: url.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      maxBytes: TOKEN_BODY_LIMIT,
      otherBytes: 1024,
      what: `token from ${url.origin}`,
    });
  } else {
    if (req.service !== undefined && req.service !== '') url.searchParams.set('service', req.service);
    url.searchParams.set('scope', req.scope);
    const headers: Record<string, string> = {};
    if (cred !== undefined) {
      url.searchParams.set('account', cred.username);
      headers.authorization = basicAuthorization(cred.username, cred.password);
    }
    res = await http.exchange({
      method: 'GET',
      url: url.toString(),
      headers,
      maxBytes: TOKEN_BODY_LIMIT,
      otherBytes: 1024,
      redirects: 5,
      what: `token from ${url.origin}`,
    });
  }
  if (res.status === 401 || res.status === 403) return { ok: false, status: res.status, problem: 'refused' };
  if (res.status !== 200) return { ok: false, status: res.status, problem: 'status' };
  let j: { token?: unknown; access_token?: unknown; expires_in?: unknown };
  try {
    j = JSON.parse(res.body.toString('utf8')) as typeof j;
  } catch {
    return { ok: false, status: res.status, problem: 'not-json' };
  }
  const token =
    typeof j.token === 'string' && j.token !== ''
      ? j.token
      : typeof j.access_token === 'string' && j.access_token !== ''
        ? j.access_token
        : undefined;
  if (token === undefined) return { ok: false, status: res.status, problem: 'no-token' };
  const lifetime = typeof j.expires_in === 'number' && j.expires_in >= MIN_LIFETIME_S ? j.expires_in : MIN_LIFETIME_S;
  return { ok: true, token: { token, expiresAt: now + (lifetime - RENEW_EARLY_S) * 1000 } };
}

/** Tokens by key (owner origin, realm, service, scope, identity); one fetch in flight per key. */
export class TokenCache {
  private readonly tokens = new Map<string, Token>();
  private readonly pending = new Map<string, Promise<Token>>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A valid cached token other than `rejected`, else the result of one shared `fetch`. */
  async get(key: string, fetch: () => Promise<Token>, rejected?: string): Promise<string> {
    const cached = this.tokens.get(key);
    if (cached !== undefined && cached.expiresAt > this.now() && cached.token !== rejected) return cached.token;
    let p = this.pending.get(key);
    if (p === undefined) {
      p = fetch()
        .then((t) => {
          this.tokens.set(key, t);
          return t;
        })
        .finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    return (await p).token;
  }

  /** The cached token for `key`, if still valid (for a first request before any challenge). */
  peek(key: string): string | undefined {
    const cached = this.tokens.get(key);
    return cached !== undefined && cached.expiresAt > this.now() ? cached.token : undefined;
  }

  forget(key: string): void {
    this.tokens.delete(key);
  }
}

/** A caller-facing error for a token service that did not give a token. */
export function tokenError(
  outcome: Extract<TokenOutcome, { ok: false }>,
  realm: URL,
  scope: string,
  fix: string,
): SignetError {
  const where = `token server ${realm.origin}`;
  switch (outcome.problem) {
    case 'refused':
      return new SignetError('UNAUTHORIZED', `${where} refused the request for ${scope} (HTTP ${outcome.status})`, {
        fix,
        details: { realm: realm.origin, scope, status: outcome.status },
      });
    case 'no-token':
      return new SignetError('UNAUTHORIZED', `${where} returned no token for ${scope}`, { fix });
    case 'not-json':
      return new SignetError('UNAUTHORIZED', `${where} returned something that is not JSON`, {
        fix: 'the token service is misconfigured; contact its operator',
      });
    default:
      // a failing token service is a server problem (exit 6), not a refusal
      return new SignetError('HTTP', `${where} answered HTTP ${outcome.status} for ${scope}`, {
        fix: 'retry later; if it persists, contact the operator of the token service',
        details: { realm: realm.origin, scope, status: outcome.status },
      });
  }
}
