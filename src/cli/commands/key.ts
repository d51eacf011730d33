/** `signet key generate|load|list|export|import|rotate|backup|restore`. Private key material is never printed. */
import type { Command } from 'commander';
import { SignetError } from '../../errors.js';
import type { GlobalConfig } from '../config.js';
import { formatTable, printJson } from '../output.js';
import { clientContext, runAction, type ClientContext } from './common.js';

// lazy: `signet --help` and other commands load none of the client library (startup-graph test)
const client = (): Promise<typeof import('../../client/index.js')> => import('../../client/index.js');
const keys = (): Promise<typeof import('../../keys/index.js')> => import('../../keys/index.js');

const BACKUP_VAR = 'SIGNET_BACKUP_PASSPHRASE';

/** The backup passphrase: $SIGNET_BACKUP_PASSPHRASE, $SIGNET_BACKUP_PASSPHRASE_FILE, or a prompt on a TTY. */
async function backupPassphrase(cfg: GlobalConfig, createNew: boolean): Promise<string> {
  const direct = cfg.passphraseEnv[BACKUP_VAR];
  if (direct) return direct;
  const file = cfg.passphraseEnv[`${BACKUP_VAR}_FILE`];
  if (file) {
    const v = await (await keys()).readPassphraseFile(file, `${BACKUP_VAR}_FILE`);
    if (v) return v;
  }
  if (!cfg.isTTY) {
    throw new SignetError('PASSPHRASE_REQUIRED', `no passphrase for the key backup: set ${BACKUP_VAR}`, {
      fix: `export ${BACKUP_VAR}=… (or ${BACKUP_VAR}_FILE=/path/to/file), or run in a terminal to be prompted`,
      details: { variables: [BACKUP_VAR] },
    });
  }
  const ask = (await keys()).promptPassphraseRetriever({ input: process.stdin, output: process.stderr, isTTY: true });
  return ask({ keyId: 'backup', alias: 'backup', createNew, attempt: 0 });
}

