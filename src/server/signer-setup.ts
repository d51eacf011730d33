/**
 * The server's signer at start-up: the built-in one (keys encrypted in the database under the
 * signer passphrase) or, with `remoteSigner`, notary-signer's gRPC API over mutual TLS
 * (docs/remote-signer.md). With a remote signer no passphrase is read or created and no key is
 * stored here.
 */
import type { Logger } from 'pino';
import { SignetError } from '../errors.js';
import type { MetaStore } from '../storage/index.js';
import { LocalServerSigner, readPem, RemoteServerSigner, type ServerSigner } from '../signer/index.js';
import { createPassphrase, existingPassphrase } from './passphrase.js';

/** Where the remote signer is and the files of the mutual TLS to it. */
export interface RemoteSignerConfig {
  /** HOST:PORT of notary-signer's gRPC listener */
  address: string;
  /** PEM CA certificate(s) that issued the signer's certificate */
  caFile: string;
  /** PEM client certificate and key (notary-signer asks for a client certificate) */
  certFile?: string | undefined;
  keyFile?: string | undefined;
  /** name the signer's certificate must carry, when not the host of `address` */
  serverName?: string | undefined;
  /** deadline of each call to the signer, ms (default 10 s) */
  timeoutMs?: number | undefined;
}

const DOC = 'docs/remote-signer.md';

async function openRemote(rc: RemoteSignerConfig, store: MetaStore, logger: Logger): Promise<ServerSigner> {
  const signer = await RemoteServerSigner.connect({
    address: rc.address,
    ca: await readPem(rc.caFile, '--remote-signer-ca', "the remote signer's CA", DOC),
    cert:
      rc.certFile === undefined
        ? undefined
        : await readPem(rc.certFile, '--remote-signer-cert', 'the client certificate', DOC),
    key: rc.keyFile === undefined ? undefined : await readPem(rc.keyFile, '--remote-signer-key', 'the client key', DOC),
    serverName: rc.serverName,
    timeoutMs: rc.timeoutMs,
    audit: store.audit,
  });
  if ((await store.keys.first()) !== null) {
    logger.warn(
      'the database holds server keys of the built-in signer, which the remote signer does not have: repositories signed with them need `notary key rotate GUN timestamp -r` (and snapshot -r) before they can publish again',
    );
  }
  // like notary-server, start even when the signer is down: health reports it, publishes answer 503
  await signer.checkHealth().then(
    () => logger.info({ signer: rc.address }, 'remote signer ready'),
    (err: unknown) =>
      logger.warn({ signer: rc.address, err: (err as Error)?.message }, 'remote signer not reachable yet'),
  );
  return signer;
}

/** The signer the server signs with; the local one checks its passphrase against the stored keys. */
export async function openServerSigner(
  config: { dataDir: string; signerPassphrase?: string | undefined; remoteSigner?: RemoteSignerConfig | undefined },
  store: MetaStore,
  logger: Logger,
): Promise<ServerSigner> {
  if (config.remoteSigner !== undefined) return openRemote(config.remoteSigner, store, logger);
  const keys = store.keys;
  const given = await existingPassphrase(config.dataDir, config.signerPassphrase);
  if (given === undefined && (await keys.first()) !== null) {
    throw new SignetError(
      'BAD_PASSPHRASE',
      'no signer passphrase was given and the data directory holds none, but the database holds server keys',
      {
        fix: 'give the passphrase the server was first started with: --signer-passphrase-file FILE, SIGNET_SIGNER_PASSPHRASE_FILE or SIGNET_SIGNER_PASSPHRASE',
      },
    );
  }
  const passphrase = given ?? (await createPassphrase(config.dataDir, logger));
  const signer = new LocalServerSigner({ keys, passphrase });
  await signer.checkPassphrase();
  return signer;
}
