/**
 * `signet server import` body (loaded only by that command): resolves Signet's storage and signer
 * passphrase as `signet server` does, opens the notary source, runs the import, prints the report.
 * Exit 0 only when every repository was imported and verified.
 */
import pino from 'pino';
import { SignetError } from '../errors.js';
import {
  aliasVariable,
  importNotary,
  openDumpSource,
  openPostgresSource,
  type ImportReport,
  type NotarySource,
} from '../import/index.js';
import { signerPassphrase } from '../server/index.js';
import { LocalServerSigner } from '../signer/index.js';
import { openStore } from '../storage/index.js';
import { readEnv } from './config.js';
import { exitCodeFor, formatError } from './output.js';
import { resolveServerConfig, type ServerFlags } from './server-config.js';
import { mkdir } from 'node:fs/promises';

export interface ImportFlags extends Pick<ServerFlags, 'dataDir' | 'database' | 'signerPassphraseFile' | 'config'> {
  fromServerDb?: string;
  fromSignerDb?: string;
  fromDump?: string;
  json?: boolean;
}

function openSource(flags: ImportFlags): NotarySource {
  const db = flags.fromServerDb;
  if ((db === undefined) === (flags.fromDump === undefined)) {
    throw new SignetError('USAGE', 'name the notary deployment to import: either --from-server-db or --from-dump', {
      fix: 'pass --from-server-db postgres://… (and --from-signer-db postgres://…) or --from-dump DIR',
    });
  }
  if (flags.fromDump !== undefined) {
    if (flags.fromSignerDb !== undefined) {
      throw new SignetError('USAGE', '--from-signer-db goes with --from-server-db; a dump holds private_keys itself');
    }
    return openDumpSource(flags.fromDump);
  }
  for (const [flag, url] of [
    ['--from-server-db', db],
    ['--from-signer-db', flags.fromSignerDb],
  ] as const) {
    if (url !== undefined && !/^postgres(ql)?:\/\//i.test(url)) {
      throw new SignetError('USAGE', `${flag} must be a postgres:// URL`, {
        fix: `for MySQL, export the tables and use --from-dump (docs/migrate.md)`,
      });
    }
  }
  return openPostgresSource(db as string, flags.fromSignerDb);
}

export function formatReport(r: ImportReport): string {
  const lines = [
    `repositories: ${r.repositories.source} in the source, ${r.repositories.imported} imported, ${r.repositories.alreadyCurrent} already current, ${r.repositories.verified} verified, ${r.failures.length} failed`,
    `files: ${r.files.source} in the source, ${r.files.imported} imported, ${r.files.alreadyPresent} already present`,
    `changefeed: ${r.changefeed.sourceUpdates} update records, ${r.changefeed.updatesPresent} present in Signet, ${r.changefeed.updatesOfDeleted} of deleted repositories; ${r.changefeed.sourceDeletions} deletion records not carried over`,
    `server keys: ${r.keys.source} in the signer, ${r.keys.imported} imported, ${r.keys.alreadyPresent} already present, ${r.keys.skipped.length} skipped`,
  ];
  if (r.repositories.stale > 0)
    lines.push(`${r.repositories.stale} repositories have an expired timestamp: Signet re-signs it on the first read`);
  if (r.withoutTimestampKey.length > 0)
    lines.push(`no timestamp key for: ${r.withoutTimestampKey.join(', ')} (import the signer database too)`);
  for (const s of r.keys.skipped) lines.push(`skipped key ${s.keyId}: ${s.reason}`);
  for (const f of r.failures) lines.push(`FAILED ${f.gun}: ${f.code}: ${f.message}`);
  return lines.join('\n') + '\n';
}

export async function runImport(flags: ImportFlags): Promise<void> {
  try {
    const env = readEnv();
    const config = resolveServerConfig(flags, env);
    const source = openSource(flags);
    try {
      await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
      const logger = pino({ level: 'warn' }, pino.destination(2));
      const store = await openStore({
        ...(config.database ? { database: config.database } : {}),
        dataDir: config.dataDir,
        logger: { warn: (o, msg) => logger.warn(o, msg) },
      });
      try {
        const passphrase = await signerPassphrase(config.dataDir, config.signerPassphrase, logger);
        const signer = new LocalServerSigner({ keys: store.keys, passphrase });
        // keys already stored must be ones this passphrase decrypts (not another passphrase's, not a token's)
        await signer.checkPassphrase();
        const report = await importNotary({
          source,
          store,
          signer,
          passphrase: (alias) => env[aliasVariable(alias)],
          ...(flags.json ? {} : { progress: (line: string) => void process.stderr.write(line + '\n') }),
        });
        process.stdout.write(flags.json ? JSON.stringify(report) + '\n' : formatReport(report));
        if (report.failures.length > 0) process.exitCode = 1;
      } finally {
        await store.close();
      }
    } finally {
      await source.close();
    }
  } catch (err) {
    process.stderr.write(formatError(err, flags.json === true));
    process.exitCode = exitCodeFor(err);
  }
}