/** The key text piped in (`signet key import -`), e.g. from `vault kv get -field=key …`. */
async function readStdin(ctx: ClientContext): Promise<string> {
  if (process.stdin.isTTY) ctx.out.err('Paste the PEM key, then press Ctrl-D\n');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function rotateTarget(ctx: ClientContext, gun: string): ReturnType<ClientContext['repository']> {
  return ctx.repository(gun);
}

export function registerKey(program: Command): void {
  const key = program.command('key').description('manage signing keys in the trust dir');

  key
    .command('generate')
    .description(
      'generate a signer key (ECDSA P-256, role NAME) and write NAME.pub, like `docker trust key generate`; with --pkcs11, generate it on a PKCS#11 token',
    )
    .argument('[name]', 'signer name (with --pkcs11: the role, unless --role is given)')
    .option('--dir <dir>', 'where to write NAME.pub', '.')
    .option('--pkcs11 <uri>', "generate the key on a PKCS#11 token: RFC 7512 URI, e.g. 'pkcs11:token=L;object=root1'")
    .option('--role <role>', "with --pkcs11: the key's role (root, targets, or a signer name)")
    .option('-g, --gun <gun>', 'with --pkcs11 and --role targets: the repository the key belongs to')
    .option('--json', 'print the result as JSON')
    .action(
      async (
        name: string | undefined,
        opts: { dir: string; pkcs11?: string; role?: string; gun?: string; json?: boolean },
        cmd: Command,
      ) =>
        runAction(opts.json === true, async () => {
          const ctx = await clientContext(cmd);
          if (opts.pkcs11 !== undefined) {
            const role = opts.role ?? name;
            if (role === undefined)
              throw new SignetError('USAGE', 'a token key needs a role', {
                fix: `signet key generate --pkcs11 '${opts.pkcs11}' --role root (or a signer name)`,
              });
            const res = await (
              await client()
            ).generateKeyOnToken(ctx.keyStore, opts.pkcs11, {
              role,
              ...(opts.gun !== undefined ? { gun: opts.gun } : {}),
              ...(name !== undefined ? { pub: { dir: opts.dir, name } } : {}),
            });
            if (opts.json) printJson(ctx.out, res);
            else
              ctx.out.out(
                `Generated ${res.role} key ${res.id} on the token: ${res.uri}${res.publicKeyFile ? `; public key: ${res.publicKeyFile}` : ''}\n`,
              );
            return;
          }
          if (name === undefined)
            throw new SignetError('USAGE', 'missing the signer name', { fix: 'signet key generate NAME [--dir DIR]' });
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
    .description(
      'list the private keys in the trust dir (IDs, roles and repositories only), or the keys on a PKCS#11 token',
    )
    .option('--pkcs11 <uri>', "list the keys on this token instead, e.g. 'pkcs11:token=L'")
    .option('--json', 'print as JSON')
    .action(async (opts: { pkcs11?: string; json?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
        if (opts.pkcs11 !== undefined) {
          const onToken = await (await client()).listTokenKeys(ctx.keyStore, opts.pkcs11);
          if (opts.json) printJson(ctx.out, onToken);
          else if (onToken.length === 0) ctx.out.out('No ECDSA P-256 keys on the token\n');
          else
            ctx.out.out(
              formatTable(
                ['LABEL', 'ROLE', 'KEY ID', 'URI'],
                onToken.map((k) => [k.label, k.role ?? '(not in the trust dir)', k.id, k.uri]),
              ),
            );
          return;
        }
        const keys = await (await client()).listKeys(ctx.keyStore);
        if (opts.json)
          printJson(
            ctx.out,
            keys.map((k) => ({
              id: k.id,
              role: k.role,
              gun: k.gun ?? null,
              ...(k.pkcs11 ? { pkcs11: k.pkcs11 } : {}),
            })),
          );
        else if (keys.length === 0) ctx.out.out(`No signing keys in ${ctx.cfg.trustDir}\n`);
        else
          ctx.out.out(
            formatTable(
              ['ROLE', 'GUN', 'KEY ID'],
              keys.map((k) => [k.role, k.gun ?? '', k.pkcs11 ? `${k.id} (${k.pkcs11})` : k.id]),
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
    .option('--json', 'print the result as JSON')
    .action(async (ids: string[], opts: { output: string; json?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
        const exported: string[] = [];
        const pem = await (
          await client()
        ).exportKeys(ctx.keyStore, ids, (role, id) => {
          exported.push(id);
          return ctx.retriever({ keyId: id, alias: role, createNew: true, attempt: 0 });
        });
        await (await import('../../fs/index.js')).writeFileAtomic(opts.output, pem, { mode: 0o600 });
        if (opts.json) printJson(ctx.out, { output: opts.output, keys: exported });
        else ctx.out.out(`Exported ${exported.length} key(s) to ${opts.output}\n`);
      }),
    );

  key
    .command('import')
    .description(
      'import private keys from a PEM file, standard input (-) or a file descriptor (/dev/fd/N) (notary `key export` format or a plain key)',
    )
    .argument('<file>', 'PEM file, - for standard input, or /dev/fd/N')
    .option('-r, --role <role>', 'role for keys without a role header')
    .option('-g, --gun <gun>', 'repository for targets/snapshot keys without a gun header')
    .option(
      '--to-pkcs11 <uri>',
      "write the (ECDSA P-256) key onto a PKCS#11 token instead of the trust dir, e.g. 'pkcs11:token=L;object=alice'",
    )
    .option('--json', 'print the result as JSON')
    .action(
      async (file: string, opts: { role?: string; gun?: string; toPkcs11?: string; json?: boolean }, cmd: Command) =>
        runAction(opts.json === true, async () => {
          const ctx = await clientContext(cmd);
          const headers = { ...(opts.role ? { role: opts.role } : {}), ...(opts.gun ? { gun: opts.gun } : {}) };
          if (opts.toPkcs11 !== undefined) {
            if (file === '-')
              throw new SignetError('USAGE', '--to-pkcs11 imports from a file', { fix: 'pass the key file path' });
            const r = await (
              await client()
            ).importKeyToToken(ctx.keyStore, file, opts.toPkcs11, headers, ctx.retriever);
            if (opts.json) printJson(ctx.out, [r]);
            else ctx.out.out(`Imported ${r.role} key ${r.id} onto the token: ${r.uri}\n`);
            return;
          }
          const res =
            file === '-'
              ? await (await client()).importKeyText(ctx.keyStore, await readStdin(ctx), 'standard input', headers)
              : await (await client()).importKeys(ctx.keyStore, file, headers);
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
    .option(
      '--key <id|uri>',
      "root or targets: use this key (a trust-dir key ID or a PKCS#11 URI 'pkcs11:token=L;object=root2') instead of a new one",
    )
    .option('--json', 'print the result as JSON')
    .action(
      async (
        repository: string,
        role: string,
        opts: { serverManaged?: boolean; key?: string; json?: boolean },
        cmd: Command,
      ) =>
        runAction(opts.json === true, async () => {
          const ctx = await clientContext(cmd);
          const { repo, close } = rotateTarget(ctx, repository);
          try {
            const c = await client();
            const keyId =
              opts.key === undefined
                ? undefined
                : await c.keyIdFor(ctx.keyStore, opts.key, role === 'targets' ? { role, gun: repo.gun } : { role });
            const res = await c.rotateKey(repo, role, {
              ...(opts.serverManaged === undefined ? {} : { serverManaged: opts.serverManaged }),
              ...(keyId === undefined ? {} : { keyId }),
            });
            if (opts.json)
              printJson(ctx.out, {
                gun: repo.gun,
                role: res.role,
                serverManaged: res.serverManaged,
                keyId: res.keyId,
                canonicalId: res.canonicalId,
                published: res.roles,
              });
            else if (res.role === 'root')
              // as init prints them: the key's own ID (its file in private/) and the certificate's (the pin)
              ctx.out.out(
                `Rotated the root key of ${repo.gun}\n  root key:      ${res.canonicalId}\n  root cert ID:  ${res.keyId}\n`,
              );
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
    .description(
      `write an encrypted archive of every private key and the root pins of the trust dir (passphrase: $${BACKUP_VAR})`,
    )
    .argument('<file>', 'archive to write (mode 0600)')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { json?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
        const n = await (
          await client()
        ).backupKeys(ctx.keyStore, file, await backupPassphrase(ctx.cfg, true), ctx.cfg.trustDir);
        if (opts.json) printJson(ctx.out, { file, keys: n.keys, pins: n.pins });
        else ctx.out.out(`Backed up ${n.keys} key(s) and ${n.pins} pin(s) to ${file}\n`);
      }),
    );

  key
    .command('restore')
    .description(`restore the keys of a backup archive into the trust dir (passphrase: $${BACKUP_VAR})`)
    .argument('<file>', 'archive written by `signet key backup`')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { json?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
        const r = await (await client()).restoreKeys(file, await backupPassphrase(ctx.cfg, false), ctx.cfg.trustDir);
        if (opts.json) printJson(ctx.out, { trustDir: ctx.cfg.trustDir, keys: r.ids, pins: r.pins });
        else ctx.out.out(`Restored ${r.ids.length} key(s) and ${r.pins.length} pin(s) into ${ctx.cfg.trustDir}\n`);
      }),
    );
}
