/**
 * Configuration of `signet server`: flags > environment (SIGNET_*) > JSON config file > defaults;
 * see docs/server.md. Loaded only when the server command runs (commands/server.ts imports it
 * lazily), so client commands never load the server stack (fastify, kysely, SQLite, pg).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { SignetError } from '../errors.js';
import { LOG_LEVELS, startServer, type ServerConfig, type ServerOptions } from '../server/index.js';
import { readEnv, type Env } from './config.js';
import { RemoteSignerConfigFile, resolveRemoteSigner, type RemoteSignerFlags } from './remote-signer-config.js';
import { escapeControl, exitCodeFor, formatError } from './output.js';

export interface ServerFlags extends RemoteSignerFlags {
  listen?: string;
  dataDir?: string;
  database?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecureHttp?: boolean;
  config?: string;
  signerPassphraseFile?: string;
  logLevel?: string;
  authTokenRealm?: string;
  authTokenService?: string;
  authTokenIssuer?: string;
  authTokenRootcert?: string;
  /** a file, '-' (stdout), or false (`--no-audit-log`) */
  auditLog?: string | false;
  /** HOST:PORT of a listener of their own for /metrics, or 'off' */
  metricsListen?: string;
  /** URL expiry alerts are POSTed to */
  expiryWebhook?: string;
  /** duration before an expiry to alert (e.g. 30d) */
  expiryWarn?: string;
  authHtpasswd?: string;
  allowAnonymousWrites?: boolean;
  maxInflightBodyBytes?: string;
  maxConnections?: string;
}

const AuthAction = z.enum(['pull', 'push', '*']);
const AuthConfigFile = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('token'),
      realm: z.string().min(1).optional(),
      service: z.string().min(1).optional(),
      issuer: z.string().min(1).optional(),
      rootCertBundle: z.string().min(1).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('basic'),
      realm: z.string().min(1).optional(),
      users: z.record(
        z
          .string()
          .min(1)
          .regex(/^[^:]+$/, 'a user name cannot contain ":"'),
        z
          .object({
            passwordBcrypt: z
              .string()
              .regex(/^\$2[aby]\$/, 'must be a bcrypt hash ($2y$…, htpasswd -nB USER)')
              .optional(),
            passwordSha256: z
              .string()
              .regex(/^[0-9a-fA-F]{64}$/, 'must be the hex SHA-256 of the password')
              .optional(),
            repositories: z.record(z.string().min(1), z.array(AuthAction)),
          })
          .strict()
          .refine((u) => (u.passwordBcrypt === undefined) !== (u.passwordSha256 === undefined), {
            message: 'give one of passwordBcrypt, passwordSha256',
          }),
      ),
    })
    .strict(),
  z.object({ type: z.literal('htpasswd'), realm: z.string().min(1).optional(), path: z.string().min(1) }).strict(),
]);

