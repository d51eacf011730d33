/**
 * `signet migrate GUN --from URL --to URL`: move a repository whose root key is in the trust dir to
 * another trust server (docs/migrate.md). Reads and verifies it on --from (pins and cache of the
 * trust dir apply), publishes it on --to with the destination's server keys, then reads it back
 * from --to through the same trust dir, so the pin is checked against what was published.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Repository } from '../../client/index.js';
import { SignetError } from '../../errors.js';
import type { NotaryRemote } from '../../remote/index.js';
import { printJson } from '../output.js';
import { clientContext, runAction, type ClientContext } from './common.js';

interface MigrateFlags {
  from?: string;
  to?: string;
  fromTlsCa?: string;
  toTlsCa?: string;
  json?: boolean;
}

async function remote(
  ctx: ClientContext,
  url: string,
  flag: string,
  caFile: string | undefined,
): Promise<NotaryRemote> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SignetError('USAGE', `${flag} is not a URL: ${url}`, { fix: `give ${flag} https://host[:port]` });
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    throw new SignetError('USAGE', `${flag} must be an https:// URL`);
  let ca: Buffer | undefined;
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile);
    } catch (cause) {
      throw new SignetError('USAGE', `cannot read ${flag}-tls-ca file ${caFile}`, { cause });
    }
  } else ca = ctx.cfg.caFor(url);
  const { NotaryRemote } = await import('../../remote/index.js');
  return new NotaryRemote({
    serverUrl: url.replace(/\/+$/, ''),
    ...(ca !== undefined ? { ca } : {}),
    timeoutMs: ctx.cfg.timeoutMs,
    retries: ctx.cfg.retries,
    ...(ctx.cfg.notaryAuth !== undefined ? { auth: ctx.cfg.notaryAuth } : {}),
  });
}

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description(
      "move a repository to another trust server with the owner's root key: the destination's server keys, the same root key, pins keep working",
    )
    .argument('<repository>', 'repository (GUN)')
    .requiredOption('--from <url>', 'the trust server that holds the repository now')
    .requiredOption('--to <url>', 'the trust server to move it to (it must not hold the repository yet)')
    .option('--from-tls-ca <file>', 'CA for --from (default: $DOCKER_CONFIG/tls/<host:port>/ca.crt)')
    .option('--to-tls-ca <file>', 'CA for --to (default: $DOCKER_CONFIG/tls/<host:port>/ca.crt)')
    .option('--json', 'print the result as JSON')
    .action(async (repository: string, opts: MigrateFlags, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
        const { parseImageReference } = await import('../../registry/index.js');
        const { migrateRepository, Repository } = await import('../../client/index.js');
        const ref = parseImageReference(repository);
        const from = await remote(ctx, opts.from as string, '--from', opts.fromTlsCa);
        const to = await remote(ctx, opts.to as string, '--to', opts.toTlsCa);
        try {
          const repo = (r: NotaryRemote): Repository =>
            new Repository({
              gun: ref.name,
              trustDir: ctx.cfg.trustDir,
              remote: r,
              keyStore: ctx.keyStore,
              reader: ctx.updaterFor(ref, r),
              pins: ctx.pins,
            });
          const result = await migrateRepository({ source: repo(from), destination: to });
          // read it back from the destination through this trust dir: pin, cache and chain must accept it
          await repo(to).read();
          if (opts.json) printJson(ctx.out, { ...result, from: opts.from, to: opts.to, verified: true });
          else {
            ctx.out.out(
              `Migrated ${result.gun} to ${opts.to}: root version ${result.rootVersion.from} → ${result.rootVersion.to} ` +
                `(same root key), timestamp key ${result.timestampKeyId.slice(0, 12)}…, snapshot signed by the ${result.snapshot}; verified there.\n` +
                `Point clients at it: --server ${opts.to} (signet), -s ${opts.to} (notary), DOCKER_CONTENT_TRUST_SERVER=${opts.to} (docker).\n`,
            );
          }
        } finally {
          await Promise.all([from.close(), to.close()]);
        }
      }),
    );
}
