/**
 * `signet server`: the trust server's flags. The body (configuration, start) is in
 * ../server-config.ts (../server-workers.ts for --workers), imported when the command runs; `signet server import`
 * likewise in ../server-import.ts, `signet server signer` in ../signer-service-run.ts.
 */
import type { Command } from 'commander';
import type { ImportFlags } from '../server-import.js';
import type { SignerServiceFlags } from '../signer-service-run.js';
import type { WorkerFlags } from '../server-workers.js';

export function registerServerCommand(program: Command): void {
  const server = program.command('server');
  server
    .description('run the trust server (Notary v1 API, compatible with notary 0.7 and docker trust)')
    .option('--listen <host:port>', 'address to listen on (env SIGNET_LISTEN; default 127.0.0.1:4443)')
    .option(
      '--data-dir <dir>',
      'data directory: SQLite database, TLS material, signer passphrase (env SIGNET_DATA_DIR; default ~/.signet/server)',
    )
    .option('--database <url>', 'postgres://user:pass@host:5432/db instead of SQLite (env SIGNET_DATABASE)')
    .option('--tls-cert <file>', 'TLS certificate chain (PEM) instead of the generated local CA (env SIGNET_TLS_CERT)')
    .option('--tls-key <file>', 'TLS private key (PEM) for --tls-cert (env SIGNET_TLS_KEY)')
    .option('--insecure-http', 'serve plain HTTP, for use behind a TLS-terminating proxy (env SIGNET_INSECURE_HTTP=1)')
    .option(
      '--signer-passphrase-file <file>',
      'file holding the passphrase that encrypts server keys (env SIGNET_SIGNER_PASSPHRASE[_FILE])',
    )
    .option(
      '--remote-signer <host:port>',
      "sign with notary-signer's gRPC API at this address (mutual TLS): the server holds no key and no passphrase (env SIGNET_REMOTE_SIGNER; docs/remote-signer.md)",
    )
    .option(
      '--remote-signer-ca <file>',
      "CA certificate(s) that issued the signer's certificate, PEM (env SIGNET_REMOTE_SIGNER_CA)",
    )
    .option(
      '--remote-signer-cert <file>',
      'client certificate presented to the signer, PEM (env SIGNET_REMOTE_SIGNER_CERT)',
    )
    .option('--remote-signer-key <file>', 'private key of --remote-signer-cert, PEM (env SIGNET_REMOTE_SIGNER_KEY)')
    .option(
      '--remote-signer-server-name <name>',
      "name the signer's certificate carries, when not the host of --remote-signer (env SIGNET_REMOTE_SIGNER_SERVER_NAME)",
    )
    .option(
      '--remote-signer-timeout <duration>',
      'deadline of each call to the signer (env SIGNET_REMOTE_SIGNER_TIMEOUT; default 10s)',
    )
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace (env SIGNET_LOG_LEVEL; default info)')
    .option('--config <file>', 'JSON config file (env SIGNET_CONFIG); flags and env override it')
    .option('--auth-token-realm <url>', 'token auth: URL of the token service (env SIGNET_AUTH_TOKEN_REALM)')
    .option('--auth-token-service <name>', 'token auth: service name = token audience (env SIGNET_AUTH_TOKEN_SERVICE)')
    .option('--auth-token-issuer <name>', 'token auth: accepted token issuer (env SIGNET_AUTH_TOKEN_ISSUER)')
    .option(
      '--auth-token-rootcert <file>',
      'token auth: PEM bundle of the certificates that sign tokens (env SIGNET_AUTH_TOKEN_ROOTCERT)',
    )
    .option(
      '--audit-log <file>',
      "audit trail file, '-' for stdout (env SIGNET_AUDIT_LOG; default <data-dir>/audit.log)",
    )
    .option('--no-audit-log', 'write no audit trail')
    .option(
      '--metrics-listen <host:port|off>',
      'serve /metrics only on this plain-HTTP address (e.g. 127.0.0.1:9464), or nowhere with off (env SIGNET_METRICS_LISTEN; default: on the main listener, behind auth when auth is on)',
    )
    .option(
      '--expiry-webhook <url>',
      'POST a JSON alert to this URL when client-held trust data nears expiry (env SIGNET_EXPIRY_WEBHOOK; docs/dashboard.md)',
    )
    .option(
      '--expiry-warn <duration>',
      'how long before an expiry to alert, and to show it as a warning on the dashboard (env SIGNET_EXPIRY_WARN; default 30d)',
    )
    .option(
      '--auth-htpasswd <file>',
      'basic auth from an htpasswd file of bcrypt entries (htpasswd -B), as docker-registry reads (env SIGNET_AUTH_HTPASSWD)',
    )
    .option(
      '--allow-anonymous-writes',
      'without auth, let anyone publish, delete and make keys also when listening beyond loopback (env SIGNET_ALLOW_ANONYMOUS_WRITES=1)',
    )
    .option(
      '--max-inflight-body-bytes <n>',
      'publish body bytes received at once, all requests together (env SIGNET_MAX_INFLIGHT_BODY_BYTES; default 268435456)',
    )
    .option('--max-connections <n>', 'open connections accepted at once (env SIGNET_MAX_CONNECTIONS; default 1024)')
    .option(
      '--workers <n>',
      'serve from N worker processes sharing the port, e.g. one per CPU core (env SIGNET_WORKERS; default: one process; docs/performance.md)',
    )
    .action(async (flags: WorkerFlags) => {
      // lazy: the server stack is loaded only by the command that needs it (client start-up time)
      const { runServerCommand } = await import('../server-workers.js');
      await runServerCommand(flags);
    });
  server
    .command('import')
    .description(
      "take over a notary-server deployment: every repository's history and the server-held keys, from its databases (docs/migrate.md)",
    )
    .option(
      '--from-server-db <url>',
      "notary-server's PostgreSQL database (postgres://…): tables tuf_files, changefeed",
    )
    .option('--from-signer-db <url>', "notary-signer's PostgreSQL database (postgres://…): table private_keys")
    .option('--from-dump <dir>', 'a directory of table dumps (tuf_files, changefeed, private_keys as .csv or .tsv)')
    .option('--data-dir <dir>', "Signet's data directory (env SIGNET_DATA_DIR; default ~/.signet/server)")
    .option('--database <url>', "Signet's PostgreSQL database instead of SQLite (env SIGNET_DATABASE)")
    .option(
      '--signer-passphrase-file <file>',
      'the passphrase the Signet server encrypts its keys with (env SIGNET_SIGNER_PASSPHRASE[_FILE])',
    )
    .option('--config <file>', "Signet's server config file (env SIGNET_CONFIG)")
    .option('--json', 'print the report as JSON')
    .action(async (_flags: ImportFlags, cmd: Command) => {
      // `server` declares --data-dir, --database, … too and takes them wherever they stand
      const { runImport } = await import('../server-import.js');
      await runImport(cmd.optsWithGlobals<ImportFlags>());
    });
  server
    .command('signer')
    .description(
      "run a signer service speaking notary-signer's gRPC API over mutual TLS, for notary-server or Signet servers (docs/signer-service.md)",
    )
    .option('--listen <host:port>', 'gRPC address (env SIGNET_SIGNER_LISTEN; default 127.0.0.1:7899)')
    .option('--tls-cert <file>', 'the service certificate chain, PEM (env SIGNET_SIGNER_TLS_CERT; required)')
    .option('--tls-key <file>', 'the private key of --tls-cert, PEM (env SIGNET_SIGNER_TLS_KEY; required)')
    .option(
      '--client-ca <file>',
      "CA bundle the callers' client certificates must chain to; calls without one are refused (env SIGNET_SIGNER_CLIENT_CA; required)",
    )
    .option(
      '--data-dir <dir>',
      'SQLite database and passphrase file (env SIGNET_SIGNER_DATA_DIR; default ~/.signet/signer)',
    )
    .option('--database <url>', 'postgres://user:pass@host:5432/db instead of SQLite (env SIGNET_SIGNER_DATABASE)')
    .option(
      '--signer-passphrase-file <file>',
      'file holding the passphrase that encrypts the keys (env SIGNET_SIGNER_PASSPHRASE[_FILE]; default <data-dir>/signer.passphrase)',
    )
    .option(
      '--pkcs11 <uri>',
      'keep the keys on this PKCS#11 token instead (pkcs11:token=<label>; module and PIN from --pkcs11-module and --pkcs11-pin-file; env SIGNET_SIGNER_PKCS11); no passphrase is used (docs/signer-service.md)',
    )
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace (env SIGNET_LOG_LEVEL; default info)')
    .action(async (_flags: SignerServiceFlags, cmd: Command) => {
      // `server` declares --listen, --tls-cert, --data-dir, … too and takes them wherever they stand
      const { runSignerService } = await import('../signer-service-run.js');
      await runSignerService(cmd.optsWithGlobals<SignerServiceFlags>());
    });
}
