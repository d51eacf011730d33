/**
 * Encrypted backups of a trust directory's private key files.
 *
 * Archive layout (all integers are single bytes):
 *   "SIGNETKB" | version=1 | kdf=1 (scrypt) | log2(N) | r | p | salt(16) | nonce(12) | ciphertext | tag(16)
 * The bytes before the ciphertext are authenticated as AES-256-GCM additional data. The plaintext
 * is JSON {"version":1,"keys":[{"id","file","pem"}],"extras":{…}} where `file` is relative to the
 * trust dir. Key files are copied as they are (still passphrase-encrypted inside). `extras` carries
 * what the caller adds beside the keys (the client: the root pins, so a restored trust dir verifies
 * its own repositories); archives without it restore as before.
 */
import * as crypto from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { SignetError } from '../errors.js';
import { writeKeyFile, type TrustDirKeyStore } from './keystore.js';
import { findKeyBlock } from './key-pem.js';

const MAGIC = Buffer.from('SIGNETKB', 'ascii');
const VERSION = 1;
const KDF_SCRYPT = 1;
const LOG_N = 15;
const R = 8;
const P = 1;
const SALT_LEN = 16;
const NONCE_LEN = 12;
const TAG_LEN = 16;
const HEADER_LEN = MAGIC.length + 5 + SALT_LEN + NONCE_LEN;
/**
 * The most an archive may ask of the KDF, checked before it runs (the header is only authenticated
 * after it): scrypt memory 128·N·r at most 64 MiB and work N·r·p at most 2^20 (4× what `writeBackup`
 * uses: N=2^15, r=8, p=1, 32 MiB). A hostile archive otherwise buys gigabytes and seconds per try.
 */
const MAX_SCRYPT_MEMORY = 64 * 1024 * 1024;
const MAX_SCRYPT_WORK = 2 ** 20;

interface BackupEntry {
  id: string;
  file: string;
  pem: string;
}

function deriveKey(passphrase: string, salt: Buffer, logN: number, r: number, p: number): Buffer {
  const N = 2 ** logN;
  return crypto.scryptSync(Buffer.from(passphrase, 'utf8'), salt, 32, {
    N,
    r,
    p,
    maxmem: MAX_SCRYPT_MEMORY + 1024 * 1024,
  });
}

/** Values stored beside the keys, by name (JSON). */
export type BackupExtras = Record<string, unknown>;

/** An encrypted archive of every key file in `store`, plus `extras`. */
export async function writeBackup(
  store: TrustDirKeyStore,
  passphrase: string,
  extras: BackupExtras = {},
): Promise<Buffer> {
  if (passphrase === '') throw new SignetError('PASSPHRASE_REQUIRED', 'a backup needs a non-empty passphrase');
  const keys: BackupEntry[] = await store.keyFiles();
  const plain = Buffer.from(JSON.stringify({ version: VERSION, keys, extras }), 'utf8');
  const salt = crypto.randomBytes(SALT_LEN);
  const nonce = crypto.randomBytes(NONCE_LEN);
  const header = Buffer.concat([MAGIC, Buffer.from([VERSION, KDF_SCRYPT, LOG_N, R, P]), salt, nonce]);
  const key = deriveKey(passphrase, salt, LOG_N, R, P);
  try {
    const cipher = crypto.createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(header);
    const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([header, ct, cipher.getAuthTag()]);
  } finally {
    key.fill(0);
    plain.fill(0);
  }
}

const ENTRY_FILE_RE = /^private\/(?:root_keys\/|tuf_keys\/(?:[^/]+\/)*)?[A-Za-z0-9][A-Za-z0-9_.-]*\.key$/;

function checkEntry(e: unknown): BackupEntry {
  const o = e as Partial<BackupEntry> | null;
  if (
    o === null ||
    typeof o !== 'object' ||
    typeof o.id !== 'string' ||
    typeof o.file !== 'string' ||
    typeof o.pem !== 'string' ||
    !ENTRY_FILE_RE.test(o.file) ||
    o.file.split('/').some((seg) => seg === '..' || seg === '.' || seg === '')
  ) {
    throw new SignetError('KEY_FILE', 'backup archive holds a malformed entry');
  }
  findKeyBlock(o.pem); // throws KEY_FILE when it is not a key PEM
  return { id: o.id, file: o.file, pem: o.pem };
}

/** Decrypts an archive and returns its key entries (BAD_PASSPHRASE when the passphrase is wrong). */
export function readBackup(archive: Buffer, passphrase: string): BackupEntry[] {
  return openBackup(archive, passphrase).keys;
}

