/**
 * The one atomic file write of the project. A temp file with a random name is created exclusively
 * (`wx`, so nothing pre-created or symlinked at that name is ever followed) in the target's own
 * directory, with its final mode set at creation, written, fsynced and renamed over the target; on
 * any error it is removed. A shared sticky directory therefore cannot capture what is written:
 * the attacker can neither predict the temp name nor own the file that ends up at the target.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** Mode of private folders (trust dir, key store, server data dir). */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of secret files (keys, trust data, pins, archives). */
export const PRIVATE_FILE_MODE = 0o600;

export interface AtomicWriteOptions {
  /** file mode, set when the temp file is created; default 0600 */
  mode?: number;
  /**
   * create missing parent folders with mode 0700 (trust dir, key store); default false, for
   * user-chosen output paths whose folder is the user's business
   */
  createDir?: boolean;
}

/** Creates `dir` (and parents) with mode 0700; folders that already exist are left alone. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  // mkdir's mode is filtered by the umask: a folder created here gets exactly 0700
  if (created !== undefined) await chmod(dir, PRIVATE_DIR_MODE);
}

/** Replaces `file` with `data` atomically (see the module comment). Errors are the fs errors. */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  opts: AtomicWriteOptions = {},
): Promise<void> {
  const mode = opts.mode ?? PRIVATE_FILE_MODE;
  const target = path.resolve(file);
  const dir = path.dirname(target);
  if (opts.createDir === true) await ensurePrivateDir(dir);
  const tmp = path.join(dir, `.${path.basename(target)}.${randomBytes(12).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    try {
      // the umask may have narrowed the creation mode (never widened it): set it exactly
      await fh.chmod(mode);
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await syncDir(dir);
}

/** Makes a rename durable where the platform can open a folder (not on Windows). */
async function syncDir(dir: string): Promise<void> {
  let dh;
  try {
    dh = await open(dir, 'r');
    await dh.sync();
  } catch {
    /* not supported here */
  } finally {
    await dh?.close().catch(() => undefined);
  }
}
