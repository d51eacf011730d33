/**
 * The metadata cache in the trust dir, laid out exactly as notary/docker do (reference §4.1):
 * `<trustDir>/tuf/<gun>/metadata/<role>.json` (delegations in sub-folders), the exact server bytes,
 * files 0600 and folders 0700, so notary, docker and signet can share one trust dir.
 */
import { mkdir, readFile, rename, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SignetError } from '../errors.js';
import { checkGun, isValidRoleName } from '../tuf/index.js';

export class MetadataCache {
  readonly dir: string;

  constructor(trustDir: string, gun: string) {
    // the GUN is used as a relative path like notary; refuse anything that could escape the trust dir
    checkGun(gun);
    this.dir = path.join(trustDir, 'tuf', ...gun.split('/'), 'metadata');
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

  /** Write verified bytes verbatim (atomically: temp file + rename). */
  async write(role: string, bytes: Buffer): Promise<void> {
    const file = this.fileFor(role);
    try {
      await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
      await writeFile(tmp, bytes, { mode: 0o600 });
      await rename(tmp, file);
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
