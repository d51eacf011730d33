/**
 * The OCI distribution wire details the proxy needs: which route a path is, the error body, and
 * which headers travel between client and upstream (opencontainers/distribution-spec spec.md).
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';

export type Route =
  | { kind: 'base' }
  | { kind: 'manifest'; name: string; reference: string; byDigest: boolean }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'upload'; name: string }
  | { kind: 'tags'; name: string }
  | { kind: 'referrers'; name: string }
  | { kind: 'other' };

// distribution/reference: path components joined by '/'; tags and digests as the spec writes them
const NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const ROUTE = /^\/v2\/(.+)\/(manifests|blobs|tags|referrers)\/(.+)$/;

export const MANIFEST_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

/** The route of a request path (without the query), or undefined for a malformed name or reference. */
export function parseRoute(path: string): Route | undefined {
  if (path === '/v2/' || path === '/v2') return { kind: 'base' };
  const m = ROUTE.exec(path);
  if (!m) return { kind: 'other' };
  const [, name = '', kind, rest = ''] = m;
  if (!NAME.test(name) || name.length > 255) return undefined;
  switch (kind) {
    case 'manifests':
      if (DIGEST.test(rest)) return { kind: 'manifest', name, reference: rest, byDigest: true };
      return TAG.test(rest) ? { kind: 'manifest', name, reference: rest, byDigest: false } : undefined;
    case 'blobs':
      if (rest.startsWith('uploads')) return { kind: 'upload', name };
      return DIGEST.test(rest) ? { kind: 'blob', name, digest: rest } : undefined;
    case 'tags':
      return rest === 'list' ? { kind: 'tags', name } : { kind: 'other' };
    default:
      return DIGEST.test(rest) ? { kind: 'referrers', name } : undefined;
  }
}

/** `alg:hex` of the bytes, for the algorithms Node knows (sha256, sha384, sha512); undefined otherwise. */
export function digestOf(bytes: Buffer, digest: string): string | undefined {
  const alg = digest.slice(0, digest.indexOf(':'));
  if (alg !== 'sha256' && alg !== 'sha384' && alg !== 'sha512') return undefined;
  return `${alg}:${createHash(alg).update(bytes).digest('hex')}`;
}

/** Answer with an OCI error body; HEAD gets the status and headers only. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  head: boolean,
  extra: OutgoingHttpHeaders = {},
): void {
  const body = Buffer.from(JSON.stringify({ errors: [{ code, message }] }));
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': body.length,
    'docker-distribution-api-version': 'registry/2.0',
    ...extra,
  });
  res.end(head ? undefined : body);
}

// RFC 9110 §7.6.1 hop-by-hop fields, plus the ones Node or undici set themselves
const HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/** The client's request headers that go upstream: end-to-end ones only; no cookies. */
export function upstreamRequestHeaders(h: IncomingHttpHeaders, opts: { body: boolean }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || HOP.has(k) || k === 'cookie' || k.startsWith('x-forwarded-')) continue;
    // a body-less request must not announce one
    if (!opts.body && (k === 'content-length' || k === 'content-type' || k === 'expect')) continue;
    if (k === 'accept-encoding') continue; // bytes pass through unchanged, so digests and lengths hold
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** Upstream response headers for the client, minus hop-by-hop ones; `location` made relative when it
 *  points at the upstream itself, so that clients come back through the proxy (upload sessions). */
export function clientResponseHeaders(
  h: Record<string, string | string[] | undefined>,
  upstreamOrigin: string,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || HOP.has(k)) continue;
    if (k === 'location' && typeof v === 'string') {
      out[k] = relativeToOrigin(v, upstreamOrigin);
      continue;
    }
    out[k] = v;
  }
  return out;
}

function relativeToOrigin(location: string, origin: string): string {
  try {
    const u = new URL(location, origin);
    return u.origin === origin ? `${u.pathname}${u.search}` : location;
  } catch {
    return location;
  }
}

export function firstHeader(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}
