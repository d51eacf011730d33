/**
 * `signet status`: the staged, unpublished changes of a repository (notary's `status`), or with
 * `--expiring` what expires soon (status-expiring.ts, loaded only then).
 */
import type { Command } from 'commander';
import type { Change } from '../../client/index.js';
import { SignetError } from '../../errors.js';
import { printJson } from '../output.js';
import { clientContext, runAction } from './common.js';

function describe(c: Change): string {
  return `${c.action} ${c.type} ${c.role}${c.path ? ` ${c.path}` : ''}`;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show the staged, unpublished changes of a repository, or with --expiring what expires soon')
    .argument('[repository]', 'repository (GUN); with --expiring optional (default: every one the trust dir knows)')
    .option('--clear', 'discard every staged change')
    .option('--json', 'print as JSON')
    .option(
      '--expiring <duration>',
      'list the cached roles and root certificates expiring within DURATION (e.g. 30d); exit code 10 when any',
    )
    .option('--at <time>', 'with --expiring: as of this RFC 3339 time instead of now')
    .action(
      async (
        repository: string | undefined,
        opts: { json?: boolean; clear?: boolean; expiring?: string; at?: string },
        cmd: Command,
      ) =>
        runAction(opts.json === true, async () => {
          const ctx = await clientContext(cmd);
          if (opts.expiring !== undefined) {
            const { statusExpiring } = await import('./status-expiring.js');
            return statusExpiring(ctx, { ...opts, expiring: opts.expiring }, repository);
          }
          if (repository === undefined)
            throw new SignetError('USAGE', 'status needs a repository', {
              fix: 'signet status <repository>, or signet status --expiring 30d',
            });
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
}
