/**
 * The ONLY place that reads `process.env`. Every command turns its global flags plus
 * the environment into one `GlobalConfig` here and passes plain values down to the library.
 *
 * Docker's rules are followed where they exist (C:cli/trust/trust.go):
 *  - trust dir: `--trust-dir`, else `$DOCKER_CONFIG/trust`, else `~/.docker/trust`;
 *  - trust server: `--server`, else `DOCKER_CONTENT_TRUST_SERVER`, else `https://notary.docker.io` for
 *    docker.io GUNs until its shutdown (updater/server-url.ts; after it, an error), else `https://<registry host[:port]>`;
 *  - TLS CA: `--tls-ca`, else `$DOCKER_CONFIG/tls/<server host[:port]>/ca.crt` when it exists.
 * Between the environment and the registry-host default, Signet adds the server a repository was
 * initialised with (servers.ts), with the CA file given then.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignetError } from '../errors.js';
import { defaultTrustServer } from '../updater/index.js';
import { loadRememberedServers, serversFile, type RememberedServer } from './servers.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** The global flags as commander hands them over (all optional). */
export interface GlobalFlags {
  server?: string;
  tlsCa?: string;
  trustDir?: string;
  insecureRegistry?: string[];
  tofu?: boolean;
  json?: boolean;
  timeout?: string | number;
  retries?: string | number;
  pkcs11Module?: string;
  pkcs11PinFile?: string;
}

/** Where the trust server of a command came from: the flag, the environment, servers.json, or the default. */
export type ServerSource = 'flag' | 'env' | 'remembered' | 'default';

export interface ServerChoice {
  url: string;
  source: ServerSource;
  /** why this server, for error messages when it was assumed (every source but the flag) */
  why: string;
}

export interface GlobalConfig {
  trustDir: string;
  /** `$DOCKER_CONFIG` or `~/.docker`: registry credentials (`config.json`) and `tls/<host>/` CAs. */
  dockerConfigDir: string;
  /** Explicit server (flag or DOCKER_CONTENT_TRUST_SERVER), if any; else derived per image with `serverFor`. */
  serverOverride: string | undefined;
  /** `--tls-ca` file, if given. */
  tlsCaFile: string | undefined;
  insecureRegistries: string[];
  /** `--tofu` or `SIGNET_TOFU=1`: trust a first-seen root without a pin (prints a warning). */
  tofu: boolean;
  json: boolean;
  timeoutMs: number;
  /** Retries of idempotent requests (GETs) after a network error or 5xx, for trust server and registry. */
  retries: number;
  /** Passphrase variables only (NOTARY_*_PASSPHRASE, DOCKER_CONTENT_TRUST_*_PASSPHRASE), for the key retriever. */
  passphraseEnv: Record<string, string>;
  /** Trust-server basic auth from `NOTARY_AUTH` (base64 `user:pass`), as the notary CLI reads it. */
  notaryAuth: { username: string; password: string } | undefined;
  /**
   * The credentials to give the trust server at `serverUrl`: `NOTARY_AUTH`, and only when that server
   * is the one the user named (`--server` or `DOCKER_CONTENT_TRUST_SERVER`). A server derived from an
   * image name (`https://<registry host>`, notary.docker.io) is chosen by whoever wrote the name, so
   * it gets none. Registry logins (`config.json`) never go to a trust server.
   */
  trustServerAuthFor(serverUrl: string): { username: string; password: string } | undefined;
  /**
   * Module and PIN for keys on PKCS#11 tokens, when a key's URI names neither: --pkcs11-module or
   * SIGNET_PKCS11_MODULE; --pkcs11-pin-file, else SIGNET_PKCS11_PIN_FILE, else SIGNET_PKCS11_PIN.
   */
  pkcs11: { modulePath?: string; pinFile?: string; pin?: string };
  /** stdin and stderr are terminals: prompts and progress bars are allowed. */
  isTTY: boolean;
  stdoutIsTTY: boolean;
  /**
   * Trust server for an image whose registry host is `registryHost` (`docker.io` for Docker Hub):
   * --server, else DOCKER_CONTENT_TRUST_SERVER, else the one repository `gun` was initialised with,
   * else the registry host's default.
   */
  serverChoice(registryHost: string, gun?: string): ServerChoice;
  /** `serverChoice(...).url` */
  serverFor(registryHost: string, gun?: string): string;
  /** CA bundle (PEM) to trust for `serverUrl`, or undefined for the system roots. */
  caFor(serverUrl: string): Buffer | undefined;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_RETRIES = 2;

/** Snapshot of the process environment, for other CLI modules (server config, verify, pin). */
export function readEnv(): Env {
  return { ...process.env };
}

function checkServerUrl(url: string, where: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SignetError('USAGE', `${where} is not a URL: ${url}`, {
      fix: 'give the trust server as https://host[:port]',
    });
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new SignetError('USAGE', `${where} must be an https:// URL, got ${url}`);
  }
  // A trailing slash makes notary-server answer 301 and breaks publish.
  return url.replace(/\/+$/, '');
}

