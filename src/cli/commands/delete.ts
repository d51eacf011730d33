/** `signet delete GUN [--remote]`: forget local trust data (and, with --remote, delete it on the server). */
import type { Command } from 'commander';
import { printJson } from '../output.js';
import { clientContext, runAction } from './common.js';

export function registerDelete(program: Command): void {
  program
    .command('delete')
    .description('delete the local trust data of a repository (keys are kept); --remote also deletes it on the server')
    .argument('<repository>', 'repository (GUN)')
    .option('--remote', 'also delete all trust data for the repository on the trust server (needs admin rights)')
    .option('--json', 'print the result as JSON')
    .action(async (repository: string, opts: { remote?: boolean; json?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
        const { repo, close } = ctx.repository(repository);
        try {
          await repo.delete({ remote: opts.remote === true });
          if (opts.json) printJson(ctx.out, { gun: repo.gun, local: true, remote: opts.remote === true });
          else ctx.out.out(`Deleted trust data for ${repo.gun} locally${opts.remote ? ' and on the server' : ''}\n`);
        } finally {
          await close();
        }
      }),
    );
}