const ConfigFile = z
  .object({
    listen: z.string().optional(),
    dataDir: z.string().optional(),
    database: z.string().optional(),
    tlsCert: z.string().optional(),
    tlsKey: z.string().optional(),
    insecureHttp: z.boolean().optional(),
    signerPassphraseFile: z.string().optional(),
    remoteSigner: RemoteSignerConfigFile.optional(),
    logLevel: z.enum(LOG_LEVELS).optional(),
    auth: AuthConfigFile.optional(),
    auditLog: z.union([z.string().min(1), z.literal(false)]).optional(),
    metricsListen: z.string().min(1).optional(),
    expiry: z
      .object({ webhook: z.string().min(1).optional(), warn: z.string().min(1).optional() })
      .strict()
      .optional(),
    allowAnonymousWrites: z.boolean().optional(),
    limits: z
      .object({
        bodyLimit: z.number().int().positive().optional(),
        roleSizeLimit: z.number().int().positive().optional(),
        maxParts: z.number().int().positive().optional(),
        maxInflightBodyBytes: z.number().int().positive().optional(),
        maxConnections: z.number().int().positive().optional(),
        keyRequestsPerMinute: z.number().positive().optional(),
        keyRequestBurst: z.number().int().positive().optional(),
        unpublishedKeyMaxAgeHours: z.number().min(0).optional(),
      })
      .strict()
      .optional(),
    cache: z
      .object({
        maxAgeCurrent: z.number().int().min(0).max(31_536_000).optional(),
        maxAgeConsistent: z.number().int().min(0).max(31_536_000).optional(),
        ttlMs: z.number().int().min(0).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
type ConfigFile = z.infer<typeof ConfigFile>;

function truthy(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
}

function readConfigFile(file: string): ConfigFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new SignetError('USAGE', `cannot read the config file ${file}: ${(cause as Error).message}`, { cause });
  }
  const r = ConfigFile.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new SignetError(
      'USAGE',
      `config file ${file}: ${issue?.path.join('.') || '(top level)'}: ${issue?.message ?? 'invalid'}`,
      {
        fix: 'see docs/server.md for the config file fields',
      },
    );
  }
  return r.data;
}

/** Flags > env > config file > defaults; relative paths in the config file are relative to it. */
export function resolveServerConfig(flags: ServerFlags, env: Env, home = os.homedir()): ServerConfig {
  const configPath = flags.config ?? env.SIGNET_CONFIG;
  const file: ConfigFile = configPath ? readConfigFile(configPath) : {};
  const rel = (p: string | undefined): string | undefined =>
    p === undefined || configPath === undefined ? p : path.resolve(path.dirname(configPath), p);
  const pick = <T>(...vals: (T | undefined)[]): T | undefined => vals.find((v) => v !== undefined && v !== '');

  const listen = pick(flags.listen, env.SIGNET_LISTEN, file.listen) ?? '127.0.0.1:4443';
  const dataDir = path.resolve(
    pick(flags.dataDir, env.SIGNET_DATA_DIR, rel(file.dataDir)) ?? path.join(home, '.signet', 'server'),
  );
  const database = pick(flags.database, env.SIGNET_DATABASE, file.database);
  const tlsCert = pick(flags.tlsCert, env.SIGNET_TLS_CERT, rel(file.tlsCert));
  const tlsKey = pick(flags.tlsKey, env.SIGNET_TLS_KEY, rel(file.tlsKey));
  const insecureHttp = flags.insecureHttp === true || truthy(env.SIGNET_INSECURE_HTTP) || file.insecureHttp === true;

  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new SignetError('USAGE', '--tls-cert and --tls-key must be given together');
  }
  if (insecureHttp && tlsCert !== undefined) {
    throw new SignetError('USAGE', '--insecure-http cannot be combined with --tls-cert/--tls-key');
  }
  const tls: ServerConfig['tls'] = insecureHttp
    ? { mode: 'insecure-http' }
    : tlsCert !== undefined && tlsKey !== undefined
      ? { mode: 'files', certFile: tlsCert, keyFile: tlsKey }
      : { mode: 'auto' };

  let signerPassphrase = env.SIGNET_SIGNER_PASSPHRASE;
  const passFile = pick(flags.signerPassphraseFile, env.SIGNET_SIGNER_PASSPHRASE_FILE, rel(file.signerPassphraseFile));
  if (passFile !== undefined) {
    try {
      signerPassphrase = readFileSync(passFile, 'utf8').trim();
    } catch (cause) {
      throw new SignetError('USAGE', `cannot read the signer passphrase file ${passFile}`, { cause });
    }
  }

  const options: Partial<ServerOptions> = {
    ...(file.limits?.bodyLimit !== undefined ? { bodyLimit: file.limits.bodyLimit } : {}),
    ...(file.limits?.roleSizeLimit !== undefined ? { roleSizeLimit: file.limits.roleSizeLimit } : {}),
    ...(file.limits?.maxParts !== undefined ? { maxParts: file.limits.maxParts } : {}),
    ...(file.limits?.keyRequestsPerMinute !== undefined
      ? { keyRequestsPerMinute: file.limits.keyRequestsPerMinute }
      : {}),
    ...(file.limits?.keyRequestBurst !== undefined ? { keyRequestBurst: file.limits.keyRequestBurst } : {}),
    ...(file.cache?.maxAgeCurrent !== undefined ? { maxAgeCurrent: file.cache.maxAgeCurrent } : {}),
    ...(file.cache?.maxAgeConsistent !== undefined ? { maxAgeConsistent: file.cache.maxAgeConsistent } : {}),
    ...(file.cache?.ttlMs !== undefined ? { cacheTtlMs: file.cache.ttlMs } : {}),
  };
  const bodyLimitEnv = env.SIGNET_BODY_LIMIT;
  if (bodyLimitEnv !== undefined && bodyLimitEnv !== '') {
    const n = Number(bodyLimitEnv);
    if (!Number.isInteger(n) || n <= 0)
      throw new SignetError('USAGE', 'SIGNET_BODY_LIMIT must be a positive integer (bytes)');
    options.bodyLimit = n;
  }
  const inflight = positiveInt(
    pick(flags.maxInflightBodyBytes, env.SIGNET_MAX_INFLIGHT_BODY_BYTES),
    '--max-inflight-body-bytes (SIGNET_MAX_INFLIGHT_BODY_BYTES)',
  );
  const maxInflightBodyBytes = inflight ?? file.limits?.maxInflightBodyBytes;
  if (maxInflightBodyBytes !== undefined) options.maxInflightBodyBytes = maxInflightBodyBytes;
  const maxConnections =
    positiveInt(pick(flags.maxConnections, env.SIGNET_MAX_CONNECTIONS), '--max-connections (SIGNET_MAX_CONNECTIONS)') ??
    file.limits?.maxConnections;
  const allowAnonymousWrites =
    flags.allowAnonymousWrites === true ||
    truthy(env.SIGNET_ALLOW_ANONYMOUS_WRITES) ||
    file.allowAnonymousWrites === true;
  const keyAgeHours = file.limits?.unpublishedKeyMaxAgeHours;

  Object.assign(options, resolveExpiry(flags, env, file.expiry));

  const auth = resolveAuth(flags, env, file.auth, rel);
  const auditLog =
    flags.auditLog === false
      ? false
      : (pick<string | false>(
          flags.auditLog,
          env.SIGNET_AUDIT_LOG,
          file.auditLog === false || file.auditLog === '-' ? file.auditLog : rel(file.auditLog),
        ) ?? undefined);

  const metricsListen = pick(flags.metricsListen, env.SIGNET_METRICS_LISTEN, file.metricsListen);
  const remoteSigner = resolveRemoteSigner(flags, env, file.remoteSigner, rel, signerPassphrase !== undefined);

  return {
    listen,
    ...(metricsListen !== undefined ? { metricsListen } : {}),
    dataDir,
    database,
    tls,
    signerPassphrase,
    ...(remoteSigner !== undefined ? { remoteSigner } : {}),
    logLevel: pick(flags.logLevel, env.SIGNET_LOG_LEVEL, file.logLevel) ?? 'info',
    options,
    ...(auth !== undefined ? { auth } : {}),
    ...(auditLog !== undefined ? { auditLog } : {}),
    ...(allowAnonymousWrites ? { allowAnonymousWrites } : {}),
    ...(maxConnections !== undefined ? { maxConnections } : {}),
    ...(keyAgeHours !== undefined ? { unpublishedKeyMaxAgeMs: keyAgeHours * 3_600_000 } : {}),
  };
}

