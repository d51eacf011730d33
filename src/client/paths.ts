/** Trust-dir paths (reference §4.1). The GUN is a relative path, `/` mapped to nested directories. */
import path from 'node:path';
import { checkGun } from '../tuf/index.js';

/** `<trustDir>/tuf/<gun>`; refuses GUNs that could escape the trust dir (tuf `checkGun`: INVALID_GUN). */
export function gunDir(trustDir: string, gun: string): string {
  checkGun(gun);
  return path.join(trustDir, 'tuf', ...gun.split('/'));
}

export function metadataDir(trustDir: string, gun: string): string {
  return path.join(gunDir(trustDir, gun), 'metadata');
}

/** `<metadataDir>/<role>.json`; delegation roles nest (`targets/releases.json`). */
export function roleCachePath(trustDir: string, gun: string, role: string): string {
  return path.join(metadataDir(trustDir, gun), ...`${role}.json`.split('/'));
}