function parseTimeout(v: string | number | undefined, env: Env): number {
  const raw = v ?? env.SIGNET_TIMEOUT_MS;
  if (raw === undefined || raw === '') return DEFAULT_TIMEOUT_MS;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isFinite(n) || n <= 0)
    throw new SignetError('USAGE', `timeout must be a positive number of milliseconds, got ${String(raw)}`);
  return n;
}

function parseRetries(v: string | number | undefined, env: Env): number {
  const raw = v ?? env.SIGNET_RETRIES;
  if (raw === undefined || raw === '') return DEFAULT_RETRIES;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 10)
    throw new SignetError('USAGE', `retries must be an integer from 0 to 10, got ${String(raw)}`, {
      fix: 'pass --retries N or set SIGNET_RETRIES=N',
    });
  return n;
}

function truthy(v: string | undefined): boolean {
  return v === '1' || v === 'true' || v === 'yes';
}

function parseNotaryAuth(v: string | undefined): GlobalConfig['notaryAuth'] {
  if (v === undefined || v === '') return undefined;
  const decoded = Buffer.from(v, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) throw new SignetError('USAGE', 'NOTARY_AUTH must be base64 of "username:password"');
  return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

export function resolveGlobalConfig(
  flags: GlobalFlags,
  env: Env = process.env,
  tty?: { stdin: boolean; stderr: boolean; stdout: boolean },
  now: () => Date = () => new Date(),
): GlobalConfig {
  const home = env.HOME !== undefined && env.HOME !== '' ? env.HOME : os.homedir();
  const dockerConfigDir =
    env.DOCKER_CONFIG !== undefined && env.DOCKER_CONFIG !== '' ? env.DOCKER_CONFIG : path.join(home, '.docker');
  const trustDir = path.resolve(flags.trustDir ?? path.join(dockerConfigDir, 'trust'));

  let serverOverride: string | undefined;
  if (flags.server !== undefined && flags.server !== '') serverOverride = checkServerUrl(flags.server, '--server');
  else if (env.DOCKER_CONTENT_TRUST_SERVER !== undefined && env.DOCKER_CONTENT_TRUST_SERVER !== '') {
    serverOverride = checkServerUrl(env.DOCKER_CONTENT_TRUST_SERVER, 'DOCKER_CONTENT_TRUST_SERVER');
  }

  const passphraseEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) continue;
    if (/^(NOTARY|DOCKER_CONTENT_TRUST|SIGNET)_[A-Z_]*PASSPHRASE(_FILE)?$/.test(k)) passphraseEnv[k] = v;
  }

  const tlsCaFile = flags.tlsCa !== undefined && flags.tlsCa !== '' ? path.resolve(flags.tlsCa) : undefined;
  const isTTY = tty ? tty.stdin && tty.stderr : Boolean(process.stdin.isTTY) && Boolean(process.stderr.isTTY);
  const stdoutIsTTY = tty ? tty.stdout : Boolean(process.stdout.isTTY);

  const notaryAuth = parseNotaryAuth(env.NOTARY_AUTH);
  const serverSource: ServerSource | undefined =
    serverOverride === undefined ? undefined : flags.server !== undefined && flags.server !== '' ? 'flag' : 'env';
  let remembered: Record<string, RememberedServer> | undefined;
  const rememberedFor = (gun: string | undefined): RememberedServer | undefined =>
    gun === undefined ? undefined : (remembered ??= loadRememberedServers(trustDir))[gun];
  const serverChoice = (registryHost: string, gun?: string): ServerChoice => {
    if (serverOverride !== undefined && serverSource !== undefined)
      return {
        url: serverOverride,
        source: serverSource,
        why: serverSource === 'flag' ? '--server' : 'from DOCKER_CONTENT_TRUST_SERVER',
      };
    const r = rememberedFor(gun);
    if (r !== undefined)
      return {
        url: r.url,
        source: 'remembered',
        why: `remembered for ${gun} by signet init (${serversFile(trustDir)})`,
      };
    return {
      url: defaultTrustServer(registryHost, now()),
      source: 'default',
      why: `no --server and no DOCKER_CONTENT_TRUST_SERVER: the default for registry ${registryHost}`,
    };
  };
  const set = (v: string | undefined): string | undefined => (v !== undefined && v !== '' ? v : undefined);
  const pkcs11: GlobalConfig['pkcs11'] = {};
  const modulePath = set(flags.pkcs11Module) ?? set(env.SIGNET_PKCS11_MODULE);
  if (modulePath !== undefined) pkcs11.modulePath = modulePath;
  const pinFile = set(flags.pkcs11PinFile) ?? set(env.SIGNET_PKCS11_PIN_FILE);
  if (pinFile !== undefined) pkcs11.pinFile = path.resolve(pinFile);
  else if (set(env.SIGNET_PKCS11_PIN) !== undefined) pkcs11.pin = env.SIGNET_PKCS11_PIN as string;
  return {
    trustDir,
    dockerConfigDir,
    serverOverride,
    tlsCaFile,
    insecureRegistries: flags.insecureRegistry ?? [],
    tofu: flags.tofu === true || truthy(env.SIGNET_TOFU),
    json: flags.json === true,
    timeoutMs: parseTimeout(flags.timeout, env),
    retries: parseRetries(flags.retries, env),
    passphraseEnv,
    notaryAuth,
    trustServerAuthFor(serverUrl: string) {
      return serverOverride !== undefined && serverUrl === serverOverride ? notaryAuth : undefined;
    },
    pkcs11,
    isTTY,
    stdoutIsTTY,
    serverChoice,
    serverFor(registryHost: string, gun?: string): string {
      return serverChoice(registryHost, gun).url;
    },
    caFor(serverUrl: string): Buffer | undefined {
      if (tlsCaFile !== undefined) {
        try {
          return readFileSync(tlsCaFile);
        } catch (e) {
          throw new SignetError('USAGE', `cannot read the --tls-ca file ${tlsCaFile}`, {
            cause: e,
            fix: 'check the path and permissions',
          });
        }
      }
      // the CA given with --tls-ca when a repository on this server was initialised
      if (remembered !== undefined) {
        const ca = Object.values(remembered).find((r) => r.url === serverUrl && r.tlsCa !== undefined)?.tlsCa;
        if (ca !== undefined && existsSync(ca)) return readFileSync(ca);
      }
      let host: string;
      try {
        host = new URL(serverUrl).host;
      } catch {
        return undefined;
      }
      const f = path.join(dockerConfigDir, 'tls', host, 'ca.crt');
      return existsSync(f) ? readFileSync(f) : undefined;
    },
  };
}
