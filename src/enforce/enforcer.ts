/**
 * The long-lived enforcer behind `signet proxy` and `signet admission`: decisions from a warm
 * in-process cache of verified trust data (src/enforce/warm-cache.ts), one entry per repository.
 * An entry is a successful, fresh trust update; it lives `cacheTtlMs` or until the earliest expiry
 * in the metadata, whichever is first. Decisions for a tag are memoised inside the entry, so a warm
 * hit is a few map lookups.
 */
import { readFileSync } from 'node:fs';
import { sha256Digest } from '../digest.js';
import { SignetError, isSignetError } from '../errors.js';
import { RegistryClient, parseImageReference, type ImageReference } from '../registry/index.js';
import type { TrustedRepo } from '../updater/index.js';
import { allowedDigests, metadataExpiry, signedTarget } from './evaluate.js';
import { DEFAULT_POLICY, loadPolicy, type PolicyRule } from './policy.js';
import { TrustSources } from './trust.js';
import type { Enforcer, EnforcerOptions, Verdict } from './types.js';
import { WarmCache } from './warm-cache.js';

export const DEFAULT_CACHE_TTL_MS = 30_000;
/**
 * A NOT_SIGNED answer from a cached copy older than this is checked once more against the trust
 * server: a pipeline deploys right after it signs, and a copy loaded before the signing would
 * refuse the new digest until the TTL ran out. At most one such reload per repository per second.
 */
const RECHECK_AFTER_MS = 1_000;

type Outcome = { digest: string } | { refusal: { code: string; message: string } };

interface RepoEntry {
  repo: TrustedRepo;
  rule: PolicyRule;
  familiar: string;
  source: 'fresh' | 'cached';
  checkedAt: number;
  /** when this process loaded the entry (for the NOT_SIGNED re-check) */
  loadedAt: number;
  tags: Map<string, Outcome>;
  digests?: Map<string, string[]>;
  /** child manifest digest → the signed index listing it (loaded once per entry) */
  children?: Promise<Map<string, string>>;
}

const MANIFEST_CAP = 4 * 1024 * 1024;

