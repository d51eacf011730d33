/** `signet key generate|load|list|export|import|rotate|backup|restore`. Private key material is never printed. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { SignetError } from '../../errors.js';
import type { GlobalConfig } from '../config.js';
import { formatTable, printJson } from '../output.js';
import { clientContext, runAction, type ClientContext } from './common.js';

/** The client library, loaded when a key command runs (not when the commands are registered). */
const client = (): Promise<typeof import('../../client/index.js')> => import('../../client/index.js');

const BACKUP_VAR = 'SIGNET_BACKUP_PASSPHRASE';

/** The backup passphrase: $SIGNET_BACKUP_PASSPHRASE, $SIGNET_BACKUP_PASSPHRASE_FILE, or a prompt on a TTY. */
async function backupPassphrase(cfg: GlobalConfig, createNew: boolean): Promise<string> {
  const direct = cfg.passphraseEnv[BACKUP_VAR];
  if (direct) return direct;
  const file = cfg.passphraseEnv[`${BACKUP_VAR}_FILE`];
  if (file) {
    try {
      const v = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
      if (v) return v;
    } catch (e) {
      throw new SignetError('PASSPHRASE_REQUIRED', `cannot read ${BACKUP_VAR}_FILE (${file})`, { cause: e });
    }
  }
  if (!cfg.isTTY) {
    throw new SignetError('PASSPHRASE_REQUIRED', `no passphrase for the key backup: set ${BACKUP_VAR}`, {
      fix: `export ${BACKUP_VAR}=… (or ${BACKUP_VAR}_FILE=/path/to/file), or run in a terminal to be prompted`,
      details: { variables: [BACKUP_VAR] },
    });
  }
  const { promptPassphraseRetriever } = await import('../../keys/index.js');
  const ask = promptPassphraseRetriever({ input: process.stdin, output: process.stderr, isTTY: true });
  return ask({ keyId: 'backup', alias: 'backup', createNew, attempt: 0 });
}

function rotateTarget(ctx: ClientContext, gun: string): ReturnType<ClientContext['repository']> {
  return ctx.repository(gun);
}

