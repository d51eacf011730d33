/** `signet init GUN|IMAGE`: create a repository (root, targets, snapshot keys) and publish it. */
import type { Command } from 'commander';
import { clientContext, runAction } from './common.js';
import { printJson } from '../output.js';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create trust data for a repository (root cert CN=GUN, targets key, snapshot key) and publish it')
    .argument('<repository>', 'image repository (GUN), e.g. registry.example.com/team/app')
    .option(
      '--root-key <id|uri>',
      "reuse this root key: a local key ID, or a key on a PKCS#11 token 'pkcs11:token=L;object=root1' (default: the first local root key, else a new one)",
    )
    .option('--server-managed-snapshot', 'let the server hold the snapshot key (the default, as Docker does)')
    .option('--local-snapshot', 'keep the snapshot key in the trust dir instead of on the server')
    .option('--no-publish', 'only write the new trust data locally (publish later with `signet publish`)')
    .option('--json', 'print the result as JSON')
    .action(
      async (
        repository: string,
        opts: { rootKey?: string; localSnapshot?: boolean; publish: boolean; json?: boolean },
        cmd: Command,
      ) =>
        runAction(opts.json === true, async () => {
          const ctx = await clientContext(cmd);
          const { repo, ref, close } = ctx.repository(repository);
          try {
            if (await repo.existsRemotely()) {
              const { SignetError } = await import('../../errors.js');
              throw new SignetError('CONFLICT', `${repo.gun} already has trust data on ${repo.remote.serverUrl}`, {
                fix: 'use `signet inspect` to see it, or `signet delete --remote` to start over',
              });
            }
            const rootKeyId = opts.rootKey
              ? await (await import('../../client/index.js')).keyIdFor(ctx.keyStore, opts.rootKey, { role: 'root' })
              : undefined;
            const res = await repo.init({
              ...(rootKeyId ? { rootKeyId } : {}),
              serverManagedSnapshot: opts.localSnapshot !== true,
            });
            const published = opts.publish ? await repo.publish({ includeStaged: true }) : undefined;
            await ctx.rememberServer(ref);
            if (opts.json) printJson(ctx.out, { gun: repo.gun, ...res, published: published?.roles ?? [] });
            else {
              ctx.out.out(
                `Initialized ${repo.gun}${published ? ` and published ${published.roles.join(', ')}` : ' locally (not yet published)'}\n`,
              );
              ctx.out.out(
                `  root key:      ${res.rootKeyId}\n  root cert ID:  ${res.rootCertKeyId} (pinned)\n  targets key:   ${res.targetsKeyId}\n`,
              );
              ctx.out.out(`  snapshot key:  ${res.snapshotKeyId ?? 'held by the server'}\n`);
            }
          } finally {
            await close();
          }
        }),
    );
}
