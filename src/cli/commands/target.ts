/**
 * notary-style staged target changes: `signet target add|remove|list` (see status.ts and publish.ts).
 * Staged changes live in the trust dir's changelist, shared with the notary CLI.
 */
import type { Command } from 'commander';
import { SignetError } from '../../errors.js';
import { suggestCommand } from '../hints.js';
import { formatTable, printJson } from '../output.js';
import type { TargetLine } from '../target-list.js';
import { clientContext, runAction, type ClientContext } from './common.js';

interface AddFlags {
  sha256?: string;
  size?: string;
  fromFile?: string;
  publish?: boolean;
  role?: string[];
  json?: boolean;
}

/** The targets to add: NAME --sha256 --size, or every line of --from-file (never both). */
async function targetsToAdd(name: string | undefined, opts: AddFlags, ctx: ClientContext): Promise<TargetLine[]> {
  // loaded when the command runs: `signet --help` loads registrations only (test/cli/startup-graph.test.ts)
  const { parseSha256, parseSize, parseTargetList } = await import('../target-list.js');
  if (opts.fromFile !== undefined) {
    if (name !== undefined || opts.sha256 !== undefined || opts.size !== undefined)
      throw new SignetError('USAGE', '--from-file cannot be combined with a target name, --sha256 or --size', {
        fix: 'give either NAME --sha256 HEX --size BYTES, or --from-file FILE',
      });
    if (opts.fromFile === '-') {
      if (process.stdin.isTTY) ctx.out.err('Type the targets (NAME SIZE SHA256 a line), then press Ctrl-D\n');
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return parseTargetList(Buffer.concat(chunks).toString('utf8'), 'standard input');
    }
    const { readFile } = await import('node:fs/promises');
    let text: string;
    try {
      text = await readFile(opts.fromFile, 'utf8');
    } catch (cause) {
      throw new SignetError('USAGE', `cannot read --from-file ${opts.fromFile}: ${(cause as Error).message}`, {
        cause,
        fix: 'give a readable file, or - for standard input',
      });
    }
    return parseTargetList(text, opts.fromFile);
  }
  const missing = [
    name === undefined ? 'a target name' : '',
    opts.sha256 === undefined ? '--sha256' : '',
    opts.size === undefined ? '--size' : '',
  ]
    .filter(Boolean)
    .join(', ');
  if (missing !== '' || name === undefined || opts.sha256 === undefined || opts.size === undefined)
    throw new SignetError('USAGE', `target add needs ${missing}`, {
      fix: 'signet target add REPOSITORY NAME --sha256 HEX --size BYTES, or many at once with --from-file FILE',
    });
  return [{ name, length: parseSize(opts.size), sha256: parseSha256(opts.sha256) }];
}

export function registerTarget(program: Command): void {
  const target = program.command('target').description('stage target changes by hand (publish with `signet publish`)');
  target
    .command('add')
    .description('stage targets with given sha256 and size (as `notary addhash`), one or many (--from-file)')
    .argument('<repository>', 'repository (GUN)')
    .argument('[name]', 'target name (tag); omitted with --from-file')
    .option('--sha256 <hex>', 'sha256 of the target (e.g. a manifest digest)')
    .option('--size <bytes>', 'size of the target in bytes')
    .option(
      '--from-file <file>',
      "stage every target listed in FILE ('-' = standard input): one a line, NAME SIZE SHA256; # comments",
    )
    .option('--publish', 'sign and upload them at once, with any changes already staged (as `signet publish`)')
    .option(
      '-r, --role <role>',
      'role to stage into (repeatable; default targets)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--json', 'print the result as JSON')
    .action(async (repository: string, name: string | undefined, opts: AddFlags, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
        const lines = await targetsToAdd(name, opts, ctx);
        const { repo, close } = ctx.repository(repository);
        try {
          const roles = opts.role ?? ['targets'];
          const changes = lines.flatMap((t) =>
            roles.map((role) => ({
              type: 'target' as const,
              action: 'create' as const,
              role,
              path: t.name,
              meta: { hashes: { sha256: t.sha256 }, length: t.length },
            })),
          );
          const one = name !== undefined ? lines[0] : undefined;
          if (opts.publish) {
            // applied straight to the publish: nothing is written to the changelist for them
            const res = await repo.publish({ extra: changes });
            if (opts.json)
              printJson(ctx.out, {
                gun: repo.gun,
                added: lines.length,
                roles,
                published: res.roles,
                changes: res.changes,
              });
            else ctx.out.out(`Published ${res.changes} change(s) to ${repo.gun}: ${res.roles.join(', ')}\n`);
            return;
          }
          await repo.stage(changes);
          const publish = suggestCommand('publish', repo.gun);
          if (opts.json)
            printJson(
              ctx.out,
              one !== undefined
                ? { gun: repo.gun, staged: one.name, roles, size: one.length, publish }
                : { gun: repo.gun, staged: lines.length, roles, publish },
            );
          else
            ctx.out.out(
              `Staged ${one !== undefined ? one.name : `${lines.length} targets`} for ${repo.gun}; run \`${publish}\` to sign and upload ${one !== undefined ? 'it' : 'them'}\n`,
            );
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
