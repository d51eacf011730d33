/**
 * Registry writes and the few extra reads the sigstore bridge needs (OCI distribution-spec
 * `spec.md`): blob HEAD/GET/upload (POST then PUT `?digest=`), manifest PUT and DELETE, the tag
 * list (with `Link` pagination) and the OCI 1.1 referrers API probe.
 *
 * Kept apart from client.ts (the verified read path); both go through the same authorized
 * exchanges (session.ts), here with the token scope `repository:<name>:pull,push`.
 */
import { sha256Digest } from '../digest.js';
import { SignetError } from '../errors.js';
import { header, type HttpResponse } from '../http/index.js';
import { registryBaseUrl } from './client.js';
import { DockerCredentialStore } from './credentials.js';
import { checkDigest, type ImageReference } from './reference.js';
import { RegistrySessions } from './session.js';

export interface RegistryWriterOptions {
  insecureRegistries?: string[];
  dockerConfigDir?: string;
  timeoutMs?: number;
  userAgent?: string;
}

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

const MAX_BODY = 4 * 1024 * 1024;
const MAX_ERROR_BYTES = 64 * 1024;

/** Writes to (and a few reads from) one registry, for the repositories of the references it is given. */
export class RegistryWriter {
  private readonly insecure: string[];
  private readonly sessions: RegistrySessions;

  constructor(opts: RegistryWriterOptions = {}) {
    this.insecure = opts.insecureRegistries ?? [];
    this.sessions = new RegistrySessions({
      creds: new DockerCredentialStore(
        opts.dockerConfigDir !== undefined ? { dockerConfigDir: opts.dockerConfigDir } : {},
      ),
      insecureRegistries: this.insecure,
      timeoutMs: opts.timeoutMs ?? 30_000,
      userAgent: opts.userAgent ?? 'signet (registry writer)',
      retries: 0,
    });
  }

  async close(): Promise<void> {
    await this.sessions.close();
  }

  /** True when the repository already holds the blob. */
  async hasBlob(ref: ImageReference, digest: string): Promise<boolean> {
    const res = await this.call(ref, 'HEAD', `blobs/${checkDigest(digest)}`);
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw this.fail(ref, res.status, `HEAD blob ${digest}`);
  }

  /** A blob's bytes; they must hash to `digest`. */
  async getBlob(ref: ImageReference, digest: string, maxBytes = MAX_BODY): Promise<Buffer> {
    const res = await this.call(ref, 'GET', `blobs/${checkDigest(digest)}`, {}, undefined, maxBytes);
    if (res.status !== 200) {
      throw this.fail(ref, res.status, `GET blob ${digest}`);
    }
    const bytes = res.body;
    if (sha256Digest(bytes) !== digest) {
      throw new SignetError(
        'DIGEST_MISMATCH',
        `registry ${ref.registry} served blob bytes for ${ref.name}@${digest} that hash to ${sha256Digest(bytes)}`,
        {
          fix: 'Do not trust this registry content; check the registry and anything between you and it.',
        },
      );
    }
    return bytes;
  }

  /** Upload a blob unless the repository has it; returns its digest. */
  async putBlob(ref: ImageReference, bytes: Buffer): Promise<string> {
    const digest = sha256Digest(bytes);
    if (await this.hasBlob(ref, digest)) return digest;
    const start = await this.call(ref, 'POST', 'blobs/uploads/');
    const location = header(start.headers, 'location');
    if (start.status !== 202 || location === undefined) throw this.fail(ref, start.status, 'start blob upload');
    const url = new URL(location, `${registryBaseUrl(ref.registry, this.insecure)}/`);
    url.searchParams.set('digest', digest);
    const done = await this.send(ref, 'PUT', url.toString(), { 'Content-Type': 'application/octet-stream' }, bytes);
    if (done.status !== 201) throw this.fail(ref, done.status, `upload blob ${digest}`);
    return digest;
  }

  /** PUT a manifest under a tag or its digest; returns the digest of the bytes. */
  async putManifest(ref: ImageReference, reference: string, mediaType: string, bytes: Buffer): Promise<string> {
    const res = await this.call(ref, 'PUT', `manifests/${reference}`, { 'Content-Type': mediaType }, bytes);
    if (res.status !== 201) throw this.fail(ref, res.status, `PUT manifest ${reference}`);
    return sha256Digest(bytes);
  }

  /** DELETE a manifest by digest (every tag pointing at it goes with it). A missing one is fine. */
  async deleteManifest(ref: ImageReference, digest: string): Promise<void> {
    const res = await this.call(ref, 'DELETE', `manifests/${checkDigest(digest)}`);
    if (res.status === 202 || res.status === 200 || res.status === 404) return;
    throw this.fail(
      ref,
      res.status,
      `DELETE manifest ${digest}`,
      res.status === 405
        ? 'Enable deletes on the registry (docker-registry: storage.delete.enabled: true).'
        : undefined,
    );
  }

