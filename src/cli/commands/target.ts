/**
 * notary-style staged operations: `signet target add|remove|list`, `signet status` and `signet publish`.
 * Staged changes live in the trust dir's changelist, shared with the notary CLI.
 */
import type { Command } from 'commander';
import { allTargetsByName, type Change } from '../../client/index.js';
import { hexToBase64 } from '../../digest.js';
import { fileMetaSha256Hex } from '../../tuf/index.js';
import { SignetError } from '../../errors.js';
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

function describe(c: Change): string {
  return `${c.action} ${c.type} ${c.role}${c.path ? ` ${c.path}` : ''}`;
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
    .action(
      async (repository: string, name: string, opts: { sha256: string; size: string; role?: string[] }, cmd: Command) =>
        runAction(false, async () => {
          const ctx = clientContext(cmd);
          const { repo, close } = ctx.repository(repository);
          try {
            await repo.stageTarget(
              name,
              { hashes: { sha256: parseSha256(opts.sha256) }, length: parseSize(opts.size) },
              opts.role ?? ['targets'],
            );
            ctx.out.out(`Staged ${name} for ${repo.gun}; run \`signet publish ${repo.gun}\` to sign and upload it\n`);
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
    .action(async (repository: string, name: string, opts: { role?: string[] }, cmd: Command) =>
      runAction(false, async () => {
        const ctx = clientContext(cmd);
        const { repo, close } = ctx.repository(repository);
        try {
          await repo.stageRemoveTarget(name, opts.role ?? ['targets']);
          ctx.out.out(`Staged the removal of ${name} from ${repo.gun}; run \`signet publish ${repo.gun}\`\n`);
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
        const ctx = clientContext(cmd);
        const { repo, close } = ctx.repository(repository);
        try {
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

  program
    .command('status')
    .description('show the staged, unpublished changes of a repository')
    .argument('<repository>', 'repository (GUN)')
    .option('--clear', 'discard every staged change')
    .option('--json', 'print as JSON')
    .action(async (repository: string, opts: { json?: boolean; clear?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = clientContext(cmd);
        const { repo, close } = ctx.repository(repository);
        try {
          if (opts.clear) await repo.changelist.clear();
          const pending = await repo.pending();
          if (opts.json)
            printJson(
              ctx.out,
              pending.map((c) => ({ action: c.action, type: c.type, role: c.role, path: c.path })),
            );
          else if (pending.length === 0) ctx.out.out(`No unpublished changes for ${repo.gun}\n`);
          else ctx.out.out(pending.map((c, i) => `${i}  ${describe(c)}\n`).join(''));
        } finally {
          await close();
        }
      }),
    );

  program
    .command('publish')
    .description('sign and upload the staged changes of a repository in one request')
    .argument('<repository>', 'repository (GUN)')
    .option('--json', 'print the result as JSON')
    .action(async (repository: string, opts: { json?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = clientContext(cmd);
        const { repo, close } = ctx.repository(repository);
        try {
          const res = await repo.publish();
          if (opts.json) printJson(ctx.out, { gun: repo.gun, ...res });
          else if (res.roles.length === 0) ctx.out.out(`Nothing to publish for ${repo.gun}\n`);
          else ctx.out.out(`Published ${res.changes} change(s) to ${repo.gun}: ${res.roles.join(', ')}\n`);
        } finally {
          await close();
        }
      }),
    );
}