function refusalOf(e: unknown): { code: string; message: string } {
  if (isSignetError(e)) return { code: e.code, message: e.message };
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

export async function createEnforcer(opts: EnforcerOptions): Promise<Enforcer> {
  const policy = opts.policyFile !== undefined ? await loadPolicy(opts.policyFile) : DEFAULT_POLICY;
  let tlsCa: Buffer | undefined;
  if (opts.tlsCa !== undefined) {
    try {
      tlsCa = readFileSync(opts.tlsCa);
    } catch (e) {
      throw new SignetError('USAGE', `cannot read the --tls-ca file ${opts.tlsCa}`, {
        cause: e,
        fix: 'check --tls-ca',
      });
    }
  }
  const server = opts.server;
  const sources = new TrustSources({
    policy,
    trustDir: opts.trustDir,
    ...(server !== undefined ? { serverFor: () => server } : opts.serverFor ? { serverFor: opts.serverFor } : {}),
    ...(tlsCa !== undefined ? { caFor: () => tlsCa } : opts.caFor ? { caFor: opts.caFor } : {}),
    tofu: opts.tofu === true,
    ...(opts.maxStaleMs !== undefined ? { maxStaleMs: opts.maxStaleMs } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.retries !== undefined ? { retries: opts.retries } : {}),
    ...(opts.onWarning !== undefined ? { onWarning: opts.onWarning } : {}),
  });
  return new WarmEnforcer(sources, opts);
}

class WarmEnforcer implements Enforcer {
  private readonly cache: WarmCache<RepoEntry>;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private registry: RegistryClient | undefined;

  constructor(
    private readonly sources: TrustSources,
    private readonly opts: EnforcerOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.ttlMs = opts.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS;
    this.cache = new WarmCache(this.now);
  }

  async checkTag(repository: string, tag: string): Promise<Verdict> {
    return this.decide(repository, repository, (_ref, entry) => this.tagOutcome(entry, tag), tag);
  }

  async checkDigest(
    repository: string,
    digest: string,
    o: { fetchManifest?: (digest: string) => Promise<Buffer> } = {},
  ): Promise<Verdict> {
    return this.decide(repository, `${repository}@${digest}`, (ref, entry) =>
      this.digestOutcome(ref, entry, digest, o.fetchManifest),
    );
  }

  async checkReference(text: string): Promise<Verdict> {
    let ref: ImageReference;
    try {
      ref = parseImageReference(text, { defaultTag: 'latest' });
    } catch (e) {
      return { reference: text, repository: text, mode: 'enforce', allowed: false, refusal: refusalOf(e) };
    }
    const v =
      ref.digest !== undefined
        ? await this.checkDigest(ref.name, ref.digest)
        : await this.checkTag(ref.name, ref.tag ?? 'latest');
    return { ...v, reference: text, ...(ref.tag !== undefined ? { tag: ref.tag } : {}) };
  }

  async close(): Promise<void> {
    await this.sources.close();
    await this.registry?.close();
  }

  /** Match the rule, get the warm entry, and turn the outcome into a verdict under the rule's mode. */
  private async decide(
    repository: string,
    reference: string,
    outcome: (ref: ImageReference, entry: RepoEntry) => Outcome | Promise<Outcome>,
    tag?: string,
  ): Promise<Verdict> {
    let ref: ImageReference;
    try {
      ref = parseImageReference(repository);
    } catch (e) {
      return { reference, repository, mode: 'enforce', allowed: false, refusal: refusalOf(e) };
    }
    const rule = this.sources.ruleFor(ref.name);
    const base = { reference, repository: ref.name, ...(tag !== undefined ? { tag } : {}), mode: rule.mode };
    if (rule.mode === 'skip') return { ...base, allowed: true };
    let entry: RepoEntry;
    try {
      entry = await this.cache.get(ref.name, () => this.load(ref, rule));
    } catch (e) {
      return { ...base, allowed: rule.mode !== 'enforce', refusal: refusalOf(e) };
    }
    let out = await outcome(ref, entry);
    if ('refusal' in out && out.refusal.code === 'NOT_SIGNED' && this.now() - entry.loadedAt >= RECHECK_AFTER_MS) {
      this.cache.delete(ref.name);
      try {
        entry = await this.cache.get(ref.name, () => this.load(ref, rule));
        out = await outcome(ref, entry);
      } catch (e) {
        return { ...base, allowed: rule.mode !== 'enforce', refusal: refusalOf(e) };
      }
    }
    const trust = { source: entry.source, ageSeconds: Math.max(0, Math.floor((this.now() - entry.checkedAt) / 1000)) };
    if ('digest' in out) return { ...base, digest: out.digest, allowed: true, trust };
    return { ...base, allowed: rule.mode !== 'enforce', refusal: out.refusal, trust };
  }

  /** One trust update; cached only when fresh (a fallback to the disk cache is used once, not kept). */
  private async load(ref: ImageReference, rule: PolicyRule): Promise<{ value: RepoEntry; expiresAt?: number }> {
    const repo = await this.sources.updaterFor(ref, rule).refresh();
    const fresh = repo.freshness?.source !== 'cached';
    const value: RepoEntry = {
      repo,
      rule,
      familiar: ref.familiar,
      source: fresh ? 'fresh' : 'cached',
      checkedAt: repo.freshness?.checkedAt.getTime() ?? this.now(),
      loadedAt: this.now(),
      tags: new Map(),
    };
    if (!fresh) return { value };
    return { value, expiresAt: Math.min(this.now() + this.ttlMs, metadataExpiry(repo)) };
  }

  private tagOutcome(entry: RepoEntry, tag: string): Outcome {
    const hit = entry.tags.get(tag);
    if (hit !== undefined) return hit;
    let out: Outcome;
    try {
      out = { digest: signedTarget(entry.repo, tag, entry.rule, entry.familiar).digest };
    } catch (e) {
      out = { refusal: refusalOf(e) };
    }
    entry.tags.set(tag, out);
    return out;
  }

  private async digestOutcome(
    ref: ImageReference,
    entry: RepoEntry,
    digest: string,
    fetchManifest: ((digest: string) => Promise<Buffer>) | undefined,
  ): Promise<Outcome> {
    entry.digests ??= allowedDigests(entry.repo, entry.rule, entry.familiar);
    if (entry.digests.has(digest)) return { digest };
    if (entry.children === undefined) {
      const p = this.indexChildren(ref, [...entry.digests.keys()], fetchManifest);
      entry.children = p;
      p.catch(() => {
        if (entry.children === p) delete entry.children; // retry on the next request
      });
    }
    try {
      if ((await entry.children).has(digest)) return { digest };
    } catch (e) {
      return { refusal: refusalOf(e) };
    }
    return {
      refusal: {
        code: 'NOT_SIGNED',
        message: `${ref.name}@${digest} is not the signed digest of any tag of ${ref.name}, nor a manifest of a signed image index`,
      },
    };
  }

  /** Fetch each signed manifest (bytes must hash to its digest); the children of those that are indexes. */
  private async indexChildren(
    ref: ImageReference,
    signed: string[],
    fetchManifest: ((digest: string) => Promise<Buffer>) | undefined,
  ): Promise<Map<string, string>> {
    const fetch = fetchManifest ?? (async (d: string) => (await this.registryClient().fetchByDigest(ref, d)).bytes);
    const out = new Map<string, string>();
    for (const d of signed) {
      const bytes = await fetch(d);
      if (bytes.length > MANIFEST_CAP || sha256Digest(bytes) !== d) {
        throw new SignetError('DIGEST_MISMATCH', `the registry served other bytes than ${ref.name}@${d}`, {
          fix: 'the registry (or something in between) alters manifests; do not use it',
        });
      }
      let doc: unknown;
      try {
        doc = JSON.parse(bytes.toString('utf8'));
      } catch {
        continue;
      }
      const manifests = (doc as { manifests?: unknown }).manifests;
      if (!Array.isArray(manifests)) continue;
      for (const m of manifests) {
        const child = (m as { digest?: unknown }).digest;
        if (typeof child === 'string') out.set(child, d);
      }
    }
    return out;
  }

  private registryClient(): RegistryClient {
    this.registry ??= new RegistryClient({
      ...(this.opts.insecureRegistries !== undefined ? { insecureRegistries: this.opts.insecureRegistries } : {}),
      ...(this.opts.dockerConfigDir !== undefined ? { dockerConfigDir: this.opts.dockerConfigDir } : {}),
      ...(this.opts.timeoutMs !== undefined ? { timeoutMs: this.opts.timeoutMs } : {}),
      ...(this.opts.retries !== undefined ? { retries: this.opts.retries } : {}),
    });
    return this.registry;
  }
}