/** --expiry-webhook and --expiry-warn (flags > env > config file `expiry`). */
function resolveExpiry(flags: ServerFlags, env: Env, file: ConfigFile['expiry']): Partial<ServerOptions> {
  const pick = (...vals: (string | undefined)[]): string | undefined => vals.find((v) => v !== undefined && v !== '');
  const out: Partial<ServerOptions> = {};
  const webhook = pick(flags.expiryWebhook, env.SIGNET_EXPIRY_WEBHOOK, file?.webhook);
  if (webhook !== undefined) {
    let u: URL | undefined;
    try {
      u = new URL(webhook);
    } catch {
      u = undefined;
    }
    if (u === undefined || (u.protocol !== 'http:' && u.protocol !== 'https:'))
      throw new SignetError('USAGE', '--expiry-webhook must be an http:// or https:// URL', {
        fix: 'e.g. --expiry-webhook https://alerts.example.com/hooks/signet',
      });
    out.expiryWebhook = webhook;
  }
  const warn = pick(flags.expiryWarn, env.SIGNET_EXPIRY_WARN, file?.warn);
  if (warn !== undefined) {
    const ms = parseDuration(warn);
    if (ms === undefined || ms <= 0)
      throw new SignetError(
        'USAGE',
        `--expiry-warn must be a duration such as 30d, 72h or 90m, got ${JSON.stringify(warn)}`,
        {
          fix: 'e.g. --expiry-warn 30d',
        },
      );
    out.expiryWarnMs = ms;
  }
  return out;
}

function positiveInt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n <= 0)
    throw new SignetError('USAGE', `${flag} must be a positive whole number, not ${JSON.stringify(v)}`, {
      fix: `give ${flag.split(' ')[0]} a number such as 268435456`,
    });
  return n;
}

