/**
 * The errors storage raises (CONFLICT, USAGE for a version notary's schema cannot hold, STORAGE for
 * a failing database) and the database error codes it recognises on either backend.
 */
import { SignetError } from '../errors.js';

/** Largest version notary's SQL schema can hold (`version integer`). */
export const MAX_VERSION = 2 ** 31 - 1;

export function checkVersionRange(role: string, version: number): void {
  if (!Number.isInteger(version) || version < 0 || version > MAX_VERSION) {
    throw new SignetError(
      'USAGE',
      `version ${String(version)} of role ${role} is not an integer in [0, ${MAX_VERSION}]`,
      {
        details: { role, version },
      },
    );
  }
}

export function conflict(role: string, version: number, why: string): SignetError {
  return new SignetError('CONFLICT', `cannot store ${role} version ${version}: ${why}`, {
    details: { role, version },
    fix: 'fetch the latest metadata, bump the version and publish again',
  });
}

/** Wraps a foreign database error as STORAGE; SignetErrors pass through unchanged. */
export function storageError(err: unknown, what: string): SignetError {
  if (err instanceof SignetError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new SignetError('STORAGE', `${what} failed: ${msg}`, {
    cause: err,
    fix: 'check that the database is reachable and healthy; details are in the server log',
  });
}

function errCode(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
}

/** Unique / primary-key violation on either backend. */
export function isUniqueViolation(err: unknown): boolean {
  const code = errCode(err);
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** Transient contention worth retrying the whole transaction for. */
export function isRetryable(err: unknown): boolean {
  const code = errCode(err);
  return (
    code === '40001' || // serialization_failure
    code === '40P01' || // deadlock_detected
    code === '55P03' || // lock_not_available
    code === 'SQLITE_BUSY' ||
    code === 'SQLITE_BUSY_SNAPSHOT' ||
    code === 'SQLITE_BUSY_RECOVERY' ||
    code === 'SQLITE_LOCKED'
  );
}
