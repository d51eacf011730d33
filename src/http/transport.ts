/**
 * One HTTP exchange over undici, for the trust-server client and the registry client: a deadline on
 * the whole exchange (connect, headers, body), a byte cap on every body read, retries of GETs on
 * network failures and chosen statuses, and same-method redirects that never carry the
 * Authorization header to another origin. Failures reach the caller through its own `HttpErrors`,
 * so each client speaks its own dialect (notary's wording, or the registry's).
 */
import type { Dispatcher } from 'undici';
import Agent from 'undici/lib/dispatcher/agent.js';
import request from 'undici/lib/api/api-request.js';
import type { SignetError } from '../errors.js';
import { originOf } from './origin.js';

// undici's index loads every API it has (fetch, WebSocket, EventSource, mocks, caches…), about
// two-thirds of its load time; a one-shot command needs only the Agent and request(), taken from
// the files that define them (undici has no exports map; its index exports these same objects;
// their types are declared in undici-files.d.ts). As plain imports, the CLI bundle can include them.

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
  /** used instead of an own Agent (tests); not closed by `close()` */
  dispatcher?: Dispatcher;
}

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** cap on a 2xx body; more is `tooLarge` and reading stops */
  maxBytes: number;
  /** any other body is cut at this many bytes (an error body is only ever shown in part) */
  otherBytes: number;
  /** same-method redirects to follow (GET only); default 0 */
  redirects?: number;
  /** what is being fetched, for error messages */
  what: string;
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
  private readonly dispatcher: Dispatcher;
  private readonly ownDispatcher: boolean;

  constructor(private readonly opts: HttpClientOptions) {
    this.ownDispatcher = opts.dispatcher === undefined;
    this.dispatcher =
      opts.dispatcher ??
      new Agent({
        connect: {
          timeout: opts.timeoutMs,
          ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
          rejectUnauthorized: opts.insecureSkipVerify !== true,
        },
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
      });
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

  async close(): Promise<void> {
    if (this.ownDispatcher) await this.dispatcher.close();
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
    const { timeoutMs } = this.opts;
    const signal = AbortSignal.timeout(timeoutMs);
    const u = new URL(url);
    let res: Dispatcher.ResponseData;
    try {
      res = await request.call(this.dispatcher, {
        origin: u.origin,
        path: u.pathname + u.search,
        method: req.method,
        headers: {
          'user-agent': this.opts.userAgent,
          ...headers,
          ...(req.body !== undefined ? { 'content-length': String(Buffer.byteLength(req.body)) } : {}),
        },
        ...(req.body !== undefined ? { body: req.body } : {}),
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (e) {
      throw new Failure(url, signal.aborted ? 'timeout' : classify(e), e);
    }
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    const limit = redirecting && isRedirect(res.statusCode) ? 0 : ok ? req.maxBytes : req.otherBytes;
    try {
      // a HEAD's Content-Length is the size of the GET body it describes; it carries none itself
      const declared = ok && req.method !== 'HEAD' ? header(res.headers, 'content-length') : undefined;
      const body = await readCapped(res.body, limit, declared, !ok);
      return { status: res.statusCode, headers: res.headers, body, url };
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
  body: Dispatcher.ResponseData['body'],
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
function discard(body: Dispatcher.ResponseData['body']): void {
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
