/**
 * `signet server --remote-signer HOST:PORT …`: the remote signer's settings, flags > environment
 * (SIGNET_REMOTE_SIGNER*) > the config file's `remoteSigner` object; paths in the config file are
 * relative to it. Loaded with server-config.ts only (docs/remote-signer.md).
 */
import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { SignetError } from '../errors.js';
import { parseListen } from '../listen.js';
import type { RemoteSignerConfig } from '../server/index.js';
import type { Env } from './config.js';

export interface RemoteSignerFlags {
  remoteSigner?: string;
  remoteSignerCa?: string;
  remoteSignerCert?: string;
  remoteSignerKey?: string;
  remoteSignerServerName?: string;
  remoteSignerTimeout?: string;
}

export const RemoteSignerConfigFile = z
  .object({
    address: z.string().min(1),
    ca: z.string().min(1).optional(),
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    serverName: z.string().min(1).optional(),
    timeout: z.string().min(1).optional(),
  })
  .strict();
export type RemoteSignerConfigFile = z.infer<typeof RemoteSignerConfigFile>;

/**
 * The remote signer of the flags/env/config file, or undefined when none is named. A passphrase
 * given alongside is refused: with a remote signer the server holds no key to encrypt.
 */
export function resolveRemoteSigner(
  flags: RemoteSignerFlags & { signerPassphraseFile?: string },
  env: Env,
  file: RemoteSignerConfigFile | undefined,
  rel: (p: string | undefined) => string | undefined,
  passphraseGiven: boolean,
): RemoteSignerConfig | undefined {
  const pick = (...vals: (string | undefined)[]): string | undefined => vals.find((v) => v !== undefined && v !== '');
  const address = pick(flags.remoteSigner, env.SIGNET_REMOTE_SIGNER, file?.address);
  const caFile = pick(flags.remoteSignerCa, env.SIGNET_REMOTE_SIGNER_CA, rel(file?.ca));
  const certFile = pick(flags.remoteSignerCert, env.SIGNET_REMOTE_SIGNER_CERT, rel(file?.cert));
  const keyFile = pick(flags.remoteSignerKey, env.SIGNET_REMOTE_SIGNER_KEY, rel(file?.key));
  const serverName = pick(flags.remoteSignerServerName, env.SIGNET_REMOTE_SIGNER_SERVER_NAME, file?.serverName);
  const timeout = pick(flags.remoteSignerTimeout, env.SIGNET_REMOTE_SIGNER_TIMEOUT, file?.timeout);
  if (address === undefined) {
    const stray = [
      [caFile, '--remote-signer-ca'],
      [certFile, '--remote-signer-cert'],
      [keyFile, '--remote-signer-key'],
      [serverName, '--remote-signer-server-name'],
      [timeout, '--remote-signer-timeout'],
    ].find(([v]) => v !== undefined);
    if (stray !== undefined)
      throw new SignetError('USAGE', `${stray[1] as string} was given without --remote-signer`, {
        fix: 'add --remote-signer HOST:PORT (the notary-signer gRPC address), or drop the remote signer settings',
      });
    return undefined;
  }
  const { host, port } = parseListen(address, '--remote-signer');
  if (host === '0.0.0.0' || port === 0)
    throw new SignetError(
      'USAGE',
      `--remote-signer must name the signer's host and port, got ${JSON.stringify(address)}`,
      {
        fix: 'e.g. --remote-signer notary-signer.internal:7899',
      },
    );
  if (caFile === undefined)
    throw new SignetError(
      'USAGE',
      '--remote-signer needs --remote-signer-ca: the CA certificate that issued the signer’s certificate',
      {
        fix: `signet server --remote-signer ${address} --remote-signer-ca ca.crt --remote-signer-cert client.crt --remote-signer-key client.key`,
      },
    );
  if ((certFile === undefined) !== (keyFile === undefined))
    throw new SignetError('USAGE', '--remote-signer-cert and --remote-signer-key must be given together', {
      fix: 'give the client certificate notary-signer accepts and its private key',
    });
  if (passphraseGiven)
    throw new SignetError(
      'USAGE',
      'a signer passphrase was given with --remote-signer: the remote signer holds the keys, the server has none to encrypt',
      {
        fix: 'drop --signer-passphrase-file / SIGNET_SIGNER_PASSPHRASE[_FILE] / signerPassphraseFile, or drop --remote-signer',
      },
    );
  let timeoutMs: number | undefined;
  if (timeout !== undefined) {
    timeoutMs = parseDuration(timeout);
    if (timeoutMs === undefined || timeoutMs <= 0)
      throw new SignetError(
        'USAGE',
        `--remote-signer-timeout must be a duration such as 10s, got ${JSON.stringify(timeout)}`,
        {
          fix: 'e.g. --remote-signer-timeout 10s',
        },
      );
  }
  return {
    address: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
    caFile,
    ...(certFile !== undefined ? { certFile, keyFile } : {}),
    ...(serverName !== undefined ? { serverName } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
}
