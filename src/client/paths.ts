/** Trust-dir paths (reference §4.1). The GUN is a relative path, `/` mapped to nested directories. */
import path from 'node:path';
import { SignetError } from '../errors.js';

/** `<trustDir>/tuf/<gun>`; refuses GUNs that would escape the trust dir (`..`, absolute, empty parts). */
export function gunDir(trustDir: string, gun: string): string {
  const parts = gun.split('/');
  if (
    gun === '' ||
    parts.some((p) => p === '' || p === '.' || p === '..') ||
    gun.includes('\\') ||
    gun.includes('\0')
  ) {
    throw new SignetError('INVALID_GUN', `"${gun}" is not a valid repository name`, {
      fix: 'use a name like registry.example.com/team/app',
    });
  }
  return path.join(trustDir, 'tuf', ...parts);
}

export function metadataDir(trustDir: string, gun: string): string {
  return path.join(gunDir(trustDir, gun), 'metadata');
}

/** `<metadataDir>/<role>.json`; delegation roles nest (`targets/releases.json`). */
export function roleCachePath(trustDir: string, gun: string, role: string): string {
  return path.join(metadataDir(trustDir, gun), ...`${role}.json`.split('/'));
}
