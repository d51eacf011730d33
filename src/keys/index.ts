/**
 * src/keys public API: private keys, notary's key file format, passphrase retrievers and the
 * trust-directory key store. See docs/architecture.md and N:client/client.go, N:passphrase/passphrase.go.
 */
export type { PrivateKey, PrivateKeyType } from './private-key.js';
export { generatePrivateKey, privateKeyFromKeyObject } from './private-key.js';
export type { Pbes2Info } from './pkcs8.js';
export { describePbes2, toNotaryPkcs8, fromPkcs8, NOTARY_PBKDF2_ITERATIONS } from './pkcs8.js';
export type { KeyFileMeta } from './key-pem.js';
export { decodeKeyPem, encodeKeyPem, inspectKeyPem, publicKeyPem } from './key-pem.js';
export type { PemBlock } from './pem.js';
export { encodePem, decodePemBlocks } from './pem.js';
export type { PassphraseRequest, PassphraseRetriever, PromptIo } from './passphrase.js';
export {
  envPassphraseRetriever,
  promptPassphraseRetriever,
  constantPassphraseRetriever,
  passphraseEnvVars,
  passphraseFromEnv,
  readPassphraseFile,
  MIN_NEW_PASSPHRASE_LENGTH,
  sameSecret,
} from './passphrase.js';
export type { KeyListEntry, StoredPrivateKey } from './keystore.js';
export { TrustDirKeyStore, keyFileGun } from './keystore.js';
export { writeBackup, restoreBackup, restoreBackupWithExtras, readBackup, type BackupExtras } from './backup.js';
export type { Pkcs11Settings } from './pkcs11/module.js';
export type { Pkcs11Uri } from './pkcs11/uri.js';
export { isPkcs11Uri, parsePkcs11Uri, formatPkcs11Uri } from './pkcs11/uri.js';
export type { TokenKeyRef, TokenKeyMeta } from './pkcs11/refs.js';
export type { TokenKey } from './pkcs11/objects.js';
export { TokenKeyStore } from './pkcs11/refs.js';
export { readImportPem } from './key-import.js';
export { TokenServerKeys } from './pkcs11/server-keys.js';
