/**
 * `signet server signer` body (loaded only by that command, so no other command loads grpc):
 * resolves flags > environment > defaults, checks everything it can before creating anything
 * (listen address free, TLS files usable, data dir, passphrase or PKCS#11 token), opens the key store and runs the
 * gRPC signer service (signer/grpc/service.ts) until SIGTERM/SIGINT. docs/signer-service.md.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { SignetError } from '../errors.js';
import { parseListen } from '../listen.js';
import {
  acquireDataDirLock,
  checkListenFree,
  checkLogLevel,
  createPassphrase,
  entriesOf,
  existingPassphrase,
  prepareDataDir,
  removeCreated,
} from '../server/index.js';
import { parsePkcs11Uri, type Pkcs11Settings } from '../keys/index.js';
import { startSignerService, type SignerService } from '../signer/index.js';
import { openStore, type MetaStore } from '../storage/index.js';
import { readEnv, type Env } from './config.js';
import { escapeControl, exitCodeFor, formatError } from './output.js';

export interface SignerServiceFlags {
  listen?: string;
  tlsCert?: string;
  tlsKey?: string;
  clientCa?: string;
  dataDir?: string;
  database?: string;
  signerPassphraseFile?: string;
  /** token URI: keys generated and used on it (global --pkcs11-module / --pkcs11-pin-file give module and PIN) */
  pkcs11?: string;
  pkcs11Module?: string;
  pkcs11PinFile?: string;
  logLevel?: string;
}

/** notary-signer's usual gRPC port (N:fixtures/signer-config.json `grpc_addr`). */
export const DEFAULT_SIGNER_LISTEN = '127.0.0.1:7899';

export interface SignerServiceConfig {
  listen: string;
  tls: { certFile: string; keyFile: string; clientCaFile: string };
  dataDir: string;
  database: string | undefined;
  signerPassphrase: string | undefined;
  /** keys on a PKCS#11 token instead of encrypted in the database */
  pkcs11: { uri: string; settings: Pkcs11Settings } | undefined;
  logLevel: string;
}

export function resolveSignerServiceConfig(
  flags: SignerServiceFlags,
  env: Env,
  home = os.homedir(),
): SignerServiceConfig {
  const pick = (...vals: (string | undefined)[]): string | undefined => vals.find((v) => v !== undefined && v !== '');
  const certFile = pick(flags.tlsCert, env.SIGNET_SIGNER_TLS_CERT);
  const keyFile = pick(flags.tlsKey, env.SIGNET_SIGNER_TLS_KEY);
  const clientCaFile = pick(flags.clientCa, env.SIGNET_SIGNER_CLIENT_CA);
  const missing = [
    certFile === undefined ? '--tls-cert' : undefined,
    keyFile === undefined ? '--tls-key' : undefined,
    clientCaFile === undefined ? '--client-ca' : undefined,
  ].filter((f) => f !== undefined);
  if (missing.length > 0 || certFile === undefined || keyFile === undefined || clientCaFile === undefined) {
    throw new SignetError('USAGE', `the signer service needs mutual TLS: ${missing.join(', ')} missing`, {
      fix: 'give --tls-cert and --tls-key (the service certificate and its key) and --client-ca (the CA that signs the certificates of notary-server or Signet servers calling it); docs/signer-service.md shows how to make them',
    });
  }
  let signerPassphrase = env.SIGNET_SIGNER_PASSPHRASE;
  const passFile = pick(flags.signerPassphraseFile, env.SIGNET_SIGNER_PASSPHRASE_FILE);
  const pkcs11 = pkcs11Config(flags, env, pick);
  if (pkcs11 !== undefined && (passFile !== undefined || pick(signerPassphrase) !== undefined)) {
    throw new SignetError('USAGE', 'a signer passphrase and --pkcs11 were both given', {
      fix: 'with --pkcs11 the keys stay on the token and nothing is encrypted with a passphrase: drop --signer-passphrase-file / SIGNET_SIGNER_PASSPHRASE[_FILE], or drop --pkcs11',
    });
  }
  if (passFile !== undefined) {
    try {
      signerPassphrase = readFileSync(passFile, 'utf8').trim();
    } catch (cause) {
      throw new SignetError('USAGE', `cannot read the signer passphrase file ${passFile}`, { cause });
    }
  }
  return {
    listen: pick(flags.listen, env.SIGNET_SIGNER_LISTEN) ?? DEFAULT_SIGNER_LISTEN,
    tls: { certFile: path.resolve(certFile), keyFile: path.resolve(keyFile), clientCaFile: path.resolve(clientCaFile) },
    dataDir: path.resolve(pick(flags.dataDir, env.SIGNET_SIGNER_DATA_DIR) ?? path.join(home, '.signet', 'signer')),
    database: pick(flags.database, env.SIGNET_SIGNER_DATABASE),
    signerPassphrase,
    pkcs11,
    logLevel: pick(flags.logLevel, env.SIGNET_LOG_LEVEL) ?? 'info',
  };
}

