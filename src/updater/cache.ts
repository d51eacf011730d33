/**
 * The metadata cache in the trust dir, laid out exactly as notary/docker do (N:client/client.go):
 * `<trustDir>/tuf/<gun>/metadata/<role>.json` (delegations in sub-folders), the exact server bytes,
 * files 0600 and folders 0700, so notary, docker and signet can share one trust dir.
 */
import { readFile, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { SignetError } from '../errors.js';
import { writeFileAtomic } from '../fs/index.js';
import { isValidRoleName, type Gun } from '../tuf/index.js';

/** What notary keeps in a GUN's folder (N:client/client.go `tufDir`, N:client/changelist). */
const GUN_FOLDERS: readonly string[] = ['metadata', 'changelist'];

/**
 * `<trustDir>/tuf/<gun>`, the GUN used as a relative path as notary and docker do (a Gun cannot
 * escape the trust dir: tuf `parseGun`). Refused (INVALID_GUN): a GUN with a segment
 * after the registry host named `metadata` or `changelist`. Such a GUN's folder lies inside the
 * `metadata/` or `changelist/` folder of the GUN above it: its files and that GUN's delegations
 * are then one file (`root.json` of `r/app/metadata/targets` is the delegation
 * `targets/metadata/root` of `r/app`), and deleting or re-initialising one removes the other.
 * Notary's layout is kept (the trust dir is shared with notary and docker); only that case is refused.
 */
export function trustGunDir(trustDir: string, gun: Gun): string {
  const segments = gun.split('/');
  const clash = segments.slice(1).find((s) => GUN_FOLDERS.includes(s));
  if (clash !== undefined) {
    const above = segments.slice(0, segments.indexOf(clash, 1)).join('/');
    throw new SignetError(
      'INVALID_GUN',
      `${JSON.stringify(gun)} cannot be kept in a trust directory: a path segment named "${clash}" would put its trust data inside the "${clash}" folder of ${above} (tuf/${above}/${clash}/), where the two repositories' files can collide`,
      {
        fix: 'use a repository name without a "metadata" or "changelist" path segment',
        details: { reason: `segment "${clash}"` },
      },
    );
  }
  return path.join(trustDir, 'tuf', ...segments);
}

export class MetadataCache {
  readonly dir: string;

  constructor(trustDir: string, gun: Gun) {
    this.dir = path.join(trustGunDir(trustDir, gun), 'metadata');
  }

  fileFor(role: string): string {
    if (!isValidRoleName(role)) throw new SignetError('INVALID_ROLE', `${role} is not a valid role name`);
    return path.join(this.dir, ...role.split('/')) + '.json';
  }

  /** The cached bytes, or undefined when absent/unreadable. */
  async read(role: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.fileFor(role));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR')
        return undefined;
      throw new SignetError('STORAGE', `cannot read cached ${role}.json in ${this.dir}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  /** Write verified bytes verbatim (atomically, `src/fs`). */
  async write(role: string, bytes: Buffer): Promise<void> {
    const file = this.fileFor(role);
    try {
      await writeFileAtomic(file, bytes, { createDir: true });
    } catch (e) {
      throw new SignetError('STORAGE', `cannot write ${file}: ${(e as Error).message}`, {
        cause: e,
        fix: 'check that the trust directory is writable (--trust-dir)',
      });
    }
  }

  /** When the role's file was last written or confirmed current (`touch`); undefined when absent. */
  async checkedAt(role: string): Promise<Date | undefined> {
    try {
      return (await stat(this.fileFor(role))).mtime;
    } catch {
      return undefined;
    }
  }

  /**
   * Record that the server just confirmed the cached bytes (they were unchanged, so not rewritten):
   * the file's mtime is the time of the last successful contact, which staleness is measured from.
   */
  async touch(role: string): Promise<void> {
    const now = new Date();
    await utimes(this.fileFor(role), now, now).catch(() => undefined);
  }
}
