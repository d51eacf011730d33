/** `signet signer add|remove|threshold`: manage `targets/<name>` delegations (Docker's signers) and delegation thresholds. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { SignetError } from '../../errors.js';
import { formatWarning, printJson, printTagChanges } from '../output.js';
import type { Change, Repository } from '../../client/index.js';
import { clientContext, runAction, type ClientContext } from './common.js';

/**
 * After a threshold change: a role whose current file no longer meets it is ignored by every reader
 * until its holders co-sign a new version; say so rather than let the tags vanish silently.
 */
export async function warnBelowThreshold(ctx: ClientContext, repo: Repository, role: string): Promise<void> {
  const { roleSignatureRows } = await import('../../client/index.js');
  const view = await repo.read();
  const row = roleSignatureRows(view).find((r) => r.Role === role);
  // no file yet is fine: the first version will be co-signed
  if (row === undefined || row.Valid || (await repo.serverVersion(role)) === 0) return;
  ctx.out.err(
    formatWarning(
      `${role} of ${repo.gun} is not signed by ${row.Threshold} of its keys: readers ignore it, and the tags signed only there, until ${row.Threshold} holders co-sign a new version (sign --proposal, docs/thresholds.md)`,
    ),
  );
}

/** A `--threshold`/`<n>` value: a whole number ≥ 1. */
export function parseThreshold(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) {
    throw new SignetError('USAGE', `a threshold is a whole number of at least 1, got "${v}"`);
  }
  return n;
}

/** `--proposal FILE`: write `changes` for one repository as a proposal (proposal.ts). */
export async function proposeIn(
  ctx: ClientContext,
  repos: string[],
  file: string,
  changes: Change[],
  json: boolean | undefined,
): Promise<Record<string, unknown>> {
  if (repos.length !== 1) {
    throw new SignetError('USAGE', 'a proposal holds the changes of one repository', {
      fix: 'give one repository with --proposal, and one proposal file per repository',
    });
  }
  const { proposeChanges } = await import('./proposal.js');
  const { repo, close } = ctx.repository(repos[0] as string);
  try {
    return await proposeChanges(ctx, repo, changes, file, { json: json === true });
  } finally {
    await close();
  }
}

