/**
 * Client of the Notary v1 HTTP API (N:server/server.go). Every read has a byte cap (N:const.go), every
 * request a timeout; GETs are retried on network errors and 5xx. URLs are built by plain
 * concatenation like the Go client (N:server/server.go), without a trailing slash on the server URL (N:server/server.go, #1516).
 */
import { SignetError } from '../errors.js';
import { ChallengeAuth, HttpClient, originOf, type HttpErrors, type HttpResponse, type RequestBody } from '../http/index.js';
import { publicKeyFromJson, type KeyJson, type PublicKey } from '../tuf/index.js';
import {
  ERROR_BODY_LIMIT,
  endlessData,
  networkError,
  notFoundError,
  rejectedError,
  statusError,
  timeoutError,
  unauthorizedError,
} from './errors.js';
import { buildMultipart } from './multipart.js';

/**
 * Trust-server credentials: a username and password (Basic, or for the token service a Bearer
 * challenge names), or a fixed bearer token. Sent only to `serverUrl`'s origin and to a token realm
 * `realmForCredentials` allows.
 */
export type RemoteAuth = { username: string; password: string } | { token: string };

export interface RemoteOptions {
  /** Base URL of the trust server, e.g. https://notary.example.com:4443; a trailing slash is stripped. */
  serverUrl: string;
  /** Extra CA certificate(s), PEM. */
  ca?: string | Buffer;
  /** Skip TLS verification (what Docker does for loopback registries, C:cli/trust/trust.go). Insecure. */
  insecureSkipVerify?: boolean;
  /** Per-request deadline (headers and body), default 30 s. */
  timeoutMs?: number;
  /** Extra attempts for GETs on network errors and 5xx, default 2. */
  retries?: number;
  auth?: RemoteAuth;
  userAgent?: string;
  /** Delay before retry n (0-based), default 100 ms × 2^n. Tests set 0. */
  retryDelayMs?: (attempt: number) => number;
  /**
   * Exact host:port entries (`--insecure-registry`) whose plain-http token realms may receive
   * `auth`; any other http realm on another origin gets none (src/http/origin.ts).
   */
  plainHttpHosts?: readonly string[];
}

/** The Go client's caps (N:const.go). */
export const KEY_BODY_LIMIT = 256 * 1024;

type Scope = 'pull' | 'push' | 'admin';
const SCOPE_ACTIONS: Record<Scope, string> = { pull: 'pull', push: 'pull,push', admin: '*' };

/** The scope string for a GUN and actions, e.g. `repository:docker.io/library/x:pull,push`. */
export function repositoryScope(gun: string, actions: string): string {
  return `repository:${gun}:${actions}`;
}

interface SendOptions {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  gun?: string;
  scope: Scope;
  /** Max bytes of a 2xx body; error bodies are read up to ERROR_BODY_LIMIT. */
  maxBytes: number;
  what: string;
  body?: RequestBody;
  contentType?: string;
}

export class NotaryRemote {
  readonly serverUrl: string;
  private readonly http: HttpClient;
  private readonly auth: RemoteAuth | undefined;
  private readonly challenges: ChallengeAuth;
  private readonly origin: string;

  constructor(opts: RemoteOptions) {
    let url = opts.serverUrl.trim();
    while (url.endsWith('/')) url = url.slice(0, -1);
    if (!/^https?:\/\//i.test(url)) {
      throw new SignetError(
        'USAGE',
        `trust server URL must start with https:// or http://, got ${JSON.stringify(opts.serverUrl)}`,
        {
          fix: 'pass the full URL, e.g. --server https://notary.example.com:4443',
        },
      );
    }
    this.serverUrl = url;
    this.origin = originOf(url);
    this.auth = opts.auth;
    const timeoutMs = opts.timeoutMs ?? 30_000;
    this.http = new HttpClient({
      timeoutMs,
      userAgent: opts.userAgent ?? 'signet/0.1',
      errors: remoteErrors(timeoutMs),
      retries: opts.retries ?? 2,
      retryDelayMs: opts.retryDelayMs ?? ((n) => 100 * 2 ** n),
      retryStatus: (status) => status >= 500,
      ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
      ...(opts.insecureSkipVerify === true ? { insecureSkipVerify: true } : {}),
    });
    this.challenges = new ChallengeAuth(this.http, opts.plainHttpHosts ?? []);
  }

  /** `<server>/v2/<gun>/_trust/tuf/<file>` by concatenation, as notary does. */
  tufUrl(gun: string, file: string): string {
    return `${this.serverUrl}/v2/${gun}/_trust/tuf/${file}`;
  }

  /**
   * Download one metadata file: current (`role.json`), by checksum (`role.<hex>.json`) or by version
   * (`<v>.role.json`). Anything beyond `maxBytes` is ENDLESS_DATA; 404 is NOT_FOUND.
   */
  async getRole(
    gun: string,
    role: string,
    opts: { maxBytes: number; checksum?: string; version?: number },
  ): Promise<Buffer> {
    let file: string;
    if (opts.version !== undefined) file = `${opts.version}.${role}.json`;
    else if (opts.checksum !== undefined) file = `${role}.${opts.checksum}.json`;
    else file = `${role}.json`;
    const res = await this.send({
      method: 'GET',
      url: this.tufUrl(gun, file),
      gun,
      scope: 'pull',
      maxBytes: opts.maxBytes,
      what: role,
    });
    return res.body;
  }

  /** One atomic multipart POST of the given roles (N:server/handlers/default.go). */
  async publish(gun: string, parts: Array<{ role: string; bytes: Buffer }>): Promise<void> {
    const mp = buildMultipart(parts);
    await this.send({
      method: 'POST',
      url: this.tufUrl(gun, ''),
      gun,
      scope: 'push',
      maxBytes: ERROR_BODY_LIMIT,
      what: `the publish of ${parts.map((p) => p.role).join(', ')} for ${gun}`,
      body: mp.body,
      contentType: mp.contentType,
    });
  }

