/**
 * Registry writes and the few extra reads the sigstore bridge needs (OCI distribution-spec
 * `spec.md`): blob HEAD/GET/upload (POST then PUT `?digest=`), manifest PUT and DELETE, the tag
 * list (with `Link` pagination) and the OCI 1.1 referrers API probe.
 *
 * Kept apart from client.ts (the verified read path). Auth here: anonymous, Basic, and a Bearer
 * token fetched with GET (basic credentials or anonymous) for scope `repository:<name>:pull,push`;
 * identity tokens (OAuth refresh) are not used for writes.
 */
import { createHash } from 'node:crypto';
import { Agent, request, type Dispatcher } from 'undici';
import { SignetError } from '../errors.js';
import { DockerCredentialStore, parseWwwAuthenticate, type Challenge } from './auth.js';
import { registryBaseUrl } from './client.js';
import { checkDigest, type ImageReference } from './reference.js';

export interface RegistryWriterOptions {
  insecureRegistries?: string[];
  dockerConfigDir?: string;
  timeoutMs?: number;
  userAgent?: string;
}

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

const MAX_BODY = 4 * 1024 * 1024;

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

async function readCapped(body: Res['body'], limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const c of body) {
    const b = c as Buffer;
    total += b.length;
    if (total > limit) {
      body.destroy();
      throw new SignetError('ENDLESS_DATA', `${what} is larger than the ${limit}-byte limit`, {
        fix: 'The registry is serving more data than expected; check the repository contents.',
      });
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** Writes to (and a few reads from) one registry, for the repositories of the references it is given. */
export class RegistryWriter {
  private readonly agent: Agent;
  private readonly creds: DockerCredentialStore;
  private readonly insecure: string[];
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  private readonly auth = new Map<string, string>(); // repository base → Authorization header

  constructor(opts: RegistryWriterOptions = {}) {
    this.insecure = opts.insecureRegistries ?? [];
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.userAgent = opts.userAgent ?? 'signet (registry writer)';
    this.creds = new DockerCredentialStore(
      opts.dockerConfigDir !== undefined ? { dockerConfigDir: opts.dockerConfigDir } : {},
    );
    this.agent = new Agent({
      connect: { timeout: this.timeoutMs },
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** True when the repository already holds the blob. */
  async hasBlob(ref: ImageReference, digest: string): Promise<boolean> {
    const res = await this.call(ref, 'HEAD', `blobs/${checkDigest(digest)}`);
    await res.body.dump();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw this.fail(ref, res.status, `HEAD blob ${digest}`);
  }

  /** A blob's bytes; they must hash to `digest`. */
  async getBlob(ref: ImageReference, digest: string, maxBytes = MAX_BODY): Promise<Buffer> {
    const res = await this.call(ref, 'GET', `blobs/${checkDigest(digest)}`);
    if (res.status !== 200) {
      await res.body.dump();
      throw this.fail(ref, res.status, `GET blob ${digest}`);
    }
    const bytes = await readCapped(res.body, maxBytes, `blob ${digest}`);
    if (sha256(bytes) !== digest) {
      throw new SignetError(
        'DIGEST_MISMATCH',
        `registry ${ref.registry} served blob bytes for ${ref.name}@${digest} that hash to ${sha256(bytes)}`,
        {
          fix: 'Do not trust this registry content; check the registry and anything between you and it.',
        },
      );
    }
    return bytes;
  }

  /** Upload a blob unless the repository has it; returns its digest. */
  async putBlob(ref: ImageReference, bytes: Buffer): Promise<string> {
    const digest = sha256(bytes);
    if (await this.hasBlob(ref, digest)) return digest;
    const start = await this.call(ref, 'POST', 'blobs/uploads/');
    await start.body.dump();
    const location = first(start.headers['location']);
    if (start.status !== 202 || location === undefined) throw this.fail(ref, start.status, 'start blob upload');
    const url = new URL(location, `${registryBaseUrl(ref.registry, this.insecure)}/`);
    url.searchParams.set('digest', digest);
    const done = await this.send(ref, 'PUT', url.toString(), { 'Content-Type': 'application/octet-stream' }, bytes);
    await done.body.dump();
    if (done.status !== 201) throw this.fail(ref, done.status, `upload blob ${digest}`);
    return digest;
  }

  /** PUT a manifest under a tag or its digest; returns the digest of the bytes. */
  async putManifest(ref: ImageReference, reference: string, mediaType: string, bytes: Buffer): Promise<string> {
    const res = await this.call(ref, 'PUT', `manifests/${reference}`, { 'Content-Type': mediaType }, bytes);
    await res.body.dump();
    if (res.status !== 201) throw this.fail(ref, res.status, `PUT manifest ${reference}`);
    return sha256(bytes);
  }

  /** DELETE a manifest by digest (every tag pointing at it goes with it). A missing one is fine. */
  async deleteManifest(ref: ImageReference, digest: string): Promise<void> {
    const res = await this.call(ref, 'DELETE', `manifests/${checkDigest(digest)}`);
    await res.body.dump();
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
        await res.body.dump();
        return tags;
      }
      if (res.status !== 200) {
        await res.body.dump();
        throw this.fail(ref, res.status, 'list tags');
      }
      const body = JSON.parse((await readCapped(res.body, MAX_BODY, 'tag list')).toString('utf8')) as {
        tags?: unknown;
      };
      if (Array.isArray(body.tags)) for (const t of body.tags) if (typeof t === 'string') tags.push(t);
      const link = first(res.headers['link'])?.match(/<([^>]+)>\s*;\s*rel="?next"?/)?.[1];
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
    const type = first(res.headers['content-type']) ?? '';
    await res.body.dump();
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
      await res.body.dump();
      if (res.status === 404) return [];
      throw this.fail(ref, res.status, `list referrers of ${digest}`);
    }
    const index = JSON.parse((await readCapped(res.body, MAX_BODY, 'referrers index')).toString('utf8')) as {
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

  // ---------------------------------------------------------------- HTTP and auth

  private async call(
    ref: ImageReference,
    method: Method,
    path: string,
    headers: Record<string, string> = {},
    body?: Buffer,
  ): Promise<Res> {
    const url = `${registryBaseUrl(ref.registry, this.insecure)}/v2/${ref.repository}/${path}`;
    return this.send(ref, method, url, headers, body);
  }

  private async send(
    ref: ImageReference,
    method: Method,
    url: string,
    headers: Record<string, string>,
    body?: Buffer,
  ): Promise<Res> {
    const key = `${ref.registry}/${ref.repository}`;
    let res = await this.raw(method, url, headers, body, this.auth.get(key), ref);
    if (res.status !== 401) return res;
    const challenges = parseWwwAuthenticate(res.headers['www-authenticate']);
    const challenge = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
    await res.body.dump();
    if (challenge === undefined) throw this.fail(ref, 401, `${method} ${path(url)}`);
    const authorization = await this.authorize(ref, challenge);
    this.auth.set(key, authorization);
    res = await this.raw(method, url, headers, body, authorization, ref);
    return res;
  }

  private async raw(
    method: Method,
    url: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
    authorization: string | undefined,
    ref: ImageReference,
  ): Promise<Res> {
    try {
      const r = await request(url, {
        method,
        headers: {
          'User-Agent': this.userAgent,
          ...headers,
          ...(authorization !== undefined ? { Authorization: authorization } : {}),
          ...(body !== undefined ? { 'Content-Length': String(body.length) } : {}),
        },
        ...(body !== undefined ? { body } : {}),
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      return { status: r.statusCode, headers: r.headers, body: r.body };
    } catch (e) {
      throw new SignetError(
        'NETWORK',
        `cannot reach registry ${ref.registry} (${method} ${url}): ${e instanceof Error ? e.message : String(e)}`,
        {
          fix: `Check that ${ref.registry} is reachable (and add it with --insecure-registry if it serves plain HTTP).`,
          cause: e,
        },
      );
    }
  }

  private async authorize(ref: ImageReference, challenge: Challenge): Promise<string> {
    const cred = await this.creds.get(ref.registry);
    const basic =
      cred !== undefined && 'username' in cred
        ? `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`
        : undefined;
    if (challenge.scheme === 'basic') {
      if (basic === undefined) throw this.unauthorized(ref, 'requires a username and password');
      return basic;
    }
    const realm = challenge.params['realm'];
    if (realm === undefined) throw this.unauthorized(ref, 'sent a Bearer challenge without a realm');
    const url = new URL(realm);
    if (challenge.params['service'] !== undefined) url.searchParams.set('service', challenge.params['service']);
    url.searchParams.set('scope', `repository:${ref.repository}:pull,push`);
    if (cred !== undefined && 'username' in cred) url.searchParams.set('account', cred.username);
    const res = await this.raw('GET', url.toString(), {}, undefined, basic, ref);
    const text = (await readCapped(res.body, MAX_BODY, 'token response')).toString('utf8');
    if (res.status !== 200) throw this.unauthorized(ref, `token server answered HTTP ${res.status} for push access`);
    const j = JSON.parse(text) as { token?: unknown; access_token?: unknown };
    const token =
      typeof j.token === 'string' && j.token !== ''
        ? j.token
        : typeof j.access_token === 'string'
          ? j.access_token
          : '';
    if (token === '') throw this.unauthorized(ref, 'token server returned no token');
    return `Bearer ${token}`;
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

function path(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}
