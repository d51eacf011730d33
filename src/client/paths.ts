/** Trust-dir paths as notary lays them out. The GUN is a relative path, `/` mapped to nested directories. */
import path from 'node:path';
import { parseGun } from '../tuf/index.js';
import { trustGunDir } from '../updater/index.js';

/** `<trustDir>/tuf/<gun>`; refuses invalid GUNs (tuf `parseGun`) and GUNs whose folder would collide (updater `trustGunDir`). */
export function gunDir(trustDir: string, gun: string): string {
  return trustGunDir(trustDir, parseGun(gun));
}

/** `<gunDir>/changelist`: notary's staged changes. */
export function changelistDir(trustDir: string, gun: string): string {
  return path.join(gunDir(trustDir, gun), 'changelist');
}

export function metadataDir(trustDir: string, gun: string): string {
  return path.join(gunDir(trustDir, gun), 'metadata');
}

/** `<metadataDir>/<role>.json`; delegation roles nest (`targets/releases.json`). */
export function roleCachePath(trustDir: string, gun: string, role: string): string {
  return path.join(metadataDir(trustDir, gun), ...`${role}.json`.split('/'));
}
