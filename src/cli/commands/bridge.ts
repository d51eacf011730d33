/**
 * `signet bridge IMAGE --key cosign.key` and `signet bridge generate-key`: sigstore signatures for
 * the tags Notary trust data signs (docs/bridge.md). The bodies are in ../bridge-run.ts, imported
 * when the command runs, so other commands never load src/sigstore.
 */
import type { Command } from 'commander';
import { runAction } from './common.js';

export interface BridgeFlags {
  key?: string;
  dryRun?: boolean;
  json?: boolean;
}

export interface GenerateKeyFlags {
  outputKeyPrefix?: string;
  force?: boolean;
}

export function registerBridge(program: Command): void {
  const bridge = program
    .command('bridge')
    .description('write a cosign-compatible sigstore signature for every tag that verifies through Notary trust data')
    .argument('<image>', 'repository (any tag is ignored: every signed tag is bridged)')
    .option(
      '--key <file>',
      'cosign private key (ENCRYPTED SIGSTORE/COSIGN PRIVATE KEY); password from COSIGN_PASSWORD[_FILE]',
    )
    .option('--dry-run', 'report what would be written and removed; change nothing')
    .option('--json', 'print the report (or the error) as JSON')
    .action(async (image: string, opts: BridgeFlags, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const { runBridgeCommand } = await import('../bridge-run.js');
        await runBridgeCommand(image, opts, cmd);
      }),
    );
  bridge
    .command('generate-key')
    .description('make a cosign key pair (<prefix>.key encrypted with COSIGN_PASSWORD[_FILE], <prefix>.pub)')
    .option('--output-key-prefix <prefix>', 'path prefix of the two files', 'cosign')
    .option('--force', 'overwrite existing files')
    .action(async (opts: GenerateKeyFlags) =>
      runAction(false, async () => {
        const { generateKeyCommand } = await import('../bridge-run.js');
        await generateKeyCommand(opts);
      }),
    );
}
