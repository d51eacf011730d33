/**
 * A small OCI distribution (Docker Registry HTTP API v2) client: enough to resolve a tag or a
 * digest to the exact manifest bytes, their sha256 digest and size — the values Docker Content
 * Trust signs and checks.
 *
 *  - Scheme: loopback registries (localhost, 127.0.0.0/8, ::1) and `insecureRegistries` over plain
 *    HTTP, as Docker does; everything else over HTTPS. `docker.io` is served by registry-1.docker.io.
 *  - Auth: on 401 the `WWW-Authenticate` challenge is followed (Bearer token service with basic
 *    credentials, an identity token (OAuth refresh), or anonymously; or Basic), with the
 *    credential-origin rule of `src/http/origin.ts`: only the registry's own origin may ask.
 *  - Integrity: the digest is computed from the bytes. A different `Docker-Content-Digest` header, or
 *    bytes that do not hash to a requested digest, is DIGEST_MISMATCH. Bodies are capped
 *    (`maxManifestBytes`, default 4 MiB like Docker): ENDLESS_DATA, and reading stops.
 */
import { createHash } from 'node:crypto';
import { SignetError } from '../errors.js';
import { header, hostListed } from '../http/index.js';
import { DockerCredentialStore } from './credentials.js';
import { manifestStatusError } from './errors.js';
import { DOCKER_HUB, checkDigest, parseImageReference, referenceString, type ImageReference } from './reference.js';
import { RegistrySessions } from './session.js';

export interface ResolvedManifest {
  /** sha256:<hex> of the exact bytes */
  digest: string;
  size: number;
  mediaType: string;
  bytes: Buffer;
}

export interface RegistryClientOptions {
  /**
   * host[:port] reached over plain http, matched exactly as Docker does: `reg.example.com` is that
   * name on the default port only, never `reg.example.com:5000`. Token realms at exactly these
   * host:port may receive credentials over http.
   */
  insecureRegistries?: string[];
  /** reads config.json: credHelpers, auths (base64 auth, username/password, identitytoken), credsStore */
  dockerConfigDir?: string;
  /** per registry host[:port] ('docker.io' for Docker Hub); these win over the Docker config */
  credentials?: Record<string, { username: string; password: string } | { identityToken: string }>;
  /** per request (connect, headers, body); default 30 s */
  timeoutMs?: number;
  /** default 4 MiB */
  maxManifestBytes?: number;
  userAgent?: string;
  /** extra attempts on network errors, 429 and 5xx; default 2 */
  retries?: number;
  /** extra CA certificate(s), PEM, for registries and token services with a private CA */
  ca?: string | Buffer;
}

export const MEDIA_TYPES = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
} as const;

const ACCEPT = [
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.ociIndex,
].join(', ');

export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_ERROR_BYTES = 64 * 1024;
const MAX_REDIRECTS = 5;

/** True for registries Docker reaches over plain HTTP without configuration: localhost, 127.0.0.0/8, ::1. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = hostOf(registry);
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function hostOf(registry: string): string {
  const r = registry.toLowerCase();
  if (r.startsWith('[')) {
    const end = r.indexOf(']');
    return end === -1 ? r : r.slice(1, end);
  }
  const colon = r.lastIndexOf(':');
  return colon === -1 ? r : r.slice(0, colon);
}

/** Base URL of a registry's API ("…/v2/" is appended by callers). */
export function registryBaseUrl(registry: string, insecureRegistries: readonly string[] = []): string {
  if (registry === DOCKER_HUB) return 'https://registry-1.docker.io';
  const plain = hostListed(insecureRegistries, registry) || isLoopbackRegistry(registry);
  return `${plain ? 'http' : 'https'}://${registry}`;
}

function sha(alg: string, bytes: Buffer): string {
  return `${alg}:${createHash(alg).update(bytes).digest('hex')}`;
}

export class RegistryClient {
  private readonly maxManifestBytes: number;
  private readonly insecure: string[];
  private readonly sessions: RegistrySessions;
  private closed = false;

  constructor(opts: RegistryClientOptions = {}) {
    this.maxManifestBytes = opts.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
    this.insecure = opts.insecureRegistries ?? [];
    this.sessions = new RegistrySessions({
      creds: new DockerCredentialStore({
        ...(opts.dockerConfigDir !== undefined ? { dockerConfigDir: opts.dockerConfigDir } : {}),
        ...(opts.credentials !== undefined ? { credentials: opts.credentials } : {}),
      }),
      insecureRegistries: this.insecure,
      timeoutMs: opts.timeoutMs ?? 30_000,
      userAgent: opts.userAgent ?? 'signet (registry client)',
      retries: Math.max(0, opts.retries ?? 2),
      ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
    });
  }

