/** The enforcement API the proxy (src/proxy) and the admission webhook (src/admission) code against. */
import type { EnforcementMode } from './policy.js';

export type { EnforcementMode };

export interface Verdict {
  /** the image reference as asked */
  reference: string;
  /** the normalised GUN, e.g. "127.0.0.1:5000/team/app" or "docker.io/library/x" */
  repository: string;
  tag?: string;
  /** for a tag: the signed digest ("sha256:<hex>"); for a digest request: that digest */
  digest?: string;
  /** the mode of the policy rule that matched */
  mode: EnforcementMode;
  /** what the caller must do: false only when mode is 'enforce' and verification failed */
  allowed: boolean;
  /** set whenever verification failed (also in 'report' mode) */
  refusal?: { code: string; message: string };
  /** where the trust data came from: the server ('fresh', age since that update) or the disk cache */
  trust?: { source: 'fresh' | 'cached'; ageSeconds: number };
}

export interface Enforcer {
  /** A tag → its signed digest, through the trust data (warm cache; concurrent calls for one repo share one update). */
  checkTag(repository: string, tag: string): Promise<Verdict>;
  /**
   * A digest is allowed when it is the signed digest of some tag of the repository, or a child of a
   * signed image index. `fetchManifest` (optional) lets a caller such as the proxy fetch a signed index
   * with the client's upstream credentials; without it the enforcer uses its own registry client.
   */
  checkDigest(
    repository: string,
    digest: string,
    opts?: { fetchManifest?: (digest: string) => Promise<Buffer> },
  ): Promise<Verdict>;
  /** "name[:tag][@digest]" as it appears in a pod spec (Docker's normalisation; no tag and no digest → latest). */
  checkReference(ref: string): Promise<Verdict>;
  close(): Promise<void>;
}

export interface EnforcerOptions {
  /** absent → today's `signet verify` behaviour: enforce everything, pins from the trust dir */
  policyFile?: string;
  trustDir: string;
  /** the global --server: used for registries the policy names no trust server for */
  server?: string;
  /** the global --tls-ca file, for that server */
  tlsCa?: string;
  tofu?: boolean;
  /** how long a fresh update is reused before the next timestamp check (default 30 s) */
  cacheTtlMs?: number;
  /** overrides every rule's maxStale (like `verify --max-stale`) */
  maxStaleMs?: number;
  /** trust server for a registry host when neither the policy nor `server` names one (CLI: GlobalConfig.serverFor) */
  serverFor?: (registryHost: string, gun: string) => string;
  /** CA bundle for a trust server URL when neither the policy nor `tlsCa` gives one (CLI: GlobalConfig.caFor) */
  caFor?: (serverUrl: string) => Buffer | undefined;
  /** registry client settings, for fetching signed indexes in checkDigest */
  insecureRegistries?: string[];
  dockerConfigDir?: string;
  timeoutMs?: number;
  retries?: number;
  onWarning?: (msg: string) => void;
  /** clock for the cache (tests) */
  now?: () => number;
}