  /** GET `<role>.key`: the server-held public key, created on first ask (N:server/handlers/default.go). */
  async getServerKey(gun: string, role: 'timestamp' | 'snapshot'): Promise<PublicKey> {
    const res = await this.send({
      method: 'GET',
      url: this.tufUrl(gun, `${role}.key`),
      gun,
      scope: 'push',
      maxBytes: KEY_BODY_LIMIT,
      what: `${role} key`,
    });
    return parseKeyBody(res.body, role);
  }

  /** POST `<role>.key`: a new pending server key; publish a root using it next (N:server/handlers/default.go). */
  async rotateServerKey(gun: string, role: 'timestamp' | 'snapshot'): Promise<PublicKey> {
    const res = await this.send({
      method: 'POST',
      url: this.tufUrl(gun, `${role}.key`),
      gun,
      scope: 'admin',
      maxBytes: KEY_BODY_LIMIT,
      what: `the ${role} key rotation for ${gun}`,
      body: Buffer.alloc(0),
    });
    return parseKeyBody(res.body, role);
  }

  /** DELETE all of a GUN's trust data on the server. */
  async deleteRepository(gun: string): Promise<void> {
    await this.send({
      method: 'DELETE',
      url: this.tufUrl(gun, ''),
      gun,
      scope: 'admin',
      maxBytes: ERROR_BODY_LIMIT,
      what: `the deletion of ${gun}`,
    });
  }

  /** GET /v2/: 2xx, or 401 (auth needed later, N:server/server.go), means the server is there. */
  async ping(): Promise<void> {
    const url = `${this.serverUrl}/v2/`;
    try {
      await this.send({ method: 'GET', url, scope: 'pull', maxBytes: ERROR_BODY_LIMIT, what: 'ping' });
    } catch (e) {
      if (e instanceof SignetError && e.code === 'UNAUTHORIZED') return;
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  // ---- transport -------------------------------------------------------------------------

  private async send(o: SendOptions): Promise<HttpResponse> {
    const scope = o.gun !== undefined ? repositoryScope(o.gun, SCOPE_ACTIONS[o.scope]) : 'registry:catalog:*';
    const auth = this.auth;
    const target =
      auth !== undefined && !('token' in auth)
        ? {
            owner: this.origin,
            scope,
            credential: auth,
            fix: 'the credentials were refused or lack the needed scope; check the username/password for this repository',
          }
        : undefined;
    let authorization =
      auth !== undefined && 'token' in auth ? `Bearer ${auth.token}` : target && this.challenges.first(target);
    let res = await this.once(o, authorization);
    if (res.status === 401) {
      if (target === undefined) throw unauthorizedError(o.url, auth !== undefined);
      const answer = await this.challenges.answer(target, res, authorization);
      if (!answer.ok) {
        if (answer.problem === 'realm') {
          throw new SignetError('UNAUTHORIZED', `not sending trust server credentials: ${answer.detail}`, {
            fix: `the trust server at ${this.serverUrl} names an unsafe token service; ask its operator to serve the realm over https`,
            details: { status: 401, url: o.url },
          });
        }
        throw unauthorizedError(o.url, true);
      }
      authorization = answer.authorization;
      res = await this.once(o, authorization);
      if (res.status === 401) throw unauthorizedError(o.url, true);
    }
    if (res.status >= 200 && res.status < 300) return res;
    if (res.status === 404) throw notFoundError(o.what, o.url);
    if (o.method !== 'GET' && res.status >= 400) throw rejectedError(res.status, res.body, o.what);
    if (res.status === 400) throw rejectedError(res.status, res.body, `the request for ${o.what}`);
    throw statusError(res.status, res.body, o.url);
  }

  private once(o: SendOptions, authorization: string | undefined): Promise<HttpResponse> {
    const headers: Record<string, string> = {};
    if (authorization !== undefined) headers.authorization = authorization;
    if (o.contentType !== undefined) headers['content-type'] = o.contentType;
    return this.http.exchange({
      method: o.method,
      url: o.url,
      headers,
      ...(o.body !== undefined ? { body: o.body } : {}),
      maxBytes: o.maxBytes,
      otherBytes: ERROR_BODY_LIMIT,
      what: o.what,
    });
  }
}

/** The transport's failures in notary's words. */
function remoteErrors(timeoutMs: number): HttpErrors {
  return {
    tooLarge: (req, url, reason) => endlessData(req.what, req.maxBytes, url, reason),
    failed: (_req, url, kind, cause) =>
      kind === 'timeout' ? timeoutError(url, timeoutMs, cause) : networkError(url, cause),
    tooManyRedirects: (_req, url) => networkError(url, new Error('too many redirects')),
  };
}

function parseKeyBody(body: Buffer, role: string): PublicKey {
  let j: unknown;
  try {
    j = JSON.parse(body.toString('utf8'));
  } catch (cause) {
    throw new SignetError('MALFORMED_METADATA', `trust server returned an unparsable ${role} key`, { cause });
  }
  const o = j as { keytype?: unknown; keyval?: { public?: unknown } };
  if (typeof o?.keytype !== 'string' || typeof o.keyval?.public !== 'string') {
    throw new SignetError('MALFORMED_METADATA', `trust server returned a ${role} key without keytype/keyval.public`);
  }
  const kj = { keytype: o.keytype, keyval: { private: null, public: o.keyval.public } } as KeyJson;
  return publicKeyFromJson(kj);
}