export function registerSigner(program: Command): void {
  const signer = program
    .command('signer')
    .description('add or remove signers (delegations targets/<name> + targets/releases)');
  signer
    .command('add')
    .description(
      'add a signer with its public key(s) to one or more repositories (creates the trust data when missing)',
    )
    .argument('<name>', 'signer name ([a-z0-9][a-z0-9_-]*, not "releases")')
    .argument('<repository...>', 'repositories (GUNs)')
    .requiredOption(
      '--key <file|uri>',
      "signer public key PEM, or a key on a PKCS#11 token 'pkcs11:token=L;object=alice' that then signs as this signer (repeatable)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      '--threshold <n>',
      'signatures targets/releases needs from then on (distinct keys; default: keep the current one, 1 for a new role)',
    )
    .option('--proposal <file>', 'do not publish: write the change as a proposal for co-signers (one repository)')
    .option('--json', 'print the result as JSON')
    .action(
      async (
        name: string,
        repos: string[],
        opts: { key: string[]; json?: boolean; threshold?: string; proposal?: string },
        cmd: Command,
      ) =>
        runAction(opts.json === true, async () => {
          const ctx = await clientContext(cmd);
          const { addSigner, parsePublicKeyFile, signerAddChanges, tokenPublicKey } =
            await import('../../client/index.js');
          const threshold = opts.threshold === undefined ? undefined : parseThreshold(opts.threshold);
          const keys = [];
          for (const f of opts.key) {
            if (f.toLowerCase().startsWith('pkcs11:')) {
              keys.push(await tokenPublicKey(ctx.keyStore, f, { role: name }));
              continue;
            }
            let text: string;
            try {
              text = await readFile(f, 'utf8');
            } catch (e) {
              throw new SignetError('KEY_FILE', `cannot read public key file ${f}`, { cause: e });
            }
            keys.push(parsePublicKeyFile(text, f));
          }
          if (opts.proposal !== undefined) {
            const r = await proposeIn(ctx, repos, opts.proposal, signerAddChanges(name, keys, threshold), opts.json);
            if (opts.json) printJson(ctx.out, r);
            return;
          }
          const results: unknown[] = [];
          for (const r of repos) {
            const { repo, close } = ctx.repository(r);
            try {
              const res = await addSigner(
                repo,
                name,
                keys,
                threshold === undefined ? {} : { releasesThreshold: threshold },
              );
              results.push({
                gun: repo.gun,
                signer: name,
                keyIds: keys.map((k) => k.canonicalId),
                created: res.created,
                published: res.roles,
              });
              if (!opts.json) {
                if (res.created) ctx.out.out(`Initialized ${repo.gun}\n`);
                ctx.out.out(`Added signer "${name}" (${keys.map((k) => k.canonicalId).join(', ')}) to ${repo.gun}\n`);
                if (threshold !== undefined)
                  ctx.out.out(`targets/releases of ${repo.gun} now needs ${threshold} signature(s)\n`);
                if (threshold !== undefined) await warnBelowThreshold(ctx, repo, 'targets/releases');
              }
            } finally {
              await close();
            }
          }
          if (opts.json) printJson(ctx.out, results);
        }),
    );
  signer
    .command('threshold')
    .description('set how many distinct signer keys must sign a delegation (default targets/releases)')
    .argument('<repository>', 'repository (GUN)')
    .argument('<n>', 'the threshold: a whole number from 1 to the number of keys of the role')
    .option('-r, --role <role>', 'the delegation role', 'targets/releases')
    .option('--proposal <file>', 'do not publish: write the change as a proposal for co-signers')
    .option('--json', 'print the result as JSON')
    .action(
      async (repository: string, n: string, opts: { role: string; proposal?: string; json?: boolean }, cmd: Command) =>
        runAction(opts.json === true, async () => {
          const ctx = await clientContext(cmd);
          const { thresholdChange } = await import('../../client/index.js');
          const change = thresholdChange(opts.role, parseThreshold(n));
          if (opts.proposal !== undefined) {
            const r = await proposeIn(ctx, [repository], opts.proposal, [change], opts.json);
            if (opts.json) printJson(ctx.out, r);
            return;
          }
          const { repo, close } = ctx.repository(repository);
          try {
            const res = await repo.publish({ extra: [change], includeStaged: false });
            if (opts.json)
              printJson(ctx.out, { gun: repo.gun, role: opts.role, threshold: Number(n), published: res.roles });
            else ctx.out.out(`${opts.role} of ${repo.gun} now needs ${n} signature(s)\n`);
            await warnBelowThreshold(ctx, repo, opts.role);
          } finally {
            await close();
          }
        }),
    );
  signer
    .command('remove')
    .description('remove a signer from one or more repositories (and publish; docker 28 silently does nothing here)')
    .argument('<name>', 'signer name')
    .argument('<repository...>', 'repositories (GUNs)')
    .option('-f, --force', 'accepted for docker compatibility (signet never prompts)')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, repos: string[], opts: { json?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
        const { removeSigner } = await import('../../client/index.js');
        const results: unknown[] = [];
        for (const r of repos) {
          const { repo, close } = ctx.repository(r);
          try {
            const res = await removeSigner(repo, name);
            results.push({
              gun: repo.gun,
              signer: name,
              removedKeyIds: res.removedKeyIds,
              published: res.roles,
              tagChanges: res.tagChanges,
            });
            if (!opts.json) {
              ctx.out.out(`Removed signer "${name}" from ${repo.gun}\n`);
              printTagChanges(ctx.out, repo.gun, res.tagChanges);
            }
          } finally {
            await close();
          }
        }
        if (opts.json) printJson(ctx.out, results);
      }),
    );
}
