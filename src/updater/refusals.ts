/** The updater's refusals about what the server or the cache does not hold (split from updater.ts). */
import { SignetError } from '../errors.js';

/** A 404 for root.json: the server has no trust data for this GUN (N:client ErrRepositoryNotExist). */
export function repositoryMissing(serverUrl: string, gun: string, cause: unknown): SignetError {
  return new SignetError('REPOSITORY_NOT_FOUND', `${new URL(serverUrl).host} does not have trust data for ${gun}`, {
    cause,
    fix: 'the image has never been signed on this trust server; check the image name and --server, or sign it first',
  });
}

/** Offline, and the cached snapshot lists another root than the cached one. */
export function staleOffline(gun: string): SignetError {
  return new SignetError('MIX_AND_MATCH', `the cached trust data for ${gun} is inconsistent (the root changed)`, {
    fix: 'run once without --offline to update the cache',
  });
}

/** Offline, and the cache lacks a current copy of `role`. */
export function missingOffline(gun: string, role: string): SignetError {
  return new SignetError(
    'REPOSITORY_NOT_FOUND',
    `the cached trust data for ${gun} has no current ${role}.json; cannot verify offline`,
    { fix: 'run once without --offline to update the cache' },
  );
}
