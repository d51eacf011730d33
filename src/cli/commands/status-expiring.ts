/**
 * `signet status --expiring DURATION [repository]`: the roles and root certificates of the
 * repositories the trust dir knows (its cached metadata) that expire within DURATION, or already
 * have, soonest first. Exit code 10 (EXIT.EXPIRING) when any is listed, so a cron job or CI step can
 * act on it (docs/client.md). Reads only the trust dir: run `signet target list` or `verify` first to
 * refresh the cache.
 */
import { parseDuration } from '../../duration.js';
import { SignetError } from '../../errors.js';
import { parseImageReference } from '../../registry/index.js';
import { expiringWithin, expiryView } from '../../tuf/index.js';
import { cachedExpiries, cachedGuns, formatAge, type CachedExpiry } from '../../updater/index.js';
import { EXIT, formatTable, printJson } from '../output.js';
import type { ClientContext } from './common.js';

export interface ExpiringFlags {
  expiring: string;
  at?: string;
  json?: boolean;
}

function parseAt(at: string | undefined): Date {
  if (at === undefined) return new Date();
  const t = Date.parse(at);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(at) || Number.isNaN(t))
    throw new SignetError('USAGE', `--at must be an RFC 3339 time, got ${JSON.stringify(at)}`, {
      fix: 'e.g. --at 2027-01-31T00:00:00Z',
    });
  return new Date(t);
}

export async function statusExpiring(ctx: ClientContext, flags: ExpiringFlags, repository?: string): Promise<void> {
  const windowMs = parseDuration(flags.expiring);
  if (windowMs === undefined)
    throw new SignetError(
      'USAGE',
      `--expiring must be a duration such as 30d, 72h or 0, got ${JSON.stringify(flags.expiring)}`,
      {
        fix: 'e.g. signet status --expiring 30d',
      },
    );
  const at = parseAt(flags.at);
  const trustDir = ctx.cfg.trustDir;
  const guns = repository !== undefined ? [parseImageReference(repository).name] : await cachedGuns(trustDir);
  const all: CachedExpiry[] = [];
  for (const gun of guns) all.push(...(await cachedExpiries(trustDir, gun)));
  if (repository !== undefined && all.length === 0)
    throw new SignetError('NOT_FOUND', `the trust dir ${trustDir} holds no trust data of ${guns[0] ?? repository}`, {
      fix: `fetch it first (signet target list ${repository}), or give the trust dir with --trust-dir`,
    });
  const expiring = expiringWithin(all, at, windowMs);
  const rows = expiring.map((i) => expiryView(i, at));
  if (flags.json) {
    printJson(ctx.out, {
      at: at.toISOString(),
      windowSeconds: Math.floor(windowMs / 1000),
      repositories: guns.length,
      expiring: rows,
    });
  } else if (rows.length === 0) {
    ctx.out.out(`Nothing expires within ${flags.expiring} in ${guns.length} repositories of ${trustDir}\n`);
  } else {
    ctx.out.out(
      formatTable(
        ['REPOSITORY', 'ROLE', 'KIND', 'VERSION', 'EXPIRES', 'LEFT'],
        rows.map((r) => [
          r.gun,
          r.role,
          r.kind === 'certificate' ? `certificate ${(r.keyId ?? '').slice(0, 12)}` : r.kind,
          String(r.version),
          r.expires,
          r.expired ? `expired ${formatAge(-r.secondsLeft * 1000)} ago` : formatAge(r.secondsLeft * 1000),
        ]),
      ),
    );
  }
  if (rows.length > 0) process.exitCode = EXIT.EXPIRING;
}
