/**
 * Where a repository's trust data comes from under a policy: the rule, the trust server (rule, then
 * the policy's per-host map, then the caller's default), its CA, the pins (the rule's, else the trust
 * dir's) and the staleness allowance. Shared by `signet verify` and the long-lived enforcer, so both
 * read trust data the same way.
 */
import { NotaryRemote, type RemoteAuth } from '../remote/index.js';
import { PinStore, Updater, defaultTrustServer, type PinSource } from '../updater/index.js';
import { matchRule, rulePin, trustServerFor } from './evaluate.js';
import type { Policy, PolicyRule } from './policy.js';

export interface TrustSourceOptions {
  policy: Policy;
  trustDir: string;
  /** trust server for hosts the policy does not name (default: Docker's rule) */
  serverFor?: (registryHost: string, gun: string) => string;
  /** CA for a server the policy gives no CA for */
  caFor?: (serverUrl: string) => Buffer | undefined;
  tofu?: boolean;
  offline?: boolean;
  /** overrides the rules' maxStale */
  maxStaleMs?: number;
  timeoutMs?: number;
  retries?: number;
  auth?: RemoteAuth;
  onWarning?: (msg: string) => void;
}

export class TrustSources {
  private readonly remotes = new Map<string, NotaryRemote>();
  private readonly updaters = new Map<string, Updater>();
  private readonly trustDirPins: PinStore;

  constructor(private readonly opts: TrustSourceOptions) {
    this.trustDirPins = new PinStore(opts.trustDir);
  }

  get policy(): Policy {
    return this.opts.policy;
  }

  ruleFor(repository: string): PolicyRule {
    return matchRule(this.opts.policy, repository);
  }

  /** The staleness allowance for a rule: the override, else the rule's, else none. */
  maxStaleMs(rule: PolicyRule): number {
    return this.opts.maxStaleMs ?? rule.maxStaleMs ?? 0;
  }

  /** The updater of one repository (reused: it keeps no state besides the trust-dir cache). */
  updaterFor(ref: { name: string; registry: string }, rule: PolicyRule = this.ruleFor(ref.name)): Updater {
    const key = `${ref.name}\n${rule.repository}`;
    const hit = this.updaters.get(key);
    if (hit !== undefined) return hit;
    const pin = rulePin(rule);
    const pins: PinSource = pin !== undefined ? { resolve: () => Promise.resolve(pin) } : this.trustDirPins;
    const u = new Updater({
      gun: ref.name,
      remote: this.remoteFor(ref.registry, ref.name, rule),
      trustDir: this.opts.trustDir,
      pins,
      tofu: this.opts.tofu === true,
      offline: this.opts.offline === true,
      maxStaleMs: this.maxStaleMs(rule),
      ...(this.opts.onWarning !== undefined ? { onWarning: this.opts.onWarning } : {}),
    });
    this.updaters.set(key, u);
    return u;
  }

  private remoteFor(registryHost: string, gun: string, rule: PolicyRule): NotaryRemote {
    const configured = trustServerFor(this.opts.policy, rule, registryHost);
    const url = configured?.url ?? this.opts.serverFor?.(registryHost, gun) ?? defaultTrustServer(registryHost);
    const ca = configured?.ca ?? this.opts.caFor?.(url);
    const key = `${url}\n${ca?.toString('base64') ?? ''}`;
    let r = this.remotes.get(key);
    if (r === undefined) {
      r = new NotaryRemote({
        serverUrl: url,
        ...(ca !== undefined ? { ca } : {}),
        ...(this.opts.timeoutMs !== undefined ? { timeoutMs: this.opts.timeoutMs } : {}),
        ...(this.opts.retries !== undefined ? { retries: this.opts.retries } : {}),
        ...(this.opts.auth !== undefined ? { auth: this.opts.auth } : {}),
      });
      this.remotes.set(key, r);
    }
    return r;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.remotes.values()].map((r) => r.close()));
    this.remotes.clear();
    this.updaters.clear();
  }
}
