/**
 * Manifest GET/HEAD: the one place the proxy enforces content trust.
 *
 *  - by tag: the tag is resolved through the trust data and the upstream is asked for the SIGNED
 *    digest, never the tag, so a tag re-pointed after signing cannot change what is served;
 *  - by digest: served only when the digest is signed or a child of a signed index;
 *  - the bytes must hash to that digest, and are served with it as Docker-Content-Digest.
 *
 * Upstream answers other than 200 (401 with its Bearer challenge, 404) go back to the client as they
 * are, so a client that is not yet authenticated learns nothing from the trust data.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isSignetError } from '../errors.js';
import type { Enforcer, Verdict } from '../enforce/index.js';
import type { DecisionRecord, Observer } from './observe.js';
import {
  MANIFEST_ACCEPT,
  clientResponseHeaders,
  digestOf,
  firstHeader,
  sendError,
  upstreamRequestHeaders,
} from './oci.js';
import type { ManifestCache } from './manifest-cache.js';
import { readBody, type Upstream, type UpstreamResponse } from './upstream.js';

export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024; // Docker's own cap on a manifest

export interface ManifestContext {
  enforcer: Enforcer;
  upstream: Upstream;
  observer: Observer;
  /** the registry host the GUNs name ("docker.io" for Docker Hub) */
  registryName: string;
  reportOnly: boolean;
  cache: ManifestCache;
}

interface Fetched {
  status: number;
  headers: UpstreamResponse['headers'];
  bytes: Buffer;
}

export async function handleManifest(
  ctx: ManifestContext,
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
  reference: string,
  byDigest: boolean,
): Promise<number> {
  const head = req.method === 'HEAD';
  const repository = `${ctx.registryName}/${name}`;
  const headers = upstreamRequestHeaders(req.headers, { body: false });
  headers.accept ??= MANIFEST_ACCEPT;
  const fetch = (ref: string): Promise<Fetched> => fetchManifest(ctx.upstream, name, ref, headers);

  const verdict = await decide(ctx, repository, reference, byDigest, async (d) => {
    // the enforcer reads signed indexes: ask for every manifest type, whatever the client accepts
    const f = await fetchManifest(ctx.upstream, name, d, { ...headers, accept: MANIFEST_ACCEPT });
    if (f.status !== 200) throw new Error(`upstream answered HTTP ${f.status} for ${repository}@${d}`);
    return f.bytes;
  });
  const base: DecisionRecord = {
    decision: 'passed',
    mode: verdict.mode,
    repository,
    reference,
    digest: verdict.digest,
    trust: verdict.trust,
    remote: req.socket.remoteAddress,
  };
  const enforcing = verdict.mode === 'enforce' && !ctx.reportOnly;

  if (!enforcing) {
    // report or skip: the client gets exactly what the upstream serves for its reference
    const f = await fetch(reference);
    if (verdict.mode !== 'skip' && f.status === 200) {
      const served = digestOf(f.bytes, verdict.digest ?? 'sha256:');
      if (verdict.refusal) {
        ctx.observer.decision({ ...base, mode: 'report', decision: 'would-refuse', ...verdict.refusal });
      } else if (!byDigest && verdict.digest !== undefined && served !== verdict.digest) {
        ctx.observer.decision({
          ...base,
          mode: 'report',
          decision: 'would-pin',
          upstreamDigest: served,
          code: 'TAG_MOVED',
          message: `${repository}:${reference} points at ${served} upstream, signed ${verdict.digest}`,
        });
      } else ctx.observer.decision({ ...base, mode: 'report' });
    }
    return send(ctx, res, f, head);
  }

  if (!verdict.allowed || verdict.digest === undefined) {
    // An upstream refusal (401 + challenge, 403, 404) wins over ours: the client sees the registry's
    // answer until it is allowed to see the image at all.
    const probe = await fetch(reference);
    if (probe.status === 401 || probe.status === 403 || probe.status === 404) return send(ctx, res, probe, head);
    const refusal = verdict.refusal ?? {
      code: 'NOT_SIGNED',
      message: `${repository}:${reference} has no signed digest`,
    };
    ctx.observer.decision({ ...base, decision: 'refused', ...refusal });
    return deny(res, head, repository, reference, byDigest, refusal);
  }

  const digest = byDigest ? reference : verdict.digest;
  let m = ctx.cache.get(name, digest, headers.authorization, req.headers.accept);
  if (m === undefined) {
    const f = await fetch(digest);
    if (f.status !== 200) return send(ctx, res, f, head);
    const got = digestOf(f.bytes, digest);
    if (got !== digest) {
      const refusal = {
        code: 'DIGEST_MISMATCH',
        message: `the upstream served bytes for ${repository}@${digest} that hash to ${got ?? 'an unsupported algorithm'}`,
      };
      ctx.observer.decision({ ...base, decision: 'refused', ...refusal });
      return deny(res, head, repository, reference, byDigest, refusal);
    }
    m = { bytes: f.bytes, contentType: firstHeader(f.headers, 'content-type') ?? mediaTypeOf(f.bytes) };
    ctx.cache.put(name, digest, headers.authorization, m);
  }
  ctx.observer.decision({ ...base, decision: 'served', digest });
  res.writeHead(200, {
    'content-type': m.contentType,
    'content-length': m.bytes.length,
    'docker-content-digest': digest,
    etag: `"${digest}"`,
    'docker-distribution-api-version': 'registry/2.0',
  });
  res.end(head ? undefined : m.bytes);
  return 200;
}

