/**
 * The part of a command's wiring that reads and never signs: global flags → config, output, the
 * --tofu warning, the registry client. `signet verify` runs on this alone, so it loads no key store
 * or signing code; clientContext (context.ts) builds the rest on top of it.
 */
import type { Command } from 'commander';
import { RegistryClient } from '../../registry/index.js';
import { resolveGlobalConfig, type GlobalConfig, type GlobalFlags } from '../config.js';
import { formatWarning, processOutput, type Output } from '../output.js';

export interface ReaderContext {
  cfg: GlobalConfig;
  out: Output;
  registry(): RegistryClient;
}

export function readerContext(cmd: Command, out: Output = processOutput()): ReaderContext {
  const cfg = resolveGlobalConfig(cmd.optsWithGlobals<GlobalFlags>());
  if (cfg.tofu)
    out.err(formatWarning('WARNING: --tofu: a repository root seen for the first time is trusted without a pin'));
  return {
    cfg,
    out,
    registry: () =>
      new RegistryClient({
        insecureRegistries: cfg.insecureRegistries,
        dockerConfigDir: cfg.dockerConfigDir,
        timeoutMs: cfg.timeoutMs,
        retries: cfg.retries,
      }),
  };
}
