/**
 * The metadata cache in the trust dir, laid out exactly as notary/docker do (reference §4.1):
 * `<trustDir>/tuf/<gun>/metadata/<role>.json` (delegations in sub-folders), the exact server bytes,
 * files 0600 and folders 0700, so notary, docker and signet can share one trust dir.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { SignetError } from '../errors.js';
import { writeFileAtomic } from '../fs/index.js';
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
}
