/**
 * Authorized exchanges with registries, shared by the read client (client.ts) and the writer
 * (push.ts): one transport and one challenge state per registry host, credentials from the Docker
 * config, and a 401 answered only under the credential-origin rule of `src/http/origin.ts`.
 */
import { SignetError } from '../errors.js';
import {
  ChallengeAuth,
  HttpClient,
  originOf,
  type AuthTarget,
  type HttpRequest,
  type HttpResponse,
} from '../http/index.js';
import type { DockerCredentialStore } from './credentials.js';
import { credentialsWithheld, registryErrors } from './errors.js';
import type { ImageReference } from './reference.js';

export interface RegistrySessionOptions {
  creds: DockerCredentialStore;
  insecureRegistries: string[];
  timeoutMs: number;
  userAgent: string;
  /** extra attempts of a GET on network errors, 429 and 5xx */
  retries: number;
  ca?: string | Buffer;
}

/** `pull` for reads; `pull,push` for writes (the token scope's actions). */
export type RegistryAccess = 'pull' | 'pull,push';

export class RegistrySessions {
  private readonly perRegistry = new Map<string, { http: HttpClient; auth: ChallengeAuth }>();

  constructor(private readonly opts: RegistrySessionOptions) {}

  /** `req` to `ref`'s registry, answering one 401 from the registry's own origin. */
  async exchange(ref: ImageReference, req: HttpRequest, access: RegistryAccess): Promise<HttpResponse> {
    const { http, auth } = this.forRegistry(ref.registry);
    const verb = access === 'pull' ? 'pull' : 'push to';
    const target: AuthTarget = {
      owner: originOf(req.url),
      scope: `repository:${ref.repository}:${access}`,
      credential: await this.opts.creds.get(ref.registry),
      fix: `Check the credentials for ${ref.registry} (run "docker login ${ref.registry}" again) and that you may ${verb} ${ref.repository}.`,
    };
    const send = (authorization: string | undefined): Promise<HttpResponse> =>
      http.exchange({ ...req, headers: { ...req.headers, ...(authorization !== undefined ? { authorization } : {}) } });
    const first = auth.first(target);
    const res = await send(first);
    if (res.status !== 401) return res;
    const answer = await auth.answer(target, res, first);
    if (answer.ok) return send(answer.authorization);
    switch (answer.problem) {
      case 'no-challenge':
        return res; // a bare 401: reported with the registry's own error body
      case 'needs-password':
        throw new SignetError('UNAUTHORIZED', `registry ${ref.registry} requires a username and password`, {
          fix: `Run "docker login ${ref.registry}" (or pass credentials for ${ref.registry}).`,
          details: { registry: ref.registry },
        });
      default:
        throw credentialsWithheld(ref, answer.problem, answer.detail);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.perRegistry.values()].map((r) => r.http.close()));
    this.perRegistry.clear();
  }

  private forRegistry(registry: string): { http: HttpClient; auth: ChallengeAuth } {
    let r = this.perRegistry.get(registry);
    if (r === undefined) {
      const { timeoutMs, userAgent, retries, ca } = this.opts;
      const http = new HttpClient({
        timeoutMs,
        userAgent,
        errors: registryErrors(registry, timeoutMs),
        retries,
        retryDelayMs: (n) => 150 * 2 ** n,
        retryStatus: (status) => status === 429 || status >= 500,
        ...(ca !== undefined ? { ca } : {}),
      });
      r = { http, auth: new ChallengeAuth(http, this.opts.insecureRegistries) };
      this.perRegistry.set(registry, r);
    }
    return r;
  }
}
