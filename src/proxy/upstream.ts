/**
 * The proxy's HTTP client of the upstream registry: a keep-alive pool to its origin, and a separate
 * agent for storage redirects (blob downloads that the registry hands to S3, GCS, a CDN…).
 */
import type { Readable } from 'node:stream';
import { Agent, Pool, type Dispatcher } from 'undici';

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

export interface UpstreamOptions {
  /** http(s)://host[:port] of the registry */
  url: string;
  /** PEM CA bundle for an https upstream with a private CA */
  ca?: Buffer;
  /** connect, response headers and idle body timeout */
  timeoutMs: number;
  /** keep-alive connections to the upstream */
  connections: number;
}

const MAX_REDIRECTS = 5;
const REDIRECT = new Set([301, 302, 303, 307, 308]);

export class Upstream {
  readonly origin: string;
  private readonly pool: Pool;
  private readonly agent: Agent;

  constructor(opts: UpstreamOptions) {
    this.origin = new URL(opts.url).origin;
    const common = {
      connect: { timeout: opts.timeoutMs, ...(opts.ca !== undefined ? { ca: opts.ca } : {}) },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    };
    this.pool = new Pool(this.origin, { ...common, connections: opts.connections, pipelining: 1 });
    this.agent = new Agent(common);
  }

  /** One request to the upstream origin; redirects are returned, not followed. */
  async request(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: Readable,
  ): Promise<UpstreamResponse> {
    const r = await this.pool.request({
      method: method as Dispatcher.HttpMethod,
      path,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    return { status: r.statusCode, headers: r.headers, body: r.body };
  }

  /**
   * A GET or HEAD that follows redirects (blob downloads). The client's Authorization goes only to the
   * upstream origin: a pre-signed storage URL needs none, and a token must not leak to another host.
   */
  async fetchFollowing(
    method: 'GET' | 'HEAD',
    path: string,
    headers: Record<string, string>,
  ): Promise<UpstreamResponse> {
    let res = await this.request(method, path, headers);
    let url = new URL(path, this.origin);
    for (let hop = 0; hop < MAX_REDIRECTS && REDIRECT.has(res.status); hop++) {
      const location = res.headers.location;
      if (typeof location !== 'string') break;
      const next = new URL(location, url);
      if (next.protocol !== 'https:' && next.protocol !== 'http:') break;
      res.body.resume();
      url = next;
      const sameOrigin = next.origin === this.origin;
      const { authorization: _auth, ...rest } = headers;
      const h = sameOrigin ? headers : rest;
      const r = await (sameOrigin ? this.pool : this.agent).request({
        origin: next.origin,
        method,
        path: `${next.pathname}${next.search}`,
        headers: h,
      });
      res = { status: r.statusCode, headers: r.headers, body: r.body };
    }
    return res;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.pool.close(), this.agent.close()]);
  }
}

/** Read a body up to `max` bytes; undefined when it is larger (the rest is discarded). */
export async function readBody(body: UpstreamResponse['body'], max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) {
      body.destroy();
      return undefined;
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}
