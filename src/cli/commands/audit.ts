/**
 * `signet audit verify` and `signet audit export`: read the trust server's hash-chained audit trail
 * (storage/audit.ts) from the database `signet server` uses (the same --data-dir / --database /
 * --config / SIGNET_* resolution). Storage is loaded only when one of them runs, as `signet
 * server` does, so client commands never load database modules.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Command } from 'commander';
import { SignetError } from '../../errors.js';
import type { AuditEntry, AuditProblem, MetaStore } from '../../storage/index.js';
import { escapeControl, exitCodeFor, formatError } from '../output.js';

interface AuditFlags {
  dataDir?: string;
  database?: string;
  config?: string;
  since?: string;
  out?: string;
  json?: boolean;
}

const PAGE = 1000;

async function openServerStore(flags: AuditFlags): Promise<MetaStore> {
  const [{ resolveServerConfig }, { readEnv }, { openStore }] = await Promise.all([
    import('../server-config.js'),
    import('../config.js'),
    import('../../storage/index.js'),
  ]);
  const cfg = resolveServerConfig(
    {
      ...(flags.dataDir !== undefined ? { dataDir: flags.dataDir } : {}),
      ...(flags.database !== undefined ? { database: flags.database } : {}),
      ...(flags.config !== undefined ? { config: flags.config } : {}),
    },
    readEnv(),
  );
  return openStore({ dataDir: cfg.dataDir, ...(cfg.database !== undefined ? { database: cfg.database } : {}) });
}

/** Every entry with seq > `after`, page by page, oldest first. */
async function* entries(store: MetaStore, after: number): AsyncGenerator<AuditEntry> {
  let last = after;
  for (;;) {
    const page = await store.audit.list({ afterSeq: last, limit: PAGE });
    if (page.length === 0) return;
    yield* page;
    last = (page[page.length - 1] as AuditEntry).seq;
  }
}

async function run(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    process.stderr.write(escapeControl(formatError(err)) + '\n');
    process.exitCode = exitCodeFor(err);
  }
}

async function verify(flags: AuditFlags): Promise<void> {
  const store = await openServerStore(flags);
  const { AuditChainCheck } = await import('../../storage/index.js');
  const check = new AuditChainCheck();
  try {
    for await (const e of entries(store, 0)) check.add(e);
  } finally {
    await store.close();
  }
  const { problems, head, count } = check;
  if (flags.json === true) {
    process.stdout.write(JSON.stringify({ ok: problems.length === 0, entries: count, head, problems }) + '\n');
  } else if (problems.length === 0) {
    process.stdout.write(
      `audit trail intact: ${count} entries; last entry ${head.seq}, hash ${head.hash}\n` +
        'record the last entry and hash elsewhere: a later verify that ends before them means entries were cut off\n',
    );
  }
  if (problems.length > 0) throw broken(problems);
}

function broken(problems: AuditProblem[]): SignetError {
  const lines = problems.slice(0, 50).map((p) => `  entry ${p.seq}: ${p.message}`);
  if (problems.length > 50) lines.push(`  … and ${problems.length - 50} more`);
  return new SignetError('AUDIT_BROKEN', `the audit trail has been tampered with:\n${lines.join('\n')}`, {
    details: { seqs: [...new Set(problems.map((p) => p.seq))] },
    fix: 'compare with an exported copy (signet audit export) or a backup to see what was changed',
  });
}

function sinceOf(flags: AuditFlags): number {
  if (flags.since === undefined) return 0;
  if (!/^\d{1,15}$/.test(flags.since)) {
    throw new SignetError('USAGE', `--since must be an entry number (seq), got ${JSON.stringify(flags.since)}`, {
      fix: 'give --since N to export the entries after entry N',
    });
  }
  return Number(flags.since);
}

async function exportEntries(flags: AuditFlags): Promise<void> {
  const since = sinceOf(flags);
  const store = await openServerStore(flags);
  const { auditLine } = await import('../../server/index.js');
  let out: WriteStream | undefined;
  try {
    if (flags.out !== undefined && flags.out !== '-') {
      out = createWriteStream(flags.out, { flags: 'wx', mode: 0o600 });
      await new Promise<void>((resolve, reject) => {
        out
          ?.once('open', () => resolve())
          .once('error', (cause) =>
            reject(
              new SignetError('USAGE', `cannot create --out file ${flags.out}: ${cause.message}`, {
                cause,
                fix: 'name a file that does not exist yet in a writable directory',
              }),
            ),
          );
      });
    }
    const sink: NodeJS.WritableStream = out ?? process.stdout;
    for await (const e of entries(store, since)) {
      if (!sink.write(auditLine(e))) await new Promise((r) => sink.once('drain', r));
    }
  } finally {
    await store.close();
    if (out !== undefined) {
      const o = out;
      await new Promise<void>((resolve) => o.end(() => resolve()));
    }
  }
}

export function registerAudit(program: Command): void {
  const audit = program
    .command('audit')
    .description("the trust server's hash-chained audit trail (docs/audit.md)")
    .option('--data-dir <dir>', "the server's data directory (env SIGNET_DATA_DIR; default ~/.signet/server)")
    .option('--database <url>', "the server's PostgreSQL database instead of SQLite (env SIGNET_DATABASE)")
    .option('--config <file>', "the server's config file (env SIGNET_CONFIG)");
  audit
    .command('verify')
    .description('check every entry against its hash and the chain; names each edited, removed or reordered entry')
    .option('--json', 'print the result as JSON')
    .action(async (_f: AuditFlags, cmd: Command) => run(() => verify(cmd.optsWithGlobals<AuditFlags>())));
  audit
    .command('export')
    .description('write the entries as JSON lines (each with its hash) for a SIEM')
    .option('--since <seq>', 'only the entries after entry <seq>')
    .option('--out <file>', 'write to this new file (mode 0600) instead of stdout')
    .action(async (_f: AuditFlags, cmd: Command) => run(() => exportEntries(cmd.optsWithGlobals<AuditFlags>())));
}
