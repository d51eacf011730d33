/**
 * Key management on a trust dir, compatible with `docker trust key generate|load` and
 * `notary key list|export|import` (N:tuf/utils/x509.go, C:cli/command/trust/*.go).
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { SignetError, isSignetError } from '../errors.js';
import {
  generatePrivateKey,
  inspectKeyPem,
  publicKeyPem,
  readBackup,
  restoreBackupWithExtras,
  writeBackup,
  type KeyListEntry,
  type TrustDirKeyStore,
} from '../keys/index.js';
import { writeFileAtomic } from '../fs/index.js';
import { scanPem } from '../tuf/index.js';
import { PinStore } from '../updater/index.js';
import { checkSignerName } from './view.js';

export interface GeneratedKey {
  id: string;
  name: string;
  publicKeyFile: string;
}

/** `docker trust key generate NAME --dir D`: a new ECDSA P-256 signer key (role NAME) and D/NAME.pub. */
export async function generateSignerKey(store: TrustDirKeyStore, name: string, dir: string): Promise<GeneratedKey> {
  checkSignerName(name);
  const pubFile = path.resolve(dir, `${name}.pub`);
  try {
    await stat(pubFile);
    throw new SignetError('CONFLICT', `${pubFile} already exists`, {
      fix: 'choose another name or --dir, or remove the file',
    });
  } catch (e) {
    if (isSignetError(e)) throw e;
  }
  const key = generatePrivateKey('ecdsa');
  await store.add(key, { role: name });
  await writeFileAtomic(pubFile, publicKeyPem(key, name), { mode: 0o644, createDir: true });
  return { id: key.publicKey.canonicalId, name, publicKeyFile: pubFile };
}

/**
 * `docker trust key load FILE --name N`: import a private key as signer N. Unlike docker 28, which
 * silently imports nothing for an encrypted key without a `path` header (docker/cli #2031), this
 * decrypts it (passphrase from the environment) or fails with a clear error.
 */
export async function loadSignerKey(
  store: TrustDirKeyStore,
  file: string,
  name: string,
): Promise<{ id: string; role: string }> {
  checkSignerName(name);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new SignetError('KEY_FILE', `cannot read ${file}`, { cause: e, fix: 'check the path' });
  }
  let info;
  try {
    info = inspectKeyPem(text);
  } catch (e) {
    throw new SignetError('KEY_FILE', `${file} is not a private key PEM file`, {
      cause: e,
      fix: 'load a PEM private key (PRIVATE KEY, ENCRYPTED PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY)',
    });
  }
  // a delegation key carries the signer name as its role; a base-role header would be wrong here
  if (info.meta.role && ['root', 'targets', 'snapshot', 'timestamp'].includes(info.meta.role)) {
    throw new SignetError('KEY_FILE', `${file} is a ${info.meta.role} key, not a signer key`, {
      fix: 'use `signet key import` for repository keys',
    });
  }
  return store.importFile(file, { role: info.meta.role || name });
}

export async function listKeys(store: TrustDirKeyStore): Promise<KeyListEntry[]> {
  return store.list();
}

/** notary `key export` format (`path: <id>` header), re-encrypted with `passphrase`. */
export async function exportKeys(
  store: TrustDirKeyStore,
  ids: string[],
  passphrase: (role: string, id: string) => Promise<string>,
): Promise<string> {
  const all = await store.list();
  // keys on a PKCS#11 token cannot leave it: all = the key files; naming a token key is an error
  const chosen =
    ids.length === 0
      ? all.filter((k) => k.pkcs11 === undefined)
      : ids.map((id) => {
          const e = all.find((k) => k.id === id || k.id.startsWith(id));
          if (e === undefined) throw new SignetError('KEY_NOT_FOUND', `no private key ${id} in ${store.privateDir}`);
          if (e.pkcs11 !== undefined)
            throw new SignetError(
              'KEY_ON_TOKEN',
              `key ${e.id} lives on a PKCS#11 token (${e.pkcs11}) and cannot be exported`,
              {
                fix: 'export the other keys by ID; back up the token with its own tools',
              },
            );
          return e;
        });
  let out = '';
  for (const k of chosen) out += await store.exportKey(k.id, await passphrase(k.role, k.id));
  return out;
}

/** notary `key import`: one or more PEM keys (with `role`/`gun`/`path` headers) from a file. */
export async function importKeys(
  store: TrustDirKeyStore,
  file: string,
  opts: { role?: string; gun?: string } = {},
): Promise<{ id: string; role: string }[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new SignetError('KEY_FILE', `cannot read ${file}`, { cause: e });
  }
  return importKeyText(store, text, file, opts);
}

/** `importKeys` on PEM text already read (from standard input, say); `source` names it in errors. */
export async function importKeyText(
  store: TrustDirKeyStore,
  text: string,
  source: string,
  opts: { role?: string; gun?: string } = {},
): Promise<{ id: string; role: string }[]> {
  const file = source;
  // each key block's own text (headers included) goes to importPem; malformed blocks are skipped as
  // notary (Go's pem.Decode) skips them, and named when nothing else is found
  const scan = scanPem(text);
  const blocks = scan.blocks.filter((b) => b.type.endsWith('PRIVATE KEY')).map((b) => text.slice(b.start, b.end));
  if (blocks.length === 0) {
    const bad = scan.problems[0];
    const why =
      bad === undefined ? '' : ` (a ${JSON.stringify(bad.type.slice(0, 40))} block is malformed: ${bad.problem})`;
    throw new SignetError('KEY_FILE', `${file} holds no PEM private key${why}`, {
      fix: 'import a file written by `signet key export` or `notary key export`',
    });
  }
  const out: { id: string; role: string }[] = [];
  for (const b of blocks) out.push(await store.importPem(b, opts));
  return out;
}

/**
 * An encrypted archive of every key file and of the root pins (so the restored trust dir trusts the
 * roots it made: without the pins its own repositories are UNTRUSTED_ROOT); written 0600.
 */
export async function backupKeys(
  store: TrustDirKeyStore,
  file: string,
  passphrase: string,
  trustDir: string,
): Promise<{ keys: number; pins: number }> {
  const pins = await new PinStore(trustDir).load();
  const archive = await writeBackup(store, passphrase, { pins });
  await writeFileAtomic(file, archive, { createDir: true });
  return { keys: readBackup(archive, passphrase).length, pins: Object.keys(pins.pins).length };
}

/** Restore the keys of an archive, and the pins it holds for patterns not pinned in `trustDir` yet. */
export async function restoreKeys(
  file: string,
  passphrase: string,
  trustDir: string,
): Promise<{ ids: string[]; pins: string[] }> {
  let archive: Buffer;
  try {
    archive = await readFile(file);
  } catch (e) {
    throw new SignetError('KEY_FILE', `cannot read ${file}`, { cause: e });
  }
  const { ids, extras } = await restoreBackupWithExtras(archive, passphrase, trustDir);
  return { ids, pins: await new PinStore(trustDir).addMissing(extras.pins) };
}
