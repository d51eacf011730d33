/** `signet completion bash|zsh|fish`: a completion script generated from the command tree. */
import type { Command } from 'commander';
import { SignetError } from '../../errors.js';
import { completionScript, SHELLS, type Shell } from '../reference.js';
import { runAction } from './common.js';

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description(
      'print a shell completion script: eval "$(signet completion bash)", or save it where your shell loads completions',
    )
    .argument('<shell>', SHELLS.join(' | '))
    .action(async (shell: string) =>
      runAction(false, async () => {
        if (!(SHELLS as readonly string[]).includes(shell))
          throw new SignetError('USAGE', `no completion for the shell ${shell}`, {
            fix: `give one of ${SHELLS.join(', ')}`,
          });
        process.stdout.write(completionScript(program, shell as Shell));
      }),
    );
}