  /** Every tag of the repository (following `Link` pages); [] when the repository does not exist. */
  async listTags(ref: ImageReference): Promise<string[]> {
    const tags: string[] = [];
    let path = 'tags/list?n=1000';
    for (let page = 0; page < 1000; page++) {
      const res = await this.call(ref, 'GET', path);
      if (res.status === 404) {
        return tags;
      }
      if (res.status !== 200) {
        throw this.fail(ref, res.status, 'list tags');
      }
      const body = JSON.parse(res.body.toString('utf8')) as {
        tags?: unknown;
      };
      if (Array.isArray(body.tags)) for (const t of body.tags) if (typeof t === 'string') tags.push(t);
      const link = header(res.headers, 'link')?.match(/<([^>]+)>\s*;\s*rel="?next"?/)?.[1];
      if (link === undefined) return tags;
      const next = new URL(link, `${registryBaseUrl(ref.registry, this.insecure)}/v2/${ref.repository}/`);
      path = `tags/list${next.search}`;
    }
    return tags;
  }

  /** Does the registry serve the OCI 1.1 referrers API? (docker-registry 2.8 answers 404.) */
  async supportsReferrers(ref: ImageReference, digest: string): Promise<boolean> {
    const res = await this.call(ref, 'GET', `referrers/${checkDigest(digest)}`, {
      Accept: 'application/vnd.oci.image.index.v1+json',
    });
    const type = header(res.headers, 'content-type') ?? '';
    return res.status === 200 && type.startsWith('application/vnd.oci.image.index.v1+json');
  }

  /** Descriptors of the manifests whose `subject` is `digest` (OCI 1.1 referrers API), filtered by artifactType. */
  async listReferrers(
    ref: ImageReference,
    digest: string,
    artifactType: string,
  ): Promise<{ digest: string; artifactType?: string }[]> {
    const q = `referrers/${checkDigest(digest)}?artifactType=${encodeURIComponent(artifactType)}`;
    const res = await this.call(ref, 'GET', q, { Accept: 'application/vnd.oci.image.index.v1+json' });
    if (res.status !== 200) {
      if (res.status === 404) return [];
      throw this.fail(ref, res.status, `list referrers of ${digest}`);
    }
    const index = JSON.parse(res.body.toString('utf8')) as {
      manifests?: unknown;
    };
    if (!Array.isArray(index.manifests)) return [];
    return (index.manifests as { digest?: unknown; artifactType?: unknown }[])
      .filter((m) => typeof m.digest === 'string' && (m.artifactType === undefined || m.artifactType === artifactType))
      .map((m) => ({
        digest: m.digest as string,
        ...(typeof m.artifactType === 'string' ? { artifactType: m.artifactType } : {}),
      }));
  }

  // ---------------------------------------------------------------- HTTP

  private async call(
    ref: ImageReference,
    method: Method,
    path: string,
    headers: Record<string, string> = {},
    body?: Buffer,
    maxBytes = MAX_BODY,
  ): Promise<HttpResponse> {
    const url = `${registryBaseUrl(ref.registry, this.insecure)}/v2/${ref.repository}/${path}`;
    return this.send(ref, method, url, headers, body, maxBytes);
  }

  private async send(
    ref: ImageReference,
    method: Method,
    url: string,
    headers: Record<string, string>,
    body?: Buffer,
    maxBytes = MAX_BODY,
  ): Promise<HttpResponse> {
    const what = `${method} ${new URL(url).pathname}`;
    return this.sessions.exchange(
      ref,
      {
        method,
        url,
        headers,
        ...(body !== undefined ? { body } : {}),
        maxBytes,
        otherBytes: MAX_ERROR_BYTES,
        redirects: method === 'GET' ? 5 : 0,
        what,
      },
      'pull,push',
    );
  }

  private unauthorized(ref: ImageReference, what: string): SignetError {
    return new SignetError('UNAUTHORIZED', `registry ${ref.registry} ${what} (push to ${ref.repository})`, {
      fix: `Run "docker login ${ref.registry}" with an account that may push to ${ref.repository}.`,
    });
  }

  private fail(ref: ImageReference, status: number, what: string, fix?: string): SignetError {
    if (status === 401 || status === 403) return this.unauthorized(ref, `refused ${what} (HTTP ${status})`);
    return new SignetError(
      'REGISTRY',
      `registry ${ref.registry} answered HTTP ${status} to ${what} in ${ref.repository}`,
      {
        fix: fix ?? 'Check the registry logs; retry when it is healthy.',
        details: { registry: ref.registry, repository: ref.repository, status },
      },
    );
  }
}
