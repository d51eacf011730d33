/**
 * One HTTP exchange over Node's own http/https, for the trust-server client and the registry client: a deadline on
 * the whole exchange (connect, headers, body), a byte cap on every body read, retries of GETs on
 * network failures and chosen statuses, and same-method redirects that never carry the
 * Authorization header to another origin. Failures reach the caller through its own `HttpErrors`,
 * so each client speaks its own dialect (notary's wording, or the registry's).
 */
import type { Agent as HttpAgent, IncomingMessage } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import type { SignetError } from '../errors.js';
import { originOf } from './origin.js';

// Node's http/https rather than undici: a one-shot command makes a handful of requests, and undici
// costs it about 40 ms of module loading plus the compilation of its WebAssembly HTTP parser, more
// than the whole exchange (docs/performance.md, measurement 9). The long-running proxy, where
// undici's pooling pays, keeps it (src/proxy/upstream.ts).
// Required, not imported: an ES import of node:http reads every export, and on Node ≥ 22 that runs
// its lazy WebSocket/MessageEvent getters, which load Node's own copy of undici (~20 ms).
const require = createRequire(import.meta.url);
const http = require('node:http') as typeof import('node:http');
const https = require('node:https') as typeof import('node:https');

export type FailureKind = 'timeout' | 'tls' | 'network';

/** How a client words the transport's failures. */
export interface HttpErrors {
  /** a 2xx body over `maxBytes` (`reason`: the Content-Length, or that it kept going) */
  tooLarge(req: HttpRequest, url: string, reason: string): SignetError;
  /** connection, TLS or deadline failure (after the retries) */
  failed(req: HttpRequest, url: string, kind: FailureKind, cause: unknown): SignetError;
  tooManyRedirects(req: HttpRequest, url: string): SignetError;
}

export interface HttpClientOptions {
  /** deadline of one exchange: connect, headers and the whole body */
  timeoutMs: number;
  userAgent: string;
  errors: HttpErrors;
  /** extra attempts of a GET after a network failure or a `retryStatus`; default 0 */
  retries?: number;
  /** delay before retry n (0-based) */
  retryDelayMs?: (attempt: number) => number;
  /** statuses worth another GET, e.g. 5xx */
  retryStatus?: (status: number) => boolean;
  /** extra CA certificate(s), PEM */
  ca?: string | Buffer;
  insecureSkipVerify?: boolean;
}

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** cap on a 2xx body; more is `tooLarge` and reading stops */
  maxBytes: number;
  /** any other body is cut at this many bytes (an error body is only ever shown in part) */
  otherBytes: number;
  /** same-method redirects to follow (GET only); default 0 */
  redirects?: number;
  /** what is being fetched, for error messages */
  what: string;
}

/**
 * A request body; a list of pieces is sent in order as one body, without joining them into one
 * buffer first (a publish of a 100,000-tag targets.json is 8.9 MiB).
 */
export type RequestBody = Buffer | string | readonly Buffer[];

/** Its length in bytes (the Content-Length). */
function bodyLength(body: RequestBody): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (Buffer.isBuffer(body)) return body.length;
  return (body as readonly Buffer[]).reduce((n, b) => n + b.length, 0);
}

export type Headers = Record<string, string | string[] | undefined>;

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: Buffer;
  /** the URL that answered, after redirects */
  url: string;
}

export function header(h: Headers, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

class TooLarge extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

export class HttpClient {
  // keep-alive: a command's requests to one server share a connection (and one TLS handshake); an
  // idle pooled socket does not keep the process alive (Node unrefs it)
  private readonly agents: { http: HttpAgent; https: HttpsAgent };

  constructor(private readonly opts: HttpClientOptions) {
    this.agents = {
      http: new http.Agent({ keepAlive: true }),
      https: new https.Agent({
        keepAlive: true,
        ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
        rejectUnauthorized: opts.insecureSkipVerify !== true,
      }),
    };
  }

  /** One logical request: retries (GET) and redirects; the body read whole, within its cap. */
  async exchange(req: HttpRequest): Promise<HttpResponse> {
    const attempts = req.method === 'GET' ? (this.opts.retries ?? 0) + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      let res: HttpResponse;
      try {
        res = await this.following(req);
      } catch (e) {
        if (!(e instanceof Failure)) throw e;
        if (attempt < attempts && e.kind !== 'tls') {
          await sleep(this.delay(attempt - 1));
          continue;
        }
        throw this.opts.errors.failed(req, e.url, e.kind, e.cause);
      }
      if (attempt < attempts && this.opts.retryStatus?.(res.status) === true) {
        await sleep(this.delay(attempt - 1));
        continue;
      }
      return res;
    }
  }

  close(): Promise<void> {
    this.agents.http.destroy();
    this.agents.https.destroy();
    return Promise.resolve();
  }

  private delay(attempt: number): number {
    return this.opts.retryDelayMs?.(attempt) ?? 100 * 2 ** attempt;
  }

  private async following(req: HttpRequest): Promise<HttpResponse> {
    let url = req.url;
    let headers = req.headers ?? {};
    const hops = req.method === 'GET' ? (req.redirects ?? 0) : 0;
    for (let hop = 0; ; hop++) {
      const res = await this.once(req, url, headers, hops > 0);
      const location = header(res.headers, 'location');
      if (hops === 0 || !isRedirect(res.status) || location === undefined) return res;
      if (hop >= hops) throw this.opts.errors.tooManyRedirects(req, req.url);
      const next = new URL(location, url);
      // The credentials belong to the origin asked first; a hop elsewhere goes without them.
      if (originOf(next) !== originOf(url)) headers = withoutAuthorization(headers);
      url = next.toString();
    }
  }

  /** One request and its body; `redirecting`: a redirect's body is not kept. */
  private async once(
    req: HttpRequest,
    url: string,
    headers: Record<string, string>,
    redirecting: boolean,
  ): Promise<HttpResponse> {
    const signal = AbortSignal.timeout(this.opts.timeoutMs);
    const u = new URL(url);
    const secure = u.protocol === 'https:';
    let res: IncomingMessage;
    try {
      res = await send(u, secure ? https.request : http.request, {
        method: req.method,
        headers: {
          'user-agent': this.opts.userAgent,
          ...headers,
          ...(req.body !== undefined ? { 'content-length': String(bodyLength(req.body)) } : {}),
        },
        agent: secure ? this.agents.https : this.agents.http,
        signal,
        body: req.body,
      });
    } catch (e) {
      throw new Failure(url, signal.aborted ? 'timeout' : classify(e), e);
    }
    const statusCode = res.statusCode ?? 0;
    const resHeaders = headersOf(res);
    const ok = statusCode >= 200 && statusCode < 300;
    const limit = redirecting && isRedirect(statusCode) ? 0 : ok ? req.maxBytes : req.otherBytes;
    try {
      // a HEAD's Content-Length is the size of the GET body it describes; it carries none itself
      const declared = ok && req.method !== 'HEAD' ? header(resHeaders, 'content-length') : undefined;
      const body = await readCapped(res, limit, declared, !ok);
      return { status: statusCode, headers: resHeaders, body, url };
    } catch (e) {
      if (e instanceof TooLarge) throw this.opts.errors.tooLarge(req, url, e.reason);
      throw new Failure(url, signal.aborted ? 'timeout' : classify(e), e);
    }
  }
}

