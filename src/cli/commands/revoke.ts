/**
 * `signet revoke IMAGE[:TAG]`: remove the signature of one tag, or of every tag (asked on a
 * terminal, --yes in scripts).
 */
import type { Command } from 'commander';
import { SignetError } from '../../errors.js';
import { confirm } from '../confirm.js';
import { printJson, printTagChanges } from '../output.js';
import { clientContext, runAction } from './common.js';

export function registerRevoke(program: Command): void {
  program
    .command('revoke')
    .description('remove trust for a tag, or for every tag of a repository (asks on a terminal; --yes in scripts)')
    .argument('<image>', 'IMAGE:TAG, or IMAGE for all tags')
    .option('-y, --yes', 'do not ask for confirmation when revoking every tag')
    .option('--json', 'print the result as JSON')
    .action(async (image: string, opts: { yes?: boolean; json?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const { parseImageReference } = await import('../../registry/index.js');
        const tag = parseImageReference(image).tag;
        const ctx = await clientContext(cmd);
        if (tag === undefined && opts.yes !== true) {
          if (!ctx.cfg.isTTY)
            throw new SignetError(
              'USAGE',
              `this would revoke every signed tag of ${image}, and there is no terminal to ask`,
              {
                fix: `add --yes to confirm, or name one tag: ${image}:TAG`,
              },
            );
          if (!(await confirm(`Revoke every signed tag of ${image}?`)))
            throw new SignetError('USAGE', `not confirmed: nothing of ${image} was revoked`, {
              fix: `answer y, or name one tag: ${image}:TAG`,
            });
        }
        const { repo, close } = ctx.repository(image);
        try {
          const { revokeTags } = await import('../../client/index.js');
          const res = await revokeTags(repo, tag);
          if (opts.json) {
            printJson(ctx.out, {
              gun: repo.gun,
              removed: res.removed,
              published: res.roles,
              tagChanges: res.tagChanges,
            });
          } else {
            for (const r of res.removed) ctx.out.out(`Revoked ${repo.gun}:${r.tag} from ${r.role}\n`);
            printTagChanges(ctx.out, repo.gun, res.tagChanges);
          }
        } finally {
          await close();
        }
      }),
    );
}
