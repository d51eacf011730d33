/**
 * notary-style staged target changes: `signet target add|remove|list` (see status.ts and publish.ts).
 * Staged changes live in the trust dir's changelist, shared with the notary CLI.
 */
import type { Command } from 'commander';
import { hexToBase64 } from '../../digest.js';
import { SignetError } from '../../errors.js';
import { suggestCommand } from '../hints.js';
import { formatTable, printJson } from '../output.js';
import { clientContext, runAction } from './common.js';

function parseSize(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new SignetError('USAGE', `--size must be a byte count, got ${v}`);
  return n;
}

function parseSha256(v: string): string {
  const hex = v.replace(/^sha256:/, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new SignetError('USAGE', `--sha256 must be 64 hex digits, got ${v}`);
  return hexToBase64(hex);
}

export function registerTarget(program: Command): void {
  const target = program.command('target').description('stage target changes by hand (publish with `signet publish`)');
  target
    .command('add')
    .description('stage a target with a given sha256 and size (as `notary addhash`)')
    .argument('<repository>', 'repository (GUN)')
    .argument('<name>', 'target name (tag)')
    .requiredOption('--sha256 <hex>', 'sha256 of the target (e.g. a manifest digest)')
    .requiredOption('--size <bytes>', 'size of the target in bytes')
    .option(
      '-r, --role <role>',
      'role to stage into (repeatable; default targets)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--json', 'print the result as JSON')
    .action(
      async (
        repository: string,
        name: string,
        opts: { sha256: string; size: string; role?: string[]; json?: boolean },
        cmd: Command,
      ) =>
        runAction(opts.json === true, async () => {
          const ctx = await clientContext(cmd);
          const { repo, close } = ctx.repository(repository);
          try {
            const roles = opts.role ?? ['targets'];
            const length = parseSize(opts.size);
            await repo.stageTarget(name, { hashes: { sha256: parseSha256(opts.sha256) }, length }, roles);
            const publish = suggestCommand('publish', repo.gun);
            if (opts.json) printJson(ctx.out, { gun: repo.gun, staged: name, roles, size: length, publish });
            else ctx.out.out(`Staged ${name} for ${repo.gun}; run \`${publish}\` to sign and upload it\n`);
          } finally {
            await close();
          }
        }),
    );
  target
    .command('remove')
    .description('stage the removal of a target')
    .argument('<repository>', 'repository (GUN)')
    .argument('<name>', 'target name (tag)')
    .option(
      '-r, --role <role>',
      'role to remove it from (repeatable; default targets)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--json', 'print the result as JSON')
    .action(async (repository: string, name: string, opts: { role?: string[]; json?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
        const { repo, close } = ctx.repository(repository);
        try {
          const roles = opts.role ?? ['targets'];
          await repo.stageRemoveTarget(name, roles);
          const publish = suggestCommand('publish', repo.gun);
          if (opts.json) printJson(ctx.out, { gun: repo.gun, stagedRemoval: name, roles, publish });
          else ctx.out.out(`Staged the removal of ${name} from ${repo.gun}; run \`${publish}\`\n`);
        } finally {
          await close();
        }
      }),
    );
  target
    .command('list')
    .description('list every target in every role (verified from the trust server)')
    .argument('<repository>', 'repository (GUN)')
    .option('--json', 'print as JSON')
    .action(async (repository: string, opts: { json?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
        const { repo, close } = ctx.repository(repository);
        try {
          const { allTargetsByName } = await import('../../client/index.js');
          const { fileMetaSha256Hex } = await import('../../tuf/index.js');
          const rows = allTargetsByName(await repo.read(), '').map((t) => ({
            name: t.name,
            digest: `sha256:${fileMetaSha256Hex(t.meta) ?? ''}`,
            size: t.meta.length,
            role: t.role,
          }));
          if (opts.json) printJson(ctx.out, rows);
          else
            ctx.out.out(
              formatTable(
                ['NAME', 'DIGEST', 'SIZE (BYTES)', 'ROLE'],
                rows.map((r) => [r.name, r.digest, String(r.size), r.role]),
              ),
            );
        } finally {
          await close();
        }
      }),
    );
}
