/**
 * What expires in a trust dir: for each repository whose metadata the trust dir caches
 * (`tuf/<gun>/metadata/`, cache.ts), the expiry of each cached role and root certificate, read with
 * the one expiry reading (`tuf` expiriesOf). Used by `signet status --expiring`. The roles counted
 * are root, snapshot and the targets roles the cached snapshot lists (a delegation removed since is
 * not); the timestamp is left out: the trust server re-signs it.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { expiriesOf, isValidRoleName, parseGun, type ExpiryItem } from '../tuf/index.js';
import { trustGunDir } from './cache.js';

export interface CachedExpiry extends ExpiryItem {
  gun: string;
}

const ROOT_FILE = `${path.sep}metadata${path.sep}root.json`;

async function readIf(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch {
    return undefined;
  }
}

/** The GUNs whose root.json the trust dir caches, sorted. */
export async function cachedGuns(trustDir: string): Promise<string[]> {
  const tuf = path.join(trustDir, 'tuf');
  let files: string[];
  try {
    files = await readdir(tuf, { recursive: true });
  } catch {
    return [];
  }
  return files
    .filter((f) => f.endsWith(ROOT_FILE))
    .map((f) => f.slice(0, -ROOT_FILE.length).split(path.sep).join('/'))
    .filter((gun) => {
      // a delegation's folder can hold a file named root.json too; it is no GUN the trust dir keeps
      try {
        trustGunDir(trustDir, parseGun(gun));
        return true;
      } catch {
        return false;
      }
    })
    .sort();
}

/** The cached roles' expiries of one repository (none when the trust dir has no root for it). */
export async function cachedExpiries(trustDir: string, gun: string): Promise<CachedExpiry[]> {
  const dir = path.join(trustGunDir(trustDir, parseGun(gun)), 'metadata');
  const root = await readIf(path.join(dir, 'root.json'));
  if (root === undefined) return [];
  const roles = new Set<string>(['root']);
  const snapshot = await readIf(path.join(dir, 'snapshot.json'));
  if (snapshot !== undefined) {
    roles.add('snapshot');
    try {
      const meta = (JSON.parse(snapshot.toString('utf8')) as { signed?: { meta?: Record<string, unknown> } }).signed
        ?.meta;
      for (const role of Object.keys(meta ?? {})) if (role !== 'root' && isValidRoleName(role)) roles.add(role);
    } catch {
      // unreadable snapshot: root is all that can be said
    }
  }
  const out: CachedExpiry[] = [];
  for (const role of roles) {
    const bytes =
      role === 'root'
        ? root
        : role === 'snapshot'
          ? snapshot
          : await readIf(path.join(dir, ...role.split('/')) + '.json');
    if (bytes !== undefined) for (const i of expiriesOf(role, bytes)) out.push({ ...i, gun });
  }
  return out;
}