/** --pkcs11 (SIGNET_SIGNER_PKCS11); module and PIN as the client takes them (docs/hsm.md). */
function pkcs11Config(
  flags: SignerServiceFlags,
  env: Env,
  pick: (...vals: (string | undefined)[]) => string | undefined,
): SignerServiceConfig['pkcs11'] {
  const uri = pick(flags.pkcs11, env.SIGNET_SIGNER_PKCS11);
  if (uri === undefined) return undefined;
  parsePkcs11Uri(uri); // a bad URI is refused before anything is created
  const settings: Pkcs11Settings = {};
  const modulePath = pick(flags.pkcs11Module, env.SIGNET_PKCS11_MODULE);
  if (modulePath !== undefined) settings.modulePath = modulePath;
  const pinFile = pick(flags.pkcs11PinFile, env.SIGNET_PKCS11_PIN_FILE);
  if (pinFile !== undefined) settings.pinFile = path.resolve(pinFile);
  else if (pick(env.SIGNET_PKCS11_PIN) !== undefined) settings.pin = env.SIGNET_PKCS11_PIN;
  return { uri, settings };
}

/** Starts the service; a refused start leaves the data dir as it was. Resolves once it listens. */
export async function startSignerServiceFromConfig(
  config: SignerServiceConfig,
  logger: pino.Logger,
): Promise<{ service: SignerService; close: () => Promise<void> }> {
  const { host, port } = parseListen(config.listen);
  await checkListenFree(host, port, '--listen');
  const isPg = /^postgres(ql)?:\/\//i.test(config.database ?? '');
  const createdDir = await prepareDataDir(config.dataDir);
  const before = await entriesOf(config.dataDir);
  let unlock: (() => Promise<void>) | undefined;
  let store: MetaStore | undefined;
  try {
    // SQLite: one process per data dir, as `signet server`
    if (!isPg) unlock = await acquireDataDirLock(config.dataDir);
    store = await openStore({
      ...(config.database !== undefined ? { database: config.database } : {}),
      dataDir: config.dataDir,
      logger: { warn: (o, msg) => logger.warn(o, msg) },
    });
    const given =
      config.pkcs11 === undefined ? await existingPassphrase(config.dataDir, config.signerPassphrase) : undefined;
    if (config.pkcs11 === undefined && given === undefined && (await store.keys.first()) !== null) {
      throw new SignetError(
        'BAD_PASSPHRASE',
        'no signer passphrase was given and the data directory holds none, but the database holds keys',
        {
          fix: 'give the passphrase the keys were stored with: --signer-passphrase-file FILE, SIGNET_SIGNER_PASSPHRASE_FILE or SIGNET_SIGNER_PASSPHRASE',
        },
      );
    }
    // with a token, no passphrase is made: nothing is encrypted with one
    const custody =
      config.pkcs11 !== undefined
        ? { pkcs11: config.pkcs11 }
        : { passphrase: given ?? (await createPassphrase(config.dataDir, logger)) };
    const opened = store;
    const service = await startSignerService({
      host,
      port,
      tls: config.tls,
      keys: opened.keys,
      audit: opened.audit,
      ...custody,
      ping: () => opened.ping(),
      log: logger,
    });
    const release = unlock;
    let closing: Promise<void> | undefined;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        await service.close();
        await opened.close();
        if (release !== undefined) await release();
      })());
    return { service, close };
  } catch (err) {
    await store?.close().catch(() => undefined);
    if (unlock !== undefined) await unlock().catch(() => undefined);
    await removeCreated(config.dataDir, createdDir, before).catch(() => undefined);
    throw err;
  }
}

export async function runSignerService(flags: SignerServiceFlags): Promise<void> {
  try {
    const config = resolveSignerServiceConfig(flags, readEnv());
    checkLogLevel(config.logLevel);
    const logger = pino({ level: config.logLevel, base: { service: 'signet-signer' } }, pino.destination(2));
    const { service, close } = await startSignerServiceFromConfig(config, logger);
    const stop = (signal: string): void => {
      logger.info({ signal }, 'signer service stopping');
      close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.stderr.write(
      `Signet signer service (notary-signer gRPC API, mutual TLS) on ${host(service)}; for notary-server: "trust_service": {"type": "remote", "hostname": …, "port": "${service.port}", …} (docs/signer-service.md)\n`,
    );
  } catch (err) {
    process.stderr.write(escapeControl(formatError(err)) + '\n');
    process.exitCode = exitCodeFor(err);
  }
}

function host(s: SignerService): string {
  return `${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`;
}
