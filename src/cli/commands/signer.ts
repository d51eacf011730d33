/** `signet signer add|remove`: manage `targets/<name>` delegations (Docker's signers). */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { SignetError } from '../../errors.js';
import { printJson, printTagChanges } from '../output.js';
import { clientContext, runAction } from './common.js';

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
    .option('--json', 'print the result as JSON')
    .action(async (name: string, repos: string[], opts: { key: string[]; json?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
        const { addSigner, parsePublicKeyFile, tokenPublicKey } = await import('../../client/index.js');
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
        const results: unknown[] = [];
        for (const r of repos) {
          const { repo, close } = ctx.repository(r);
          try {
            const res = await addSigner(repo, name, keys);
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
            }
          } finally {
            await close();
          }
        }
        if (opts.json) printJson(ctx.out, results);
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