  /** Resolve a tag (default 'latest') or digest reference to the manifest the registry serves. */
  async resolve(ref: ImageReference | string): Promise<ResolvedManifest> {
    const r = typeof ref === 'string' ? parseImageReference(ref, { defaultTag: 'latest' }) : revalidate(ref);
    if (r.digest !== undefined) return this.fetchManifest(r, r.digest, r.digest);
    return this.fetchManifest(r, r.tag ?? 'latest', undefined);
  }

  /** Fetch the manifest with this digest from the reference's repository; the bytes must hash to it. */
  async fetchByDigest(ref: ImageReference | string, digest: string): Promise<ResolvedManifest> {
    const r = typeof ref === 'string' ? parseImageReference(ref) : revalidate(ref);
    checkDigest(digest);
    return this.fetchManifest(r, digest, digest);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.sessions.close();
  }

  private async fetchManifest(
    ref: ImageReference,
    reference: string,
    expected: string | undefined,
  ): Promise<ResolvedManifest> {
    if (this.closed)
      throw new SignetError('USAGE', 'RegistryClient is closed', { fix: 'Create a new RegistryClient.' });
    const url = `${registryBaseUrl(ref.registry, this.insecure)}/v2/${ref.repository}/manifests/${reference}`;
    const shown = expected !== undefined ? `${ref.name}@${reference}` : `${ref.name}:${reference}`;
    const res = await this.sessions.exchange(
      ref,
      {
        method: 'GET',
        url,
        headers: { accept: ACCEPT },
        maxBytes: this.maxManifestBytes,
        otherBytes: MAX_ERROR_BYTES,
        redirects: MAX_REDIRECTS,
        what: `manifest ${shown} from ${ref.registry}`,
      },
      'pull',
    );
    if (res.status !== 200) throw manifestStatusError(ref, shown, res);
    const bytes = res.body;

    const digest = sha('sha256', bytes);
    const served = header(res.headers, 'docker-content-digest')?.trim();
    if (served) {
      const alg = served.slice(0, served.indexOf(':'));
      let ok: boolean;
      try {
        checkDigest(served);
        ok = sha(alg, bytes) === served;
      } catch {
        throw new SignetError(
          'REGISTRY',
          `registry ${ref.registry} sent an invalid Docker-Content-Digest header ${JSON.stringify(served)} for ${shown}`,
          { fix: 'The registry (or a proxy in front of it) is misbehaving; contact its operator.' },
        );
      }
      if (!ok) {
        throw new SignetError(
          'DIGEST_MISMATCH',
          `registry ${ref.registry} served manifest bytes for ${shown} that hash to ${digest}, but its Docker-Content-Digest header says ${served}`,
          {
            fix: 'Do not use this image: the registry or something between you and it is altering manifests. Retry against a trusted registry.',
            details: { registry: ref.registry, reference: shown, computed: digest, header: served },
          },
        );
      }
    }
    if (expected !== undefined) {
      const alg = expected.slice(0, expected.indexOf(':'));
      const got = sha(alg, bytes);
      if (got !== expected) {
        throw new SignetError(
          'DIGEST_MISMATCH',
          `registry ${ref.registry} served manifest bytes for ${shown} that hash to ${got}, not the requested ${expected}`,
          {
            fix: 'Do not use this image: the registry returned content other than the digest asked for.',
            details: { registry: ref.registry, reference: shown, computed: got, expected },
          },
        );
      }
    }

    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch (e) {
      throw new SignetError('REGISTRY', `manifest ${shown} from ${ref.registry} is not JSON`, {
        fix: 'Check that the reference names an image manifest in this registry.',
        cause: e,
      });
    }
    const declared =
      typeof parsed === 'object' && parsed !== null && typeof (parsed as { mediaType?: unknown }).mediaType === 'string'
        ? (parsed as { mediaType: string }).mediaType
        : undefined;
    const contentType = header(res.headers, 'content-type')?.split(';')[0]?.trim();
    const mediaType = declared ?? contentType ?? '';
    return { digest, size: bytes.length, mediaType, bytes };
  }
}

// ------------------------------------------------------------------ helpers

/** A caller-built ImageReference goes into URLs: check it with the same rules as a parsed one. */
function revalidate(ref: ImageReference): ImageReference {
  if (
    typeof ref !== 'object' ||
    ref === null ||
    typeof ref.registry !== 'string' ||
    typeof ref.repository !== 'string'
  ) {
    throw new SignetError('USAGE', 'image reference must have a registry and a repository', {
      fix: 'Build references with parseImageReference().',
    });
  }
  return parseImageReference(referenceString(ref));
}
