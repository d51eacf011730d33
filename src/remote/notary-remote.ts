/**
 * undici client of the Notary v1 HTTP API (reference §1). Every read has a byte cap (§1.11), every
 * request a timeout; GETs are retried on network errors and 5xx. URLs are built by plain
 * concatenation like the Go client (§1.2), without a trailing slash on the server URL (§1.1, #1516).
 */
import { Agent, type Dispatcher } from 'undici';
import { SignetError } from '../errors.js';
import { publicKeyFromJson, type KeyJson, type PublicKey } from '../tuf/index.js';
import { basicHeader, parseChallenges, repositoryScope, tokenFromResponse, type RemoteAuth } from './auth.js';
import {
  ERROR_BODY_LIMIT,
  endlessData,
  networkError,
  notFoundError,
  rejectedError,
  statusError,
  unauthorizedError,
} from './errors.js';
import { buildMultipart } from './multipart.js';

export interface RemoteOptions {
  /** Base URL of the trust server, e.g. https://notary.example.com:4443; a trailing slash is stripped. */
  serverUrl: string;
  /** Extra CA certificate(s), PEM. */
  ca?: string | Buffer;
  /** Skip TLS verification (what Docker does for loopback registries, §5.2). Insecure. */
  insecureSkipVerify?: boolean;
  /** Per-request deadline (headers and body), default 30 s. */
  timeoutMs?: number;
  /** Extra attempts for GETs on network errors and 5xx, default 2. */
  retries?: number;
  auth?: RemoteAuth;
  userAgent?: string;
  /** Delay before retry n (0-based), default 100 ms × 2^n. Tests set 0. */
  retryDelayMs?: (attempt: number) => number;
  /** Inject a dispatcher (tests); otherwise an Agent is made from ca/insecureSkipVerify. */
  dispatcher?: Dispatcher;
}

/** The Go client's caps (reference §1.11). */
export const KEY_BODY_LIMIT = 256 * 1024;

type Scope = 'pull' | 'push' | 'admin';
const SCOPE_ACTIONS: Record<Scope, string[]> = { pull: ['pull'], push: ['pull', 'push'], admin: ['*'] };

interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

interface SendOptions {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  gun?: string;
  scope: Scope;
  /** Max bytes of a 2xx body; error bodies are read up to ERROR_BODY_LIMIT. */
  maxBytes: number;
  what: string;
  body?: Buffer;
  contentType?: string;
}

export class NotaryRemote {
  readonly serverUrl: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownDispatcher: boolean;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly auth: RemoteAuth | undefined;
  private readonly userAgent: string;
  private readonly retryDelay: (attempt: number) => number;
  /** Bearer tokens by scope string, reused until a 401. */
  private readonly tokens = new Map<string, string>();

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
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.retries = opts.retries ?? 2;
    this.auth = opts.auth;
    this.userAgent = opts.userAgent ?? 'signet/0.1';
    this.retryDelay = opts.retryDelayMs ?? ((n) => 100 * 2 ** n);
    if (opts.dispatcher !== undefined) {
      this.dispatcher = opts.dispatcher;
      this.ownDispatcher = false;
    } else {
      this.dispatcher = new Agent({
        connect: {
          ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
          rejectUnauthorized: opts.insecureSkipVerify !== true,
        },
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      this.ownDispatcher = true;
    }
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

  /** One atomic multipart POST of the given roles (reference §1.6). */
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

  /** GET `<role>.key`: the server-held public key, created on first ask (§1.7). */
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

  /** POST `<role>.key`: a new pending server key; publish a root using it next (§1.7). */
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

  /** DELETE all of a GUN's trust data on the server (§1.8). */
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

  /** GET /v2/: 2xx, or 401 (auth needed later, §1.10), means the server is there. */
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
    if (this.ownDispatcher) await this.dispatcher.close();
  }

  // ---- transport -------------------------------------------------------------------------

  private async send(o: SendOptions): Promise<Response> {
    const attempts = o.method === 'GET' ? this.retries + 1 : 1;
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await sleep(this.retryDelay(attempt - 1));
      try {
        return await this.sendWithAuth(o);
      } catch (e) {
        lastError = e;
        const retriable =
          e instanceof SignetError && (e.code === 'NETWORK' || (e.code === 'HTTP' && Number(e.details?.status) >= 500));
        if (!retriable) throw e;
      }
    }
    throw lastError;
  }

