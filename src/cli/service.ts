/**
 * What the long-running enforcement commands (`signet proxy`, `signet admission`) share: the trust
 * options every client command resolves (`verify`'s server, CA, pins, registry settings) handed to
 * the enforcer, positive-integer flags, and shutdown on the first SIGTERM or SIGINT.
 */
import type { EnforcerOptions } from '../enforce/index.js';
import { SignetError } from '../errors.js';
import type { GlobalConfig } from './config.js';

export function positiveInt(v: string | undefined, flag: string, example: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) {
    throw new SignetError('USAGE', `${flag} must be a positive integer, got ${v}`, { fix: `e.g. ${flag} ${example}` });
  }
  return n;
}

/** The enforcer sees the trust server, CA and registries exactly as `verify` resolves them. */
export function enforcerOptions(
  cfg: GlobalConfig,
  extra: { policy?: string | undefined; onWarning: (message: string) => void } & Pick<
    EnforcerOptions,
    'cacheTtlMs' | 'maxStaleMs'
  >,
): EnforcerOptions {
  const { policy, onWarning, cacheTtlMs, maxStaleMs } = extra;
  return {
    trustDir: cfg.trustDir,
    ...(cfg.serverOverride !== undefined ? { server: cfg.serverOverride } : {}),
    ...(cfg.tlsCaFile !== undefined ? { tlsCa: cfg.tlsCaFile } : {}),
    tofu: cfg.tofu,
    ...(policy !== undefined ? { policyFile: policy } : {}),
    ...(cacheTtlMs !== undefined ? { cacheTtlMs } : {}),
    ...(maxStaleMs !== undefined ? { maxStaleMs } : {}),
    serverFor: (host) => cfg.serverFor(host),
    caFor: (url) => cfg.caFor(url),
    insecureRegistries: cfg.insecureRegistries,
    dockerConfigDir: cfg.dockerConfigDir,
    timeoutMs: cfg.timeoutMs,
    retries: cfg.retries,
    onWarning,
  };
}

export function closeOnSignal(...closers: Array<() => Promise<void>>): void {
  const stop = (): void => {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    void (async () => {
      for (const close of closers) await close();
    })();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
