/** `signet publish`: sign and upload the staged changes of a repository (notary's `publish`). */
import type { Command } from 'commander';
import { printJson } from '../output.js';
import { clientContext, runAction } from './common.js';

export function registerPublish(program: Command): void {
  program
    .command('publish')
    .description('sign and upload the staged changes of a repository in one request')
    .argument('<repository>', 'repository (GUN)')
    .option('--json', 'print the result as JSON')
    .action(async (repository: string, opts: { json?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
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
