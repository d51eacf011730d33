/**
 * The metadata cache in the trust dir, laid out exactly as notary/docker do (N:client/client.go):
 * `<trustDir>/tuf/<gun>/metadata/<role>.json` (delegations in sub-folders), the exact server bytes,
 * files 0600 and folders 0700, so notary, docker and signet can share one trust dir.
 */
import { readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { SignetError } from '../errors.js';
import { ensurePrivateDir, writeFileAtomic } from '../fs/index.js';
import { checkFileMeta, isValidRoleName, type FileMeta, type Gun } from '../tuf/index.js';

/**
 * The folder in `metadata/` for the files this client uploaded in its last publish (see
 * MetadataCache.writeUploaded). Only the base roles' files and the `targets/` folder are ever named
 * in `metadata/` otherwise, so it cannot collide with a role; notary and docker never read it.
 */
const UPLOADED = '.uploaded';

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

/** A role's bytes, matching its parent's meta, and where they came from. */
export interface RoleBytes {
  bytes: Buffer;
  source: 'cache' | 'uploaded' | 'server';
}

/** Do `bytes` have the length and hashes of `meta`? */
function matches(bytes: Buffer | undefined, meta: FileMeta): boolean {
  if (bytes === undefined) return false;
  try {
    checkFileMeta(bytes, meta, 'cache');
    return true;
  } catch {
    return false;
  }
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
    return this.readFile(role, this.fileFor(role));
  }

  /**
   * A copy of a file this client is uploading, beside the cache: the server serves the bytes it
   * accepts, so the next update takes them from here when the snapshot (or timestamp) it verified
   * lists their hashes, instead of downloading them again (8.9 MiB for a 100,000-tag targets.json).
   * A source of bytes only: what is read here is verified as a download is, and a copy whose hash
   * is not listed (a refused publish, another writer since) is never used, not even as a rollback
   * floor. The cache itself keeps the files that match the cached snapshot, so an offline read after
   * a publish still finds a consistent set.
   */
  async writeUploaded(role: string, bytes: Buffer): Promise<void> {
    await writeFileAtomic(this.uploadedFileFor(role), bytes, { createDir: true });
  }

  /**
   * The cached file when it matches the parent's `meta`, else the uploaded copy when that does; else
   * the cached file that no longer matches (`stale`: the updater reads a rollback floor from it).
   */
  async matching(role: string, meta: FileMeta): Promise<RoleBytes | { stale: Buffer | undefined }> {
    const cached = await this.read(role);
    if (matches(cached, meta)) return { bytes: cached as Buffer, source: 'cache' };
    const uploaded = await this.readFile(role, this.uploadedFileFor(role));
    if (matches(uploaded, meta)) return { bytes: uploaded as Buffer, source: 'uploaded' };
    return { stale: cached };
  }

  /**
   * Keep bytes the updater verified: a download is written; an uploaded copy becomes the cached
   * file by a rename (no copy of a large file); the cached file already is them.
   */
  async keep(role: string, got: RoleBytes): Promise<void> {
    if (got.source === 'server') return this.write(role, got.bytes);
    if (got.source === 'cache') return;
    const file = this.fileFor(role);
    try {
      await ensurePrivateDir(path.dirname(file));
      await rename(this.uploadedFileFor(role), file);
    } catch {
      await this.write(role, got.bytes); // renamed away or replaced meanwhile: write what was verified
    }
  }

  /** Forget uploaded copies (a publish the server refused). */
  async dropUploaded(roles: readonly string[]): Promise<void> {
    await Promise.all(roles.map((r) => rm(this.uploadedFileFor(r), { force: true }).catch(() => undefined)));
  }

  private uploadedFileFor(role: string): string {
    if (!isValidRoleName(role)) throw new SignetError('INVALID_ROLE', `${role} is not a valid role name`);
    return path.join(this.dir, UPLOADED, ...role.split('/')) + '.json';
  }

  private async readFile(role: string, file: string): Promise<Buffer | undefined> {
    try {
      return await readFile(file);
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
