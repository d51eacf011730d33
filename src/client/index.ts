/** src/client public API: `docker trust` / `notary` client operations over a trust dir. */
export { Changelist } from './changelist.js';
export type {
  Change,
  ChangeAction,
  ChangeType,
  DelegationChange,
  DelegationEdit,
  RootRoleChange,
  TargetChange,
} from './change.js';
export { changelistDir, gunDir, metadataDir, roleCachePath } from './paths.js';
export { Repository } from './repository.js';
export type {
  RepositoryOptions,
  TrustedReader,
  RootPins,
  TrustedView,
  InitResult,
  PublishReport,
} from './repository.js';
export { WorkingRepo, type KeySource } from './working.js';
export { signDirty, signRoot, signSnapshot, signTargets, type PublishPart } from './sign-dirty.js';
export { deleteDelegation, editDelegation } from './delegation-edit.js';
export {
  signTags,
  tagSignChanges,
  resolveTags,
  RESOLVE_CONCURRENCY,
  revokeTags,
  signableRoles,
  targetMetaFor,
  type RegistryTag,
} from './signing.js';
export {
  addSigner,
  removeSigner,
  parsePublicKeyFile,
  signerAddChanges,
  thresholdChange,
  MAX_PUBLIC_KEY_FILE,
} from './signers.js';
export {
  PROPOSAL_FORMAT,
  checkBase,
  createProposal,
  formatProposal,
  parseProposal,
  proposalSignatures,
  publishProposal,
  readPublished,
  signProposal,
  type Proposal,
  type RoleRef,
  type RoleSignatures,
} from './proposal.js';
export { describeProposal } from './proposal-view.js';
export { targetsKeyChange } from './targets-keys.js';
export { roleSignatureRows, type RoleSignatureRow } from './role-signatures.js';
export { tagChanges, type TagChange } from './tag-changes.js';
export { verifyImage, type ImageRefLike, type ManifestSource, type VerifiedImage } from './verify-image.js';
export { rotateKey, type RotatableRole, type RotateResult } from './rotate.js';
export { migrateRepository, type MigrateResult } from './migrate.js';
export {
  generateSignerKey,
  loadSignerKey,
  listKeys,
  exportKeys,
  importKeys,
  backupKeys,
  restoreKeys,
  importKeyText,
  type GeneratedKey,
} from './key-ops.js';
export {
  inspectRepo,
  formatInspectJson,
  signedTagRows,
  delegationSigners,
  allTargetsByName,
  walkRoles,
  isReleasedRole,
  signerName,
  checkSignerName,
  delegationRoles,
  naturalLess,
  RELEASES_ROLE,
  type RepoView,
  type InspectResult,
  type SignedTagRow,
  type TrustSigner,
  type TargetWithRole,
} from './view.js';
export type { TokenKeyResult } from './token-keys.js';
export { generateKeyOnToken, importKeyToToken, listTokenKeys, keyIdFor, tokenPublicKey } from './token-keys.js';
