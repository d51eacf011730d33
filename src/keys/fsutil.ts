/** Small filesystem helpers for secret files: 0700 directories, 0600 files, atomic replace. */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { SignetError } from '../errors.js';

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

/** Creates `dir` (and parents) with mode 0700; directories that already exist are left alone. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  try {
    const created = await mkdir(dir, { recursive: true, mode: DIR_MODE });
    if (created !== undefined) await chmod(dir, DIR_MODE);
  } catch (err) {
    throw new SignetError('KEY_FILE', `cannot create directory ${dir}`, { cause: err });
  }
}

/** Writes `data` to `file` with mode 0600 via a temporary file in the same directory and rename. */
export async function writeFileAtomic(file: string, data: string | Buffer): Promise<void> {
  const dir = path.dirname(file);
  await ensurePrivateDir(dir);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', FILE_MODE);
    try {
      await fh.writeFile(data);
      await fh.chmod(FILE_MODE);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new SignetError('KEY_FILE', `cannot write ${file}`, { cause: err });
  }
  // make the rename durable where the platform allows opening a directory
  try {
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    /* not supported (e.g. Windows) */
  }
}
