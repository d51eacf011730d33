/** `signet server import`: take over a notary-server + notary-signer deployment from its databases (docs/migrate.md). */
export { importNotary, aliasVariable, type ImportOptions, type ImportReport, type ImportFailure } from './import.js';
export { openPostgresSource, type NotarySource, type SourceFile, type SourceChange, type SourceKey } from './source.js';
export { openDumpSource } from './dump.js';
export { decryptSignerKey, signerPrivateKey } from './jwe.js';
export { verifyRepository, type RepositoryCheck } from './verify.js';