export function registerKey(program: Command): void {
  const key = program.command('key').description('manage signing keys in the trust dir');

  key
    .command('generate')
    .description('generate a signer key (ECDSA P-256, role NAME) and write NAME.pub, like `docker trust key generate`')
    .argument('<name>', 'signer name')
    .option('--dir <dir>', 'where to write NAME.pub', '.')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, opts: { dir: string; json?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
        const res = await (await client()).generateSignerKey(ctx.keyStore, name, opts.dir);
        if (opts.json) printJson(ctx.out, res);
        else ctx.out.out(`Generated key ${res.id} for signer "${name}"; public key: ${res.publicKeyFile}\n`);
      }),
    );

  key
    .command('load')
    .description('import a signer private key (PEM); fails loudly on a file it cannot use')
    .argument('<file>', 'private key PEM (must not be readable by group/others)')
    .option('--name <name>', 'signer name for a key without a role header', 'signer')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { name: string; json?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
        const res = await (await client()).loadSignerKey(ctx.keyStore, file, opts.name);
        if (opts.json) printJson(ctx.out, res);
        else ctx.out.out(`Loaded key ${res.id} as signer "${res.role}"\n`);
      }),
    );

  key
    .command('list')
    .description('list the private keys in the trust dir (IDs, roles and repositories only)')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
        const keys = await (await client()).listKeys(ctx.keyStore);
        if (opts.json)
          printJson(
            ctx.out,
            keys.map((k) => ({ id: k.id, role: k.role, gun: k.gun ?? null })),
          );
        else if (keys.length === 0) ctx.out.out(`No signing keys in ${ctx.cfg.trustDir}\n`);
        else
          ctx.out.out(
            formatTable(
              ['ROLE', 'GUN', 'KEY ID'],
              keys.map((k) => [k.role, k.gun ?? '', k.id]),
            ),
          );
      }),
    );

  key
    .command('export')
    .description(
      'export private keys in notary `key export` format (PEM with a path header), each re-encrypted with its role passphrase',
    )
    .argument('[ids...]', 'key IDs or ID prefixes (default: all)')
    .requiredOption('-o, --output <file>', 'file to write (mode 0600)')
    .action(async (ids: string[], opts: { output: string }, cmd: Command) =>
      runAction(false, async () => {
        const ctx = await clientContext(cmd);
        const pem = await (
          await client()
        ).exportKeys(ctx.keyStore, ids, (role, id) =>
          ctx.retriever({ keyId: id, alias: role, createNew: true, attempt: 0 }),
        );
        await (await import('../../fs/index.js')).writeFileAtomic(opts.output, pem, { mode: 0o600 });
        ctx.out.out(`Exported key(s) to ${opts.output}\n`);
      }),
    );

  key
    .command('import')
    .description('import private keys from a PEM file (notary `key export` format or a plain key)')
    .argument('<file>', 'PEM file')
    .option('-r, --role <role>', 'role for keys without a role header')
    .option('-g, --gun <gun>', 'repository for targets/snapshot keys without a gun header')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { role?: string; gun?: string; json?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
        const res = await (
          await client()
        ).importKeys(ctx.keyStore, file, {
          ...(opts.role ? { role: opts.role } : {}),
          ...(opts.gun ? { gun: opts.gun } : {}),
        });
        if (opts.json) printJson(ctx.out, res);
        else for (const k of res) ctx.out.out(`Imported ${k.role} key ${k.id}\n`);
      }),
    );

  key
    .command('rotate')
    .description(
      'replace a repository key and publish a new root: root, targets, snapshot (local or --server-managed), timestamp (server)',
    )
    .argument('<repository>', 'repository (GUN)')
    .argument('<role>', 'root | targets | snapshot | timestamp')
    .option('--server-managed', 'the server holds the new key (snapshot, timestamp)')
    .option('--json', 'print the result as JSON')
    .action(async (repository: string, role: string, opts: { serverManaged?: boolean; json?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
        const { repo, close } = rotateTarget(ctx, repository);
        try {
          const res = await (
            await client()
          ).rotateKey(repo, role, opts.serverManaged === undefined ? {} : { serverManaged: opts.serverManaged });
          if (opts.json)
            printJson(ctx.out, {
              gun: repo.gun,
              role: res.role,
              serverManaged: res.serverManaged,
              keyId: res.keyId,
              canonicalId: res.canonicalId,
              published: res.roles,
            });
          else
            ctx.out.out(
              `Rotated the ${res.role} key of ${repo.gun}: new key ${res.keyId}${res.serverManaged ? ' (held by the server)' : ''}\n`,
            );
        } finally {
          await close();
        }
      }),
    );

  key
    .command('backup')
    .description(`write an encrypted archive of every private key in the trust dir (passphrase: $${BACKUP_VAR})`)
    .argument('<file>', 'archive to write (mode 0600)')
    .action(async (file: string, _opts: unknown, cmd: Command) =>
      runAction(false, async () => {
        const ctx = await clientContext(cmd);
        const n = await (await client()).backupKeys(ctx.keyStore, file, await backupPassphrase(ctx.cfg, true));
        ctx.out.out(`Backed up ${n} key(s) to ${file}\n`);
      }),
    );

  key
    .command('restore')
    .description(`restore the keys of a backup archive into the trust dir (passphrase: $${BACKUP_VAR})`)
    .argument('<file>', 'archive written by `signet key backup`')
    .action(async (file: string, _opts: unknown, cmd: Command) =>
      runAction(false, async () => {
        const ctx = await clientContext(cmd);
        const ids = await (await client()).restoreKeys(file, await backupPassphrase(ctx.cfg, false), ctx.cfg.trustDir);
        ctx.out.out(`Restored ${ids.length} key(s) into ${ctx.cfg.trustDir}\n`);
      }),
    );
}
