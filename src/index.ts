/**
 * Signet's public library API. Each layer is available as a namespace (`tuf`, `keys`, `http`,
 * `registry`, `remote`, `updater`, `client`, `sigstore`, `enforce`, `admission`), and the classes most programs start from are re-exported directly.
 *
 *   import { client, Repository, NotaryRemote, TrustDirKeyStore, Updater, PinStore } from 'signet';
 */
export { SignetError, isSignetError, type SignetErrorCode } from './errors.js';
export * as tuf from './tuf/index.js';
export * as keys from './keys/index.js';
export * as http from './http/index.js';
export * as registry from './registry/index.js';
export * as remote from './remote/index.js';
export * as updater from './updater/index.js';
export * as client from './client/index.js';
export * as sigstore from './sigstore/index.js';
export * as enforce from './enforce/index.js';
export * as admission from './admission/index.js';

export {
  Repository,
  signTags,
  revokeTags,
  addSigner,
  removeSigner,
  rotateKey,
  inspectRepo,
  verifyImage,
} from './client/index.js';
export { NotaryRemote } from './remote/index.js';
export { RegistryClient, parseImageReference } from './registry/index.js';
export { Updater, PinStore } from './updater/index.js';
export { createEnforcer, loadPolicy, type Enforcer, type Verdict } from './enforce/index.js';
export { TrustDirKeyStore, envPassphraseRetriever, generatePrivateKey } from './keys/index.js';
