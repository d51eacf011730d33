/** Public API of src/tuf (docs/architecture.md). Other folders import only from here. */
export * from './types.js';
export {
  canonicalJson,
  canonicalString,
  compareUtf8,
  htmlEscapeJson,
  isJsonObject,
  nonIntegerNumberLiteral,
  parseJsonBytes,
} from './canonical-json.js';
export type { JsonObject, JsonValue } from './canonical-json.js';
export { editedTargetsBytes, setOwn, signEditedTargets } from './targets-edit.js';
export { canonicalSignedRange, canonicalSignedVersion } from './canonical-scan.js';
export { pemBlocks, pemEncode, scanPem } from './pem.js';
export type { PemBlock, PemProblem } from './pem.js';
export {
  isKeyType,
  isX509KeyType,
  keyJson,
  keyObjectFromPublicKey,
  publicKeyFromJson,
  publicKeyFromSpki,
  publicKeyToJson,
  tufKeyId,
} from './public-key.js';
export {
  checkFileMeta,
  defaultExpires,
  fileMeta,
  fileMetaSha256Hex,
  formatExpires,
  newRoot,
  newSnapshot,
  newTargets,
  newTimestamp,
  parseMetadata,
  parseRoot,
  parseSnapshot,
  parseTargets,
  parseTimestamp,
  serializeEnvelope,
  signMetadata,
  type ParsedJson,
} from './metadata.js';
export { checkHashes, checkSignedStructure, expectedType, parseRfc3339 } from './structure.js';
export {
  checkExpiry,
  checkVersion,
  delegationRoleKeys,
  rootRoleKeys,
  validSignatures,
  verifySignature,
} from './verify.js';
export {
  certKeySet,
  delegateError,
  delegatorKeys,
  rootThreshold,
  rootVersionStep,
  verifyDelegate,
  verifyRole,
  verifyRootStep,
  verifyThreshold,
} from './verify-core.js';
export type { DelegateResult, DelegatorKeys, RootStepOptions, RootStepResult, RootVersionStep } from './verify-core.js';
export type { RoleKeySet } from './verify.js';
export { DEFAULT_SIGNATURE_LIMITS, SignatureBudget } from './budget.js';
export type { SignatureLimits } from './budget.js';
export { localSigner } from './sign.js';
export {
  BASE_ROLES,
  findDelegation,
  isBaseRole,
  isDelegationRole,
  isDirectChild,
  isValidRoleName,
  parentRole,
  pathAllowed,
  restrictPaths,
} from './delegations.js';
export {
  certificateInfo,
  certificateProblem,
  certificatePublicKey,
  matchCNToGun,
  parseCertificateBundle,
  validateRootCertificates,
} from './x509.js';
export { createRootCertificate, loadCertificateIssuer } from './x509-issue-lazy.js';
export { derChildren, derElement, oidText } from './der.js';
export type { DerElement } from './der.js';
export { MAX_GUN_LENGTH, parseGun } from './gun.js';
export type { Gun, ParseGunOptions } from './gun.js';
export type { CertificateInfo } from './x509.js';
export type { CertificateRequest, ExtKeyUsageName, KeyUsageName } from './x509-issue.js';
export { expiriesOf, expiringWithin, expiryView, secondsLeft } from './expiry.js';
export type { ExpiryItem, ExpiryKind, ExpiryView } from './expiry.js';