/** Decrypts an archive: its key entries and extras. */
function openBackup(archive: Buffer, passphrase: string): { keys: BackupEntry[]; extras: BackupExtras } {
  if (archive.length < HEADER_LEN + TAG_LEN || !archive.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new SignetError('KEY_FILE', 'not a Signet key backup');
  }
  const [version, kdf, logN, r, p] = archive.subarray(MAGIC.length, MAGIC.length + 5);
  if (version !== VERSION || kdf !== KDF_SCRYPT) {
    throw new SignetError('KEY_FILE', `unsupported key backup version ${String(version)}/${String(kdf)}`);
  }
  if (
    logN === undefined ||
    r === undefined ||
    p === undefined ||
    logN < 10 ||
    logN > 20 ||
    r < 1 ||
    p < 1 ||
    128 * 2 ** logN * r > MAX_SCRYPT_MEMORY ||
    2 ** logN * r * p > MAX_SCRYPT_WORK
  ) {
    throw new SignetError(
      'KEY_FILE',
      `key backup asks for scrypt N=2^${String(logN)} r=${String(r)} p=${String(p)}, beyond the limit (64 MiB of memory, N·r·p ≤ 2^20); refusing it before deriving a key`,
      { fix: 'restore only archives written by `signet key backup`; this one was not, or was altered' },
    );
  }
  const header = archive.subarray(0, HEADER_LEN);
  const salt = header.subarray(MAGIC.length + 5, MAGIC.length + 5 + SALT_LEN);
  const nonce = header.subarray(MAGIC.length + 5 + SALT_LEN);
  const ct = archive.subarray(HEADER_LEN, archive.length - TAG_LEN);
  const tag = archive.subarray(archive.length - TAG_LEN);
  const key = deriveKey(passphrase, salt, logN, r, p);
  let plain: Buffer;
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(header);
    decipher.setAuthTag(tag);
    plain = Buffer.concat([decipher.update(ct), decipher.final()]);
  } catch (err) {
    throw new SignetError('BAD_PASSPHRASE', 'wrong passphrase for the key backup (or the archive is corrupted)', {
      cause: err,
    });
  } finally {
    key.fill(0);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(plain.toString('utf8'));
  } catch (err) {
    throw new SignetError('KEY_FILE', 'key backup content is not valid', { cause: err });
  } finally {
    plain.fill(0);
  }
  const obj = parsed as { version?: unknown; keys?: unknown; extras?: unknown };
  if (obj === null || typeof obj !== 'object' || obj.version !== VERSION || !Array.isArray(obj.keys)) {
    throw new SignetError('KEY_FILE', 'key backup content is not valid');
  }
  const extras =
    typeof obj.extras === 'object' && obj.extras !== null && !Array.isArray(obj.extras)
      ? (obj.extras as BackupExtras)
      : {};
  return { keys: obj.keys.map(checkEntry), extras };
}

/**
 * Restores an archive into `targetTrustDir` (files 0600, directories 0700). Refuses, before
 * writing anything, to overwrite an existing key file whose content differs.
 */
export async function restoreBackup(archive: Buffer, passphrase: string, targetTrustDir: string): Promise<string[]> {
  return (await restoreBackupWithExtras(archive, passphrase, targetTrustDir)).ids;
}

/** `restoreBackup`, also returning the archive's extras for the caller to restore. */
export async function restoreBackupWithExtras(
  archive: Buffer,
  passphrase: string,
  targetTrustDir: string,
): Promise<{ ids: string[]; extras: BackupExtras }> {
  const { keys: entries, extras } = openBackup(archive, passphrase);
  const root = path.resolve(targetTrustDir);
  const plan: Array<{ dest: string; entry: BackupEntry }> = [];
  for (const entry of entries) {
    const dest = path.join(root, ...entry.file.split('/'));
    if (!dest.startsWith(root + path.sep)) throw new SignetError('KEY_FILE', 'backup entry escapes the trust dir');
    let existing: string | undefined;
    try {
      existing = await readFile(dest, 'utf8');
    } catch {
      existing = undefined;
    }
    if (existing !== undefined && existing !== entry.pem) {
      throw new SignetError('KEY_FILE', `${dest} already exists with different content; not restoring`, {
        fix: 'restore into an empty trust directory, or remove the conflicting key first',
      });
    }
    if (existing === undefined) plan.push({ dest, entry });
  }
  for (const { dest, entry } of plan) await writeKeyFile(dest, entry.pem);
  return { ids: entries.map((e) => e.id), extras };
}