/** The enforcer's verdict; an enforcer failure is a refusal (fail closed), never a pass. */
async function decide(
  ctx: ManifestContext,
  repository: string,
  reference: string,
  byDigest: boolean,
  fetchManifest: (digest: string) => Promise<Buffer>,
): Promise<Verdict> {
  try {
    return byDigest
      ? await ctx.enforcer.checkDigest(repository, reference, { fetchManifest })
      : await ctx.enforcer.checkTag(repository, reference);
  } catch (e) {
    const code = isSignetError(e) ? e.code : 'INTERNAL';
    const message = e instanceof Error ? e.message : String(e);
    ctx.observer.event('enforcer_error', { repository, reference, code, message });
    return {
      reference,
      repository,
      ...(byDigest ? { digest: reference } : { tag: reference }),
      mode: 'enforce',
      allowed: false,
      refusal: { code, message },
    };
  }
}

function deny(
  res: ServerResponse,
  head: boolean,
  repository: string,
  reference: string,
  byDigest: boolean,
  refusal: { code: string; message: string },
): number {
  const image = byDigest ? `${repository}@${reference}` : `${repository}:${reference}`;
  sendError(res, 403, 'DENIED', `signet: ${image} refused (${refusal.code}): ${refusal.message}`, head);
  return 403;
}

async function fetchManifest(
  upstream: Upstream,
  name: string,
  reference: string,
  headers: Record<string, string>,
): Promise<Fetched> {
  const r = await upstream.request('GET', `/v2/${name}/manifests/${reference}`, headers);
  const bytes = await readBody(r.body, MAX_MANIFEST_BYTES);
  if (bytes === undefined) {
    return { status: 502, headers: {}, bytes: Buffer.from(`manifest larger than ${MAX_MANIFEST_BYTES} bytes`) };
  }
  return { status: r.status, headers: r.headers, bytes };
}

function send(ctx: ManifestContext, res: ServerResponse, f: Fetched, head: boolean): number {
  if (f.status === 502 && Object.keys(f.headers).length === 0) {
    sendError(res, 502, 'MANIFEST_INVALID', f.bytes.toString('utf8'), head);
    return 502;
  }
  const h = clientResponseHeaders(f.headers, ctx.upstream.origin);
  h['content-length'] = f.bytes.length;
  res.writeHead(f.status, h);
  res.end(head ? undefined : f.bytes);
  return f.status;
}

function mediaTypeOf(bytes: Buffer): string {
  try {
    const m = (JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown }).mediaType;
    return typeof m === 'string' ? m : 'application/vnd.oci.image.manifest.v1+json';
  } catch {
    return 'application/octet-stream';
  }
}