  private async sendWithAuth(o: SendOptions): Promise<Response> {
    const actions = SCOPE_ACTIONS[o.scope];
    const scope = o.gun !== undefined ? repositoryScope(o.gun, actions) : 'registry:catalog:*';
    let authorization = this.initialAuthorization(scope);
    let res = await this.once(o, authorization);
    if (res.status === 401) {
      if (this.auth === undefined) throw unauthorizedError(o.url, false);
      this.tokens.delete(scope);
      authorization = await this.answerChallenge(res.headers['www-authenticate'], scope);
      if (authorization === undefined) throw unauthorizedError(o.url, true);
      res = await this.once(o, authorization);
      if (res.status === 401) throw unauthorizedError(o.url, true);
    }
    if (res.status >= 200 && res.status < 300) return res;
    if (res.status === 404) throw notFoundError(o.what, o.url);
    if (o.method !== 'GET' && res.status >= 400) throw rejectedError(res.status, res.body, o.what);
    if (res.status === 400) throw rejectedError(res.status, res.body, `the request for ${o.what}`);
    throw statusError(res.status, res.body, o.url);
  }

  private initialAuthorization(scope: string): string | undefined {
    if (this.auth === undefined) return undefined;
    if ('token' in this.auth) return `Bearer ${this.auth.token}`;
    const cached = this.tokens.get(scope);
    return cached !== undefined ? `Bearer ${cached}` : undefined;
  }

  private async answerChallenge(header: string | string[] | undefined, scope: string): Promise<string | undefined> {
    const auth = this.auth;
    if (auth === undefined) return undefined;
    const challenges = parseChallenges(header);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if ('token' in auth) return undefined; // a fixed token was refused: nothing else to try
    if (bearer === undefined) {
      return challenges.some((c) => c.scheme === 'basic') ? basicHeader(auth.username, auth.password) : undefined;
    }
    const realm = bearer.params.realm;
    if (realm === undefined || !/^https?:\/\//i.test(realm)) {
      throw new SignetError(
        'UNAUTHORIZED',
        `trust server sent a Bearer challenge without a usable realm: ${JSON.stringify(header)}`,
        {
          fix: 'the trust server auth configuration is broken; contact its operator',
        },
      );
    }
    const tokenUrl = new URL(realm);
    if (bearer.params.service !== undefined) tokenUrl.searchParams.set('service', bearer.params.service);
    tokenUrl.searchParams.set('scope', scope);
    tokenUrl.searchParams.set('account', auth.username);
    const res = await this.raw(
      'GET',
      tokenUrl.toString(),
      { authorization: basicHeader(auth.username, auth.password) },
      undefined,
      64 * 1024,
      'token',
    );
    if (res.status === 401 || res.status === 403) return undefined;
    if (res.status !== 200) throw statusError(res.status, res.body, tokenUrl.toString());
    const token = tokenFromResponse(res.body);
    if (token === undefined) {
      throw new SignetError('UNAUTHORIZED', `token server at ${tokenUrl.origin} returned no token`, {
        fix: 'check the token service configuration',
      });
    }
    this.tokens.set(scope, token);
    return `Bearer ${token}`;
  }

  private once(o: SendOptions, authorization: string | undefined): Promise<Response> {
    const headers: Record<string, string> = {};
    if (authorization !== undefined) headers.authorization = authorization;
    if (o.contentType !== undefined) headers['content-type'] = o.contentType;
    return this.raw(o.method, o.url, headers, o.body, o.maxBytes, o.what);
  }

  /** One HTTP exchange; the 2xx body is capped at maxBytes, other bodies at 1 KiB. */
  private async raw(
    method: string,
    url: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
    maxBytes: number,
    what: string,
  ): Promise<Response> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    let res: Dispatcher.ResponseData;
    try {
      const u = new URL(url);
      res = await this.dispatcher.request({
        origin: u.origin,
        path: u.pathname + u.search,
        method: method as Dispatcher.HttpMethod,
        headers: {
          'user-agent': this.userAgent,
          ...headers,
          ...(body !== undefined ? { 'content-length': String(body.length) } : {}),
        },
        body,
        signal,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
    } catch (e) {
      throw networkError(url, e);
    }
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    const limit = ok ? maxBytes : ERROR_BODY_LIMIT;
    const declared = Number(res.headers['content-length']);
    if (ok && Number.isFinite(declared) && declared > maxBytes) {
      discard(res.body);
      throw endlessData(what, maxBytes, url, `Content-Length ${declared}`);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of res.body) {
        const b = chunk as Buffer;
        total += b.length;
        if (total > limit) {
          if (!ok) {
            chunks.push(b.subarray(0, b.length - (total - limit)));
            total = limit;
            break; // error bodies: read only the first 1 KiB, like notary
          }
          discard(res.body);
          throw endlessData(what, maxBytes, url, 'body kept going');
        }
        chunks.push(b);
      }
    } catch (e) {
      if (e instanceof SignetError) throw e;
      throw networkError(url, e);
    } finally {
      if (!res.body.destroyed) discard(res.body);
    }
    return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks, total) };
  }
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

/** Stop reading a body; the abort error it then emits is expected, not a crash. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((r) => setTimeout(r, ms));
}