class Failure extends Error {
  constructor(
    readonly url: string,
    readonly kind: FailureKind,
    cause: unknown,
  ) {
    super(kind, { cause });
  }
}

/** Send one request; resolves with the response once its head has arrived. */
function send(
  u: URL,
  request: typeof http.request,
  o: {
    method: string;
    headers: Record<string, string>;
    agent: HttpAgent;
    signal: AbortSignal;
    body: RequestBody | undefined;
  },
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const r = request(u, { method: o.method, headers: o.headers, agent: o.agent, signal: o.signal }, resolve);
    r.on('error', reject);
    if (o.body === undefined || typeof o.body === 'string' || Buffer.isBuffer(o.body)) r.end(o.body);
    else {
      for (const piece of o.body as readonly Buffer[]) r.write(piece);
      r.end();
    }
  });
}

/** Header names in lower case; a repeated header as its list of values, as the clients read them. */
function headersOf(res: IncomingMessage): Headers {
  const out: Headers = {};
  for (const [name, values] of Object.entries(res.headersDistinct)) {
    if (values !== undefined) out[name] = values.length === 1 ? values[0] : values;
  }
  return out;
}

function isRedirect(status: number): boolean {
  return [301, 302, 303, 307, 308].includes(status);
}

function withoutAuthorization(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).filter(([k]) => k.toLowerCase() !== 'authorization'));
}

/**
 * Read a body, at most `limit` bytes. With `truncate` the rest is dropped; otherwise a larger
 * Content-Length is refused before reading and a body that grows past the limit is refused as it
 * arrives. Reading always stops at the limit and the connection is closed.
 */
async function readCapped(
  body: Readable,
  limit: number,
  contentLength: string | undefined,
  truncate: boolean,
): Promise<Buffer> {
  const declared = Number(contentLength);
  if (!truncate && contentLength !== undefined && Number.isFinite(declared) && declared > limit) {
    discard(body);
    throw new TooLarge(`Content-Length ${declared}`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body) {
      const b = chunk as Buffer;
      if (total + b.length > limit) {
        if (!truncate) throw new TooLarge(`more than ${limit} bytes received`);
        chunks.push(b.subarray(0, limit - total));
        total = limit;
        break;
      }
      chunks.push(b);
      total += b.length;
    }
  } finally {
    if (!body.destroyed) discard(body);
  }
  return Buffer.concat(chunks, total);
}

/** Stop reading a body; the abort error it then emits is expected. */
function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

function errorCode(e: unknown): string {
  let cur: unknown = e;
  for (let i = 0; i < 4 && typeof cur === 'object' && cur !== null; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return '';
}

/**
 * An https:// request answered in plain HTTP: OpenSSL reads the HTTP status line as a TLS record
 * and fails with "wrong version number" (ERR_SSL_WRONG_VERSION_NUMBER).
 */
export function isPlainHttpAnswer(e: unknown): boolean {
  let cur: unknown = e;
  for (let i = 0; i < 4 && typeof cur === 'object' && cur !== null; i++) {
    const { code, message } = cur as { code?: unknown; message?: unknown };
    if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') return true;
    if (typeof message === 'string' && /wrong version number/i.test(message)) return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

function classify(e: unknown): FailureKind {
  const code = errorCode(e);
  const name = e instanceof Error ? e.name : '';
  const msg = e instanceof Error ? e.message : String(e);
  if (/TIMEOUT/.test(code) || name === 'TimeoutError') return 'timeout';
  if (
    code === 'EPROTO' ||
    code.startsWith('ERR_TLS') ||
    code.startsWith('ERR_SSL') ||
    /SSL|certificate|TLS/i.test(msg)
  ) {
    return 'tls';
  }
  return 'network';
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((r) => setTimeout(r, ms));
}