/** Token auth from flags > env > config file (all four settings needed), else the file's basic auth. */
function resolveAuth(
  flags: ServerFlags,
  env: Env,
  file: ConfigFile['auth'],
  rel: (p: string | undefined) => string | undefined,
): ServerConfig['auth'] {
  const pick = (...vals: (string | undefined)[]): string | undefined => vals.find((v) => v !== undefined && v !== '');
  const fileToken = file?.type === 'token' ? file : undefined;
  const realm = pick(flags.authTokenRealm, env.SIGNET_AUTH_TOKEN_REALM, fileToken?.realm);
  const service = pick(flags.authTokenService, env.SIGNET_AUTH_TOKEN_SERVICE, fileToken?.service);
  const issuer = pick(flags.authTokenIssuer, env.SIGNET_AUTH_TOKEN_ISSUER, fileToken?.issuer);
  const rootCertBundle = pick(flags.authTokenRootcert, env.SIGNET_AUTH_TOKEN_ROOTCERT, rel(fileToken?.rootCertBundle));
  const given = [realm, service, issuer, rootCertBundle].filter((v) => v !== undefined).length;
  const htpasswd = pick(flags.authHtpasswd, env.SIGNET_AUTH_HTPASSWD);
  if (htpasswd !== undefined) {
    if (given > 0 || (file !== undefined && file.type !== 'htpasswd'))
      throw new SignetError('USAGE', '--auth-htpasswd cannot be combined with other auth settings', {
        fix: 'give either --auth-htpasswd or token auth (or the config file auth), not both',
      });
    return { type: 'htpasswd', file: htpasswd, realm: file?.type === 'htpasswd' ? file.realm : undefined };
  }
  if (given === 0) {
    if (file?.type === 'htpasswd') return { type: 'htpasswd', file: rel(file.path) ?? file.path, realm: file.realm };
    return file?.type === 'basic' ? file : undefined;
  }
  if (file?.type === 'htpasswd')
    throw new SignetError('USAGE', 'token auth settings were given, but the config file configures htpasswd auth');
  if (file?.type === 'basic')
    throw new SignetError('USAGE', 'token auth settings were given, but the config file configures basic auth');
  if (realm === undefined || service === undefined || issuer === undefined || rootCertBundle === undefined) {
    throw new SignetError('USAGE', 'token auth needs a realm, a service, an issuer and a root certificate bundle', {
      fix: 'give all of --auth-token-realm, --auth-token-service, --auth-token-issuer and --auth-token-rootcert',
    });
  }
  return { type: 'token', realm, service, issuer, rootCertBundle };
}

/** What to tell the user so that notary and docker trust this server. */
export function clientInstructions(url: string, caFile: string | undefined): string {
  const u = new URL(url);
  const hostPort = `${u.hostname === '0.0.0.0' || u.hostname === '[::]' ? '127.0.0.1' : u.hostname}:${u.port}`;
  const server = `${u.protocol}//${hostPort}`;
  const lines = [`Signet trust server at ${server}`];
  if (caFile !== undefined) {
    lines.push(
      '',
      'notary CLI:',
      `  notary -s ${server} --tlscacert ${caFile} -d ~/.notary <command>`,
      `  or in ~/.notary/config.json: {"remote_server":{"url":"${server}","root_ca":"${caFile}"}}`,
      '',
      'docker (trust server CA + server URL):',
      `  mkdir -p ~/.docker/tls/${hostPort} && cp ${caFile} ~/.docker/tls/${hostPort}/ca.crt`,
      `  export DOCKER_CONTENT_TRUST_SERVER=${server}`,
      '  export DOCKER_CONTENT_TRUST=1',
    );
  } else if (u.protocol === 'http:') {
    lines.push('', 'plain HTTP: notary accepts it (-s http://…); docker requires https (put a TLS proxy in front).');
  }
  return lines.join('\n') + '\n';
}

/** The server command's body: resolve the configuration, start, print how clients connect. */
export async function runServer(flags: ServerFlags): Promise<void> {
  try {
    const config = resolveServerConfig(flags, readEnv());
    const running = await startServer(config);
    process.stderr.write(clientInstructions(running.url, running.caFile));
  } catch (err) {
    process.stderr.write(escapeControl(formatError(err)) + '\n');
    process.exitCode = exitCodeFor(err);
  }
}
