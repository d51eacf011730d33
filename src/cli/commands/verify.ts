/**
 * `signet verify IMAGE[:TAG]`: the tag must resolve through verified trust data (Docker's rules) and
 * the registry must serve exactly the signed manifest. Exit 0 only when verified (docs/verify.md).
 */
import type { Command } from 'commander';
import { SignetError } from '../../errors.js';
import { parseImageReference } from '../../registry/index.js';
import { verifyImage } from '../../updater/index.js';
import { printJson } from '../output.js';
import { clientContext, runAction } from './common.js';

interface VerifyFlags {
  digestOnly?: boolean;
  json?: boolean;
  offline?: boolean;
  trustOnly?: boolean;
  sigstoreKey?: string;
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('verify that an image tag is signed and that the registry serves the signed manifest')
    .argument('<image[:tag]>', 'image reference; the tag defaults to latest')
    .option('--digest-only', 'print only NAME@sha256:… (for docker pull)')
    .option('--json', 'print the result (or the error) as JSON')
    .option('--offline', 'no network: use the cached trust data (must be complete and unexpired); implies --trust-only')
    .option('--trust-only', 'check the trust data only, not the manifest the registry serves')
    .option(
      '--sigstore-key <file>',
      'instead of Notary trust data, check a sigstore (cosign) signature by this public key (docs/bridge.md)',
    )
    .action(async (image: string, opts: VerifyFlags, cmd: Command) =>
      runAction(opts.json === true, async () => {
        if (opts.sigstoreKey !== undefined)
          return (await import('../bridge-run.js')).verifySigstoreCommand(image, opts, cmd);
        const ctx = clientContext(cmd);
        const ref = parseImageReference(image, { defaultTag: 'latest' });
        if (ref.tag === undefined) {
          throw new SignetError('USAGE', `${image} is a digest reference; verify checks signed tags`, {
            fix: `use ${ref.familiar}:<tag>`,
          });
        }
        const remote = ctx.remoteFor(ref);
        const offline = opts.offline === true;
        const registry = offline || opts.trustOnly === true ? undefined : ctx.registry();
        try {
          const updater = ctx.updaterFor(ref, remote, { offline });
          const v = await verifyImage({ ref, updater, ...(registry !== undefined ? { registry } : {}) });
          const pinned = `${v.familiar}@${v.digest}`;
          if (opts.json) {
            printJson(ctx.out, {
              verified: true,
              name: v.name,
              familiar: v.familiar,
              tag: v.tag,
              digest: v.digest,
              size: v.size,
              role: v.role,
              reference: pinned,
              registryChecked: registry !== undefined,
            });
          } else if (opts.digestOnly) {
            ctx.out.out(`${pinned}\n`);
          } else {
            ctx.out.out(`${v.digest}\n`);
            ctx.out.err(
              `Verified ${v.familiar}:${v.tag}: signed in ${v.role}, ${v.size} bytes` +
                (registry !== undefined ? '; the registry serves the signed manifest\n' : ' (registry not checked)\n'),
            );
          }
        } finally {
          await remote.close();
          await registry?.close();
        }
      }),
    );
}
