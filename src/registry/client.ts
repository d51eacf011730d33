/**
 * A small OCI distribution (Docker Registry HTTP API v2) client: enough to resolve a tag or a
 * digest to the exact manifest bytes, their sha256 digest and size — the values Docker Content
 * Trust signs and checks.
 *
 *  - Scheme: loopback registries (localhost, 127.0.0.0/8, ::1) and `insecureRegistries` over plain
 *    HTTP, as Docker does; everything else over HTTPS. `docker.io` is served by registry-1.docker.io.
 *  - Auth: on 401 the `WWW-Authenticate` challenge is followed (Bearer token service with basic
 *    credentials, an identity token (OAuth refresh), or anonymously; or Basic). Tokens are cached per
 *    realm/service/scope/identity until they expire.
 *  - Integrity: the digest is computed from the bytes. A different `Docker-Content-Digest` header, or
 *    bytes that do not hash to a requested digest, is DIGEST_MISMATCH. Bodies are capped
 *    (`maxManifestBytes`, default 4 MiB like Docker): ENDLESS_DATA, and reading stops.
 */
import { createHash } from 'node:crypto';
import { Agent, request, type Dispatcher } from 'undici';
import { SignetError } from '../errors.js';
import { DockerCredentialStore, parseWwwAuthenticate, type Challenge, type Credential } from './auth.js';
import { DOCKER_HUB, checkDigest, parseImageReference, referenceString, type ImageReference } from './reference.js';

export interface ResolvedManifest {
  /** sha256:<hex> of the exact bytes */
  digest: string;
  size: number;
  mediaType: string;
  bytes: Buffer;
}

