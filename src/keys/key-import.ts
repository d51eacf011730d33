/**
 * Reading a private key PEM for import (N:utils/keys.go ImportKeys rules): role from the `role` header,
 * else the caller's, else "delegation"; gun from the header, a legacy `path`, else the caller's.
 */
import path from 'node:path';
import { SignetError, isSignetError } from '../errors.js';
import { checkKeyGun, checkKeyPath, checkKeyRole } from './key-headers.js';
import { decodeKeyPem, findKeyBlock, isEncryptedBlock, metaOf } from './key-pem.js';
import type { PassphraseRetriever } from './passphrase.js';
import type { PrivateKey } from './private-key.js';

const MAX_ATTEMPTS = 3;
const DEFAULT_IMPORT_ROLE = 'delegation';
const GUN_ROLES = new Set(['targets', 'snapshot', 'timestamp']);
const NON_ROOT_KEYS_DIR = 'tuf_keys';

/**
 * The reading half of an import: the decrypted key, its role and gun, and the passphrase to store it
 * under (asked anew for an unencrypted key only when `storeEncrypted`; '' otherwise).
 */
export async function readImportPem(
  pem: string,
  opts: { role?: string; gun?: string; passphrase?: string },
  retriever: PassphraseRetriever,
  storeEncrypted: boolean,
): Promise<{ key: PrivateKey; role: string; gun: string | undefined; passphrase: string }> {
  const block = findKeyBlock(pem);
  const meta = metaOf(block);
  if (meta.path !== undefined) checkKeyPath(meta.path);
  const role = meta.role || opts.role || DEFAULT_IMPORT_ROLE;
  checkKeyRole(role);
  let gun = meta.gun;
  if (!gun && meta.path && meta.path.includes('/')) {
    // legacy export path "tuf_keys/<gun>/<id>_<role>"
    const dir = path.posix.dirname(meta.path);
    if (dir.startsWith(NON_ROOT_KEYS_DIR)) {
      const g = dir.slice(NON_ROOT_KEYS_DIR.length).replace(/^\/+|\/+$/g, '');
      if (g) gun = g;
    }
  }
  gun = gun || opts.gun || undefined;
  if (GUN_ROLES.has(role) && !gun) {
    throw new SignetError('KEY_FILE', `a ${role} key needs a gun: the PEM has no "gun" header and none was given`, {
      fix: 'pass the repository (GUN) the key belongs to',
    });
  }
  if (!GUN_ROLES.has(role)) gun = undefined;
  if (gun !== undefined) checkKeyGun(gun);

  const encrypted = isEncryptedBlock(block);
  let key: PrivateKey;
  let passphrase: string;
  const label = meta.path ? (path.posix.basename(meta.path).split('_')[0] ?? 'imported key') : 'imported key';
  if (!encrypted) {
    key = decodeKeyPem(pem, undefined).key;
    passphrase = storeEncrypted
      ? await retriever({ keyId: key.publicKey.canonicalId, alias: role, createNew: true, attempt: 0 })
      : '';
  } else if (opts.passphrase !== undefined && opts.passphrase !== '') {
    key = decodeKeyPem(pem, opts.passphrase).key;
    passphrase = opts.passphrase;
  } else {
    let got: { key: PrivateKey; pass: string } | undefined;
    let lastErr: unknown;
    for (let attempt = 0; attempt < MAX_ATTEMPTS && got === undefined; attempt++) {
      const pass = await retriever({ keyId: label, alias: role, createNew: false, attempt });
      try {
        got = { key: decodeKeyPem(pem, pass).key, pass };
      } catch (err) {
        if (!isSignetError(err, 'BAD_PASSPHRASE') && !isSignetError(err, 'PASSPHRASE_REQUIRED')) throw err;
        lastErr = err;
      }
    }
    if (got === undefined) {
      throw new SignetError('BAD_PASSPHRASE', `wrong passphrase for the imported ${role} key`, { cause: lastErr });
    }
    key = got.key;
    passphrase = got.pass;
  }
  return { key, role, gun, passphrase };
}
