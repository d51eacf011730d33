/** `signet status`: the staged, unpublished changes of a repository (notary's `status`). */
import type { Command } from 'commander';
import type { Change } from '../../client/index.js';
import { printJson } from '../output.js';
import { clientContext, runAction } from './common.js';

function describe(c: Change): string {
  return `${c.action} ${c.type} ${c.role}${c.path ? ` ${c.path}` : ''}`;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show the staged, unpublished changes of a repository')
    .argument('<repository>', 'repository (GUN)')
    .option('--clear', 'discard every staged change')
    .option('--json', 'print as JSON')
    .action(async (repository: string, opts: { json?: boolean; clear?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
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
