/**
 * Everything that is not a manifest read passes through, streamed both ways (no layer is held in
 * memory): /v2/, tags/list, referrers, blobs, and — when pushes are allowed — uploads and manifest PUTs.
 *
 * Blob downloads follow the upstream's redirects to storage inside the proxy, so nodes need to reach
 * only the proxy. A full blob GET is hashed as it streams; the last chunk is held back until the hash
 * matches the digest asked for, so a client never receives a complete wrong blob (clients check too).
 */
import { createHash, type Hash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { clientResponseHeaders, upstreamRequestHeaders } from './oci.js';
import type { Upstream, UpstreamResponse } from './upstream.js';

/** Forward the request as it is (path and query), stream the answer back; returns the status. */
export async function passThrough(upstream: Upstream, req: IncomingMessage, res: ServerResponse): Promise<number> {
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const headers = upstreamRequestHeaders(req.headers, { body: hasBody });
  const r = await upstream.request(method, req.url ?? '/', headers, hasBody ? req : undefined);
  return relay(upstream, r, res, method === 'HEAD');
}

/** A blob GET/HEAD: redirects followed, a full download checked against `digest` as it streams. */
export async function passBlob(
  upstream: Upstream,
  req: IncomingMessage,
  res: ServerResponse,
  digest: string,
): Promise<number> {
  const method = req.method === 'HEAD' ? 'HEAD' : 'GET';
  const headers = upstreamRequestHeaders(req.headers, { body: false });
  const r = await upstream.fetchFollowing(method, req.url ?? '/', headers);
  const alg = digest.slice(0, digest.indexOf(':'));
  const check =
    method === 'GET' && r.status === 200 && (alg === 'sha256' || alg === 'sha512')
      ? new DigestCheck(digest, alg)
      : undefined;
  return relay(upstream, r, res, method === 'HEAD', check);
}

async function relay(
  upstream: Upstream,
  r: UpstreamResponse,
  res: ServerResponse,
  head: boolean,
  check?: Transform,
): Promise<number> {
  res.writeHead(r.status, clientResponseHeaders(r.headers, upstream.origin));
  if (head) {
    r.body.resume();
    res.end();
    return r.status;
  }
  // a failure mid-stream destroys the client's connection, so a truncated body is never taken as whole
  await (check ? pipeline(r.body, check, res) : pipeline(r.body, res));
  return r.status;
}

class DigestCheck extends Transform {
  private readonly hash: Hash;
  private held: Buffer | undefined;

  constructor(
    private readonly digest: string,
    alg: string,
  ) {
    super();
    this.hash = createHash(alg);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    if (this.held) this.push(this.held);
    this.held = chunk;
    cb();
  }

  override _flush(cb: TransformCallback): void {
    const got = `${this.digest.slice(0, this.digest.indexOf(':'))}:${this.hash.digest('hex')}`;
    if (got !== this.digest) {
      cb(new Error(`upstream blob hashes to ${got}, not ${this.digest}`));
      return;
    }
    if (this.held) this.push(this.held);
    cb();
  }
}
