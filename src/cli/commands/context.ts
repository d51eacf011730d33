/**
 * The client commands' wiring: global flags → config → key store, trust server client, updater,
 * repository. Loaded by a command's action only (through clientContext in common.ts), so that
 * registering the commands and `signet --help` load none of the client library.
 */
import type { Command } from 'commander';
import { Repository } from '../../client/index.js';
import { SignetError } from '../../errors.js';
import {
  TrustDirKeyStore,
  envPassphraseRetriever,
  promptPassphraseRetriever,
  type PassphraseRetriever,
} from '../../keys/index.js';
import { parseImageReference, type ImageReference } from '../../registry/index.js';
import { NotaryRemote } from '../../remote/index.js';
import { PinStore, Updater } from '../../updater/index.js';
import { noteTrustServer } from '../hints.js';
import { rememberServer } from '../servers.js';
import { formatWarning, processOutput, type Output } from '../output.js';
import { readerContext, type ReaderContext } from './reader-context.js';

export interface ClientContext extends ReaderContext {
  retriever: PassphraseRetriever;
  keyStore: TrustDirKeyStore;
  pins: PinStore;
  /** A client of the trust server that serves `ref` (global --server, CA, timeout, retries; auth only for --server). */
  remoteFor(ref: ImageReference): NotaryRemote;
  /** The verifying reader of one repository's trust data (pins, TOFU, cache in the trust dir). */
  updaterFor(ref: ImageReference, remote: NotaryRemote, opts?: { offline?: boolean }): Updater;
  /** A repository handle for an image reference or a bare GUN. */
  repository(refOrGun: string): { repo: Repository; ref: ImageReference; close(): Promise<void> };
  /**
   * After init or sign: remember a trust server named with --server or DOCKER_CONTENT_TRUST_SERVER
   * (and its --tls-ca) for this repository, so later commands without --server use it (servers.ts).
   */
  rememberServer(ref: ImageReference): Promise<void>;
}

export function clientContext(cmd: Command, out: Output = processOutput()): ClientContext {
  const reader = readerContext(cmd, out);
  const { cfg } = reader;
  const prompt = cfg.isTTY
    ? promptPassphraseRetriever({ input: process.stdin, output: process.stderr, isTTY: true })
    : undefined;
  const retriever = envPassphraseRetriever(cfg.passphraseEnv, prompt);
  const keyStore = new TrustDirKeyStore(cfg.trustDir, retriever, { pkcs11: cfg.pkcs11 });
  const pins = new PinStore(cfg.trustDir);
  let warnedAuth = false;
  const remoteFor = (ref: ImageReference): NotaryRemote => {
    const choice = cfg.serverChoice(ref.registry, ref.name);
    noteTrustServer(choice);
    const serverUrl = choice.url;
    const ca = cfg.caFor(serverUrl);
    const auth = cfg.trustServerAuthFor(serverUrl);
    if (auth === undefined && cfg.notaryAuth !== undefined && !warnedAuth) {
      warnedAuth = true;
      out.err(
        formatWarning(
          `NOTARY_AUTH is not sent to ${serverUrl}: it was ${choice.source === 'default' ? 'derived from the image name' : choice.why}; name the trust server with --server or DOCKER_CONTENT_TRUST_SERVER to use it`,
        ),
      );
    }
    return new NotaryRemote({
      serverUrl,
      ...(ca !== undefined ? { ca } : {}),
      timeoutMs: cfg.timeoutMs,
      retries: cfg.retries,
      plainHttpHosts: cfg.insecureRegistries,
      ...(auth !== undefined ? { auth } : {}),
    });
  };
  const updaterFor = (ref: ImageReference, remote: NotaryRemote, opts: { offline?: boolean } = {}): Updater =>
    new Updater({
      gun: ref.name,
      remote,
      trustDir: cfg.trustDir,
      pins,
      tofu: cfg.tofu,
      offline: opts.offline === true,
      onWarning: (m) => out.err(formatWarning(m)),
    });
  return {
    ...reader,
    retriever,
    keyStore,
    pins,
    remoteFor,
    updaterFor,
    repository(refOrGun: string) {
      const ref = parseImageReference(refOrGun);
      const remote = remoteFor(ref);
      const reader = updaterFor(ref, remote);
      const repo = new Repository({ gun: ref.name, trustDir: cfg.trustDir, remote, keyStore, reader, pins });
      return { repo, ref, close: () => remote.close() };
    },
    async rememberServer(ref: ImageReference) {
      const choice = cfg.serverChoice(ref.registry, ref.name);
      if (choice.source !== 'flag' && choice.source !== 'env') return;
      await rememberServer(cfg.trustDir, ref.name, {
        url: choice.url,
        ...(cfg.tlsCaFile !== undefined ? { tlsCa: cfg.tlsCaFile } : {}),
      });
    },
  };
}

/** `IMAGE:TAG` → the reference with a tag, or a USAGE error. */
export function requireTag(text: string): ImageReference {
  const ref = parseImageReference(text);
  if (ref.tag === undefined || ref.digest !== undefined) {
    throw new SignetError('USAGE', `${text} needs a tag (IMAGE:TAG)`, { fix: `e.g. ${ref.familiar}:latest` });
  }
  return ref;
}