export interface RegistryClientOptions {
  /** host[:port] reached over plain http */
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
const MAX_TOKEN_BYTES = 1024 * 1024;
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
  const r = registry.toLowerCase();
  const insecure = insecureRegistries.some((e) => {
    const k = e
      .trim()
      .toLowerCase()
      .replace(/^[a-z]+:\/\//, '')
      .replace(/\/.*$/, '');
    return k === r || k === hostOf(r);
  });
  return `${insecure || isLoopbackRegistry(registry) ? 'http' : 'https'}://${registry}`;
}

function sha(alg: string, bytes: Buffer): string {
  return `${alg}:${createHash(alg).update(bytes).digest('hex')}`;
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  url: string;
}

function header(h: RawResponse['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function identityKey(c: Credential | undefined): string {
  if (!c) return 'anonymous';
  return 'identityToken' in c ? `identity:${sha('sha256', Buffer.from(c.identityToken))}` : `user:${c.username}`;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

export class RegistryClient {
  private readonly agent: Agent;
  private readonly creds: DockerCredentialStore;
  private readonly timeoutMs: number;
  private readonly maxManifestBytes: number;
  private readonly userAgent: string;
  private readonly retries: number;
  private readonly insecure: string[];
  private readonly challenges = new Map<string, Challenge>(); // base URL → last challenge
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pendingTokens = new Map<string, Promise<CachedToken>>();
  private closed = false;

  constructor(opts: RegistryClientOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.maxManifestBytes = opts.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
    this.userAgent = opts.userAgent ?? 'signet (registry client)';
    this.retries = Math.max(0, opts.retries ?? 2);
    this.insecure = opts.insecureRegistries ?? [];
    this.creds = new DockerCredentialStore({
      ...(opts.dockerConfigDir !== undefined ? { dockerConfigDir: opts.dockerConfigDir } : {}),
      ...(opts.credentials !== undefined ? { credentials: opts.credentials } : {}),
    });
    this.agent = new Agent({
      connect: { timeout: this.timeoutMs },
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
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
    await this.agent.close();
  }

  // ---------------------------------------------------------------- manifests

  private async fetchManifest(
    ref: ImageReference,
    reference: string,
    expected: string | undefined,
  ): Promise<ResolvedManifest> {
    if (this.closed)
      throw new SignetError('USAGE', 'RegistryClient is closed', { fix: 'Create a new RegistryClient.' });
    const base = registryBaseUrl(ref.registry, this.insecure);
    const url = `${base}/v2/${ref.repository}/manifests/${reference}`;
    const shown = expected !== undefined ? `${ref.name}@${reference}` : `${ref.name}:${reference}`;
    const res = await this.authorizedGet(ref, base, url, { Accept: ACCEPT });

    if (res.status !== 200) {
      const text = await readLimited(res.body, MAX_ERROR_BYTES, undefined, null).catch(() => Buffer.alloc(0));
      throw this.statusError(ref, shown, res, text);
    }
    const bytes = await readLimited(
      res.body,
      this.maxManifestBytes,
      header(res.headers, 'content-length'),
      `manifest ${shown} from ${ref.registry}`,
    );

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

  private statusError(ref: ImageReference, shown: string, res: RawResponse, body: Buffer): SignetError {
    const errors = parseErrors(body);
    const codes = errors.map((e) => e.code).filter(Boolean);
    const summary = errors.length
      ? errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ')
      : body.toString('utf8').slice(0, 200).trim();
    const details = { registry: ref.registry, reference: shown, status: res.status, codes };
    if (res.status === 404) {
      if (codes.includes('NAME_UNKNOWN')) {
        return new SignetError('NOT_FOUND', `repository unknown: ${ref.name} does not exist in ${ref.registry}`, {
          fix: `Check the repository name, or push the image first (docker push ${referenceString(ref)}).`,
          details,
        });
      }
      return new SignetError('NOT_FOUND', `manifest unknown: ${shown} is not in ${ref.registry}`, {
        fix: 'Check the tag or digest (and that the image was pushed to this registry).',
        details,
      });
    }
    if (res.status === 401 || res.status === 403) {
      return new SignetError(
        'UNAUTHORIZED',
        `registry ${ref.registry} denied pull access to ${ref.repository} (HTTP ${res.status}${summary ? `: ${summary}` : ''})`,
        {
          fix: `Log in with "docker login ${ref.registry}" (or pass credentials), and check you may pull ${ref.repository}.`,
          details,
        },
      );
    }
    if (res.status === 429) {
      return new SignetError('REGISTRY', `registry ${ref.registry} is rate-limiting requests (HTTP 429) for ${shown}`, {
        fix: 'Wait and retry, or log in to get a higher pull limit.',
        details,
      });
    }
    return new SignetError(
      'REGISTRY',
      `registry ${ref.registry} answered HTTP ${res.status} for manifest ${shown}${summary ? `: ${summary}` : ''}`,
      { fix: 'Retry later; if it persists, check the registry logs.', details },
    );
  }

  // ---------------------------------------------------------------- auth

  private scopeFor(ref: ImageReference): string {
    return `repository:${ref.repository}:pull`;
  }

  private async authorizedGet(
    ref: ImageReference,
    base: string,
    url: string,
    headers: Record<string, string>,
  ): Promise<RawResponse> {
    const known = this.challenges.get(base);
    let auth = known ? await this.authorization(ref, known, undefined) : undefined;
    let res = await this.get(url, auth ? { ...headers, Authorization: auth } : headers, ref.registry);
    if (res.status !== 401) return res;

    const challenges = parseWwwAuthenticate(res.headers['www-authenticate']);
    const challenge = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
    if (!challenge) return res; // 401 without a usable challenge: reported by the caller
    await drain(res.body);
    this.challenges.set(base, challenge);
    auth = await this.authorization(ref, challenge, auth ?? '');
    res = await this.get(url, { ...headers, Authorization: auth }, ref.registry);
    return res;
  }

  /**
   * The Authorization header for a challenge. `rejected` is the header a 401 just refused ('' if none
   * was sent): a cached token equal to it is not reused. Concurrent fetches of one token are shared.
   */
  private async authorization(
    ref: ImageReference,
    challenge: Challenge,
    rejected: string | undefined,
  ): Promise<string> {
    const cred = await this.creds.get(ref.registry);
    if (challenge.scheme === 'basic') {
      if (!cred || !('username' in cred)) {
        throw new SignetError('UNAUTHORIZED', `registry ${ref.registry} requires a username and password`, {
          fix: `Run "docker login ${ref.registry}" (or pass credentials for ${ref.registry}).`,
          details: { registry: ref.registry },
        });
      }
      return `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`;
    }
    if (challenge.scheme !== 'bearer') {
      throw new SignetError(
        'UNAUTHORIZED',
        `registry ${ref.registry} asks for unsupported authentication "${challenge.scheme}"`,
        {
          fix: 'Only Bearer token and Basic authentication are supported.',
        },
      );
    }
    const realm = challenge.params['realm'];
    if (!realm) {
      throw new SignetError('REGISTRY', `registry ${ref.registry} sent a Bearer challenge without a realm`, {
        fix: 'The registry is misconfigured; contact its operator.',
      });
    }
    const service = challenge.params['service'] ?? '';
    const scope = this.scopeFor(ref);
    const key = `${realm}\n${service}\n${scope}\n${identityKey(cred)}`;
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > Date.now() && `Bearer ${cached.token}` !== rejected)
      return `Bearer ${cached.token}`;
    let pending = this.pendingTokens.get(key);
    if (!pending) {
      pending = this.fetchToken(ref, realm, service, scope, cred)
        .then((t) => {
          this.tokens.set(key, t);
          return t;
        })
        .finally(() => this.pendingTokens.delete(key));
      this.pendingTokens.set(key, pending);
    }
    const t = await pending;
    return `Bearer ${t.token}`;
  }

  private async fetchToken(
    ref: ImageReference,
    realm: string,
    service: string,
    scope: string,
    cred: Credential | undefined,
  ): Promise<CachedToken> {
    let realmUrl: URL;
    try {
      realmUrl = new URL(realm);
      if (realmUrl.protocol !== 'https:' && realmUrl.protocol !== 'http:') throw new Error('not http(s)');
    } catch {
      throw new SignetError(
        'REGISTRY',
        `registry ${ref.registry} names an invalid token realm ${JSON.stringify(realm)}`,
        {
          fix: 'The registry is misconfigured; contact its operator.',
        },
      );
    }
    let res: RawResponse;
    if (cred && 'identityToken' in cred) {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: cred.identityToken,
        client_id: 'docker',
        scope,
        ...(service ? { service } : {}),
      });
      res = await this.send(
        realmUrl.toString(),
        'POST',
        { 'Content-Type': 'application/x-www-form-urlencoded' },
        form.toString(),
        ref.registry,
      );
    } else {
      if (service) realmUrl.searchParams.set('service', service);
      realmUrl.searchParams.set('scope', scope);
      const headers: Record<string, string> = {};
      if (cred) {
        realmUrl.searchParams.set('account', cred.username);
        headers['Authorization'] = `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`;
      }
      res = await this.get(realmUrl.toString(), headers, ref.registry);
    }
    const body = await readLimited(
      res.body,
      MAX_TOKEN_BYTES,
      header(res.headers, 'content-length'),
      `token from ${realmUrl.origin}`,
    );
    if (res.status === 401 || res.status === 403) {
      throw new SignetError(
        'UNAUTHORIZED',
        `token server ${realmUrl.origin} for ${ref.registry} rejected ${cred ? 'the credentials' : 'anonymous access'} for ${scope} (HTTP ${res.status})`,
        {
          fix: cred
            ? `Check the username/password (run "docker login ${ref.registry}" again).`
            : `Log in with "docker login ${ref.registry}" (or pass credentials).`,
          details: { registry: ref.registry, realm, scope, status: res.status },
        },
      );
    }
    if (res.status !== 200) {
      throw new SignetError(
        'REGISTRY',
        `token server ${realmUrl.origin} for ${ref.registry} answered HTTP ${res.status}`,
        {
          fix: 'Retry later; if it persists, contact the registry operator.',
          details: { registry: ref.registry, realm, status: res.status },
        },
      );
    }
    let j: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      j = JSON.parse(body.toString('utf8')) as typeof j;
    } catch (e) {
      throw new SignetError('REGISTRY', `token server ${realmUrl.origin} returned something that is not JSON`, {
        fix: 'The registry is misconfigured; contact its operator.',
        cause: e,
      });
    }
    const token =
      typeof j.token === 'string' && j.token ? j.token : typeof j.access_token === 'string' ? j.access_token : '';
    if (!token) {
      throw new SignetError('UNAUTHORIZED', `token server ${realmUrl.origin} returned no token for ${scope}`, {
        fix: 'Check your credentials and that you may pull this repository.',
      });
    }
    const expiresIn = typeof j.expires_in === 'number' && j.expires_in > 0 ? j.expires_in : 60;
    // renew a little early; never cache for less than a few seconds
    const ttlMs = Math.max(5, expiresIn - 10) * 1000;
    return { token, expiresAt: Date.now() + ttlMs };
  }

  // ---------------------------------------------------------------- HTTP

  private get(url: string, headers: Record<string, string>, registry: string): Promise<RawResponse> {
    return this.send(url, 'GET', headers, undefined, registry);
  }

  /** One logical request: retries (network errors, 429, 5xx) and same-method redirects. */
  private async send(
    url: string,
    method: 'GET' | 'POST',
    headers: Record<string, string>,
    body: string | undefined,
    registry: string,
  ): Promise<RawResponse> {
    let attempt = 0;
    for (;;) {
      let res: RawResponse;
      try {
        res = await this.sendFollowing(url, method, headers, body);
      } catch (e) {
        if (e instanceof SignetError) throw e;
        if (attempt < this.retries && !isTlsError(e)) {
          await sleep(backoff(attempt++));
          continue;
        }
        throw networkError(registry, url, e);
      }
      if ((res.status === 429 || res.status >= 500) && attempt < this.retries) {
        await drain(res.body);
        await sleep(backoff(attempt++));
        continue;
      }
      return res;
    }
  }

  private async sendFollowing(
    url: string,
    method: 'GET' | 'POST',
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<RawResponse> {
    let current = url;
    let hdrs = headers;
    for (let hop = 0; ; hop++) {
      const r = await request(current, {
        method,
        headers: { 'User-Agent': this.userAgent, ...hdrs },
        ...(body !== undefined ? { body } : {}),
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const res: RawResponse = { status: r.statusCode, headers: r.headers, body: r.body, url: current };
      const location = header(r.headers, 'location');
      if (![301, 302, 303, 307, 308].includes(r.statusCode) || !location || method !== 'GET') return res;
      await drain(r.body);
      if (hop >= MAX_REDIRECTS) {
        throw new SignetError('REGISTRY', `too many redirects starting at ${url}`, {
          fix: 'The registry is misconfigured; contact its operator.',
        });
      }
      const next = new URL(location, current);
      if (next.origin !== new URL(current).origin) {
        const { Authorization: _dropped, ...rest } = hdrs;
        hdrs = rest;
      }
      current = next.toString();
    }
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

function backoff(attempt: number): number {
  return 150 * 2 ** attempt;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function errorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

function isTlsError(e: unknown): boolean {
  const code = errorCode(e) ?? '';
  const msg = e instanceof Error ? e.message : String(e);
  return (
    code === 'EPROTO' ||
    code.startsWith('ERR_TLS') ||
    code.startsWith('ERR_SSL') ||
    (/SSL|certificate|TLS/i.test(msg) && !/timeout/i.test(msg))
  );
}

function networkError(registry: string, url: string, e: unknown): SignetError {
  const code = errorCode(e);
  const msg = e instanceof Error ? e.message : String(e);
  const what = `${msg}${code && !msg.includes(code) ? ` (${code})` : ''}`;
  let fix = `Check that ${registry} is reachable and running, then retry.`;
  if (isTlsError(e)) {
    fix = url.startsWith('https:')
      ? `If ${registry} serves plain HTTP, add it to the insecure registries; if it uses a private CA, trust that CA.`
      : fix;
  } else if (/timeout/i.test(code ?? '') || /timeout|aborted/i.test(msg)) {
    fix = `${registry} did not answer in time; check the network or raise the timeout.`;
  }
  return new SignetError('NETWORK', `cannot reach registry ${registry} (${url}): ${what}`, {
    fix,
    cause: e,
    details: { registry, url, code },
  });
}

/** Stop reading a body and close its connection; the resulting abort error is expected. */
function abort(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

async function drain(body: Dispatcher.ResponseData['body']): Promise<void> {
  try {
    await body.dump({ limit: 64 * 1024 });
  } catch {
    /* ignore */
  }
}

/**
 * Read a body, at most `limit` bytes. A larger Content-Length is refused before reading; a body that
 * grows past the limit is cut off (ENDLESS_DATA). With `what === null`, a large body is just truncated.
 */
async function readLimited(
  body: Dispatcher.ResponseData['body'],
  limit: number,
  contentLength: string | undefined,
  what: string | null,
): Promise<Buffer> {
  const tooBig = (n: string): SignetError =>
    new SignetError('ENDLESS_DATA', `${what} is larger than the ${limit}-byte limit (${n})`, {
      fix: 'Refusing to read more. If this is a legitimate, very large manifest, raise maxManifestBytes; otherwise the registry is misbehaving.',
      details: { limit },
    });
  if (what !== null && contentLength !== undefined && Number(contentLength) > limit) {
    abort(body);
    throw tooBig(`Content-Length ${contentLength}`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const b = chunk as Buffer;
    total += b.length;
    if (total > limit) {
      abort(body);
      if (what === null) {
        chunks.push(b.subarray(0, b.length - (total - limit)));
        break;
      }
      throw tooBig(`more than ${limit} bytes received`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

function parseErrors(body: Buffer): { code?: string; message?: string }[] {
  try {
    const j = JSON.parse(body.toString('utf8')) as { errors?: unknown };
    if (!Array.isArray(j.errors)) return [];
    return j.errors
      .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null)
      .map((e) => ({
        ...(typeof e['code'] === 'string' ? { code: e['code'] } : {}),
        ...(typeof e['message'] === 'string' ? { message: e['message'] } : {}),
      }));
  } catch {
    return [];
  }
}
