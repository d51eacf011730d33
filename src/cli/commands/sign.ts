/** `signet sign IMAGE:TAG…`: resolve each tag at the registry and sign the real digest; one publish per repository. */
import type { Command } from 'commander';
import type { RegistryTag } from '../../client/index.js';
import { SignetError } from '../../errors.js';
import { printJson, progressBar } from '../output.js';
import { clientContext, runAction } from './common.js';

export function registerSign(program: Command): void {
  program
    .command('sign')
    .description('sign image tags: digests and sizes come from the registry (creates the trust data when missing)')
    .argument('<image:tag...>', 'one or more tagged images')
    .option(
      '--proposal <file>',
      'do not publish: sign with the keys held here and write a proposal for the other key holders (one repository; docs/thresholds.md)',
    )
    .option('--json', 'print the result as JSON')
    .action(async (images: string[], opts: { json?: boolean; proposal?: string }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const [ctx, { requireTag }, { resolveTags, signTags }] = await Promise.all([
          clientContext(cmd),
          import('./context.js'),
          import('../../client/index.js'),
        ]);
        const refs = images.map((i) => ({ text: i, ref: requireTag(i) }));
        const registry = ctx.registry();
        const byGun = new Map<string, { first: string; tags: RegistryTag[] }>();
        const bar = progressBar(ctx.out, refs.length, 'Resolving');
        try {
          const resolved = await resolveTags(
            registry,
            refs.map((r) => r.ref),
            { onResolved: (ref) => bar.tick(ref.tag) },
          );
          refs.forEach(({ text, ref }, i) => {
            const g = byGun.get(ref.name) ?? { first: text, tags: [] };
            g.tags.push(resolved[i] as RegistryTag);
            byGun.set(ref.name, g);
          });
        } finally {
          bar.done();
          await registry.close();
        }
        if (opts.proposal !== undefined) {
          if (byGun.size !== 1) {
            throw new SignetError('USAGE', 'a proposal holds the changes of one repository', {
              fix: 'give tags of one repository with --proposal, and one proposal file per repository',
            });
          }
          const [g] = byGun.values() as MapIterator<{ first: string; tags: RegistryTag[] }>;
          if (g !== undefined) {
            const { readPublished, tagSignChanges } = await import('../../client/index.js');
            const { proposeChanges } = await import('./proposal.js');
            const { repo, close } = ctx.repository(g.first);
            try {
              const view = await readPublished(repo);
              const { changes } = tagSignChanges(view, await repo.localKeyIds(), g.tags);
              const r = await proposeChanges(ctx, repo, changes, opts.proposal, { json: opts.json });
              if (opts.json) printJson(ctx.out, r);
            } finally {
              await close();
            }
          }
          return;
        }
        const results: unknown[] = [];
        for (const [gun, g] of byGun) {
          const { repo, ref, close } = ctx.repository(g.first);
          try {
            const res = await signTags(repo, g.tags);
            await ctx.rememberServer(ref);
            results.push({
              gun,
              tags: g.tags.map((t) => ({ ...t, roles: res.signedInto[t.tag] })),
              published: res.roles,
            });
            if (!opts.json) {
              for (const t of g.tags)
                ctx.out.out(
                  `Signed ${gun}:${t.tag} ${t.digest} (${t.size} bytes) into ${(res.signedInto[t.tag] ?? []).join(', ')}\n`,
                );
            }
          } finally {
            await close();
          }
        }
        if (opts.json) printJson(ctx.out, results);
      }),
    );
}
