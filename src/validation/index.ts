export { ValidationError, isValidationError, MSG, type ValidationErrorName } from './errors.js';
export {
  validateUpdate,
  requiredStoredRoles,
  missingSnapshotKey,
  missingTimestampKey,
  type StoredRepo,
  type ValidateUpdateInput,
  type UpdatePlan,
  type AcceptedFile,
} from './validate-update.js';
export { nextSnapshot, nextTimestamp, refreshedSnapshot, SNAPSHOT_EXPIRY_MS, TIMESTAMP_EXPIRY_MS } from './generate.js';
