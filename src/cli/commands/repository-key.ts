/**
 * `signet repository-key add|remove|threshold`: the keys of the `targets` role in root (Docker's
 * "Repository Key") and how many of them must sign (docs/thresholds.md). The root key signs the
 * new root; the targets file is re-signed under the new keys, so with a threshold above 1 the
 * change goes out as a proposal (`--proposal FILE`) that the other repository-key holders co-sign.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { SignetError } from '../../errors.js';
import type { PublicKey } from '../../tuf/index.js';
import { printJson } from '../output.js';
import { clientContext, runAction, type ClientContext } from './common.js';
import { parseThreshold, proposeIn } from './signer.js';

interface KeyEdit {
  add?: PublicKey[];
  remove?: string[];
  threshold?: number;
}

async function applyEdit(
  ctx: ClientContext,
  repository: string,
  edit: KeyEdit,
  opts: { proposal?: string; json?: boolean },
): Promise<void> {
  const { readPublished, targetsKeyChange } = await import('../../client/index.js');
  const { repo, close } = ctx.repository(repository);
  let change;
  try {
    change = targetsKeyChange(await readPublished(repo), edit);
    if (opts.proposal === undefined) {
      const res = await repo.publish({ extra: [change], includeStaged: false });
      if (opts.json)
        printJson(ctx.out, {
          gun: repo.gun,
          targetsKeys: change.keys.length,
          threshold: change.threshold,
          published: res.roles,
        });
      else
        ctx.out.out(
          `The targets role of ${repo.gun} now has ${change.keys.length} key(s) and needs ${change.threshold} signature(s)\n`,
        );
      return;
    }
  } finally {
    await close();
  }
  const r = await proposeIn(ctx, [repository], opts.proposal, [change], opts.json);
  if (opts.json) printJson(ctx.out, r);
}

const proposalOption = [
  '--proposal <file>',
  'do not publish: write the change as a proposal for the other repository-key holders',
] as const;

export function registerRepositoryKey(program: Command): void {
  const rk = program
    .command('repository-key')
    .description('keys and threshold of the targets role ("Repository Key"): several administrators who co-sign');
  rk.command('add')
    .description('add a public key to the targets role (needs the root key)')
    .argument('<repository>', 'repository (GUN)')
    .requiredOption('--key <file>', 'public key PEM of the new key holder (signet key generate writes one)')
    .option('--threshold <n>', 'signatures the targets role needs from then on (default: keep the current one)')
    .option(
      '--remove <key-id>',
      'also remove this key in the same change (repeatable): hands the role over to the new key',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(...proposalOption)
    .option('--json', 'print the result as JSON')
    .action(
      async (
        repository: string,
        opts: { key: string; threshold?: string; remove?: string[]; proposal?: string; json?: boolean },
        cmd: Command,
      ) =>
        runAction(opts.json === true, async () => {
          const ctx = await clientContext(cmd);
          const { parsePublicKeyFile } = await import('../../client/index.js');
          let text: string;
          try {
            text = await readFile(opts.key, 'utf8');
          } catch (e) {
            throw new SignetError('KEY_FILE', `cannot read public key file ${opts.key}`, { cause: e });
          }
          const edit: KeyEdit = { add: [parsePublicKeyFile(text, opts.key)], remove: opts.remove ?? [] };
          if (opts.threshold !== undefined) edit.threshold = parseThreshold(opts.threshold);
          await applyEdit(ctx, repository, edit, opts);
        }),
    );
  rk.command('remove')
    .description('remove a key from the targets role (needs the root key)')
    .argument('<repository>', 'repository (GUN)')
    .argument('<key-id...>', 'key IDs (as `signet inspect` shows them)')
    .option(
      '--threshold <n>',
      'signatures the targets role needs from then on (default: the current one, at most the keys left)',
    )
    .option(...proposalOption)
    .option('--json', 'print the result as JSON')
    .action(
      async (
        repository: string,
        ids: string[],
        opts: { threshold?: string; proposal?: string; json?: boolean },
        cmd: Command,
      ) =>
        runAction(opts.json === true, async () => {
          const ctx = await clientContext(cmd);
          const edit: KeyEdit = { remove: ids };
          if (opts.threshold !== undefined) edit.threshold = parseThreshold(opts.threshold);
          await applyEdit(ctx, repository, edit, opts);
        }),
    );
  rk.command('threshold')
    .description('set how many distinct keys of the targets role must sign it (needs the root key)')
    .argument('<repository>', 'repository (GUN)')
    .argument('<n>', 'the threshold: from 1 to the number of targets keys')
    .option(...proposalOption)
    .option('--json', 'print the result as JSON')
    .action(async (repository: string, n: string, opts: { proposal?: string; json?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
        await applyEdit(ctx, repository, { threshold: parseThreshold(n) }, opts);
      }),
    );
}
