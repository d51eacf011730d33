/**
 * The signer passphrase (encrypts the server-held timestamp/snapshot keys): given by the operator
 * (file or environment, docs/server.md), else kept in <dataDir>/signer.passphrase (0600).
 */
import crypto from 'node:crypto';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { SignetError } from '../errors.js';

/** A secret file others may read or write is refused, as `keys` refuses such key files. */
async function checkPrivateFile(file: string): Promise<void> {
  const st = await stat(file);
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw new SignetError(
      'USAGE',
      `${file} must not be readable or writable by group or others (mode ${(st.mode & 0o777).toString(8)}): it holds the passphrase of the server's signing keys`,
      { fix: `chmod 600 ${file} (and consider rotating the passphrase if others could read it)` },
    );
  }
}

/** The signer passphrase given or stored in <dataDir>/signer.passphrase, without creating one. */
export async function existingPassphrase(dataDir: string, given: string | undefined): Promise<string | undefined> {
  if (given !== undefined && given !== '') return given;
  const file = path.join(dataDir, 'signer.passphrase');
  try {
    await checkPrivateFile(file);
    const p = (await readFile(file, 'utf8')).trim();
    if (p !== '') return p;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return undefined;
}

/** The signer passphrase: given, or read from / created in <dataDir>/signer.passphrase (0600). */
export async function signerPassphrase(dataDir: string, given: string | undefined, log: Logger): Promise<string> {
  return (await existingPassphrase(dataDir, given)) ?? createPassphrase(dataDir, log);
}

export async function createPassphrase(dataDir: string, log: Logger): Promise<string> {
  const file = path.join(dataDir, 'signer.passphrase');
  const p = crypto.randomBytes(32).toString('base64url');
  await writeFile(file, p + '\n', { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code === 'EEXIST') return;
    throw err;
  });
  await chmod(file, 0o600);
  log.warn(
    { file },
    'created a random signer passphrase (encrypts the server-held timestamp/snapshot keys); back it up, or set SIGNET_SIGNER_PASSPHRASE / --signer-passphrase-file',
  );
  return (await readFile(file, 'utf8')).trim();
}
