/**
 * The trust directory's private keys, as notary 0.7 and Docker keep them (N:client/client.go, N:tuf/utils/x509.go):
 * `<trustDir>/private/<canonicalKeyID>.key`, PEM with `role` (+ `gun` for targets/snapshot/timestamp).
 * Legacy (pre-0.4) layouts `private/root_keys/<id>_root.key` and
 * `private/tuf_keys/<gun>/<id>_<role>.key` are read too (never migrated or deleted here).
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { SignetError, isSignetError } from '../errors.js';
import { writeFileAtomic } from '../fs/index.js';
import { checkKeyGun, checkKeyRole } from './key-headers.js';
import { readImportPem } from './key-import.js';
import type { PassphraseRetriever } from './passphrase.js';
import { decodeKeyPem, encodeKeyPem, findKeyBlock, isEncryptedBlock, metaOf, type KeyFileMeta } from './key-pem.js';
import type { PrivateKey } from './private-key.js';
import type { Pkcs11Settings } from './pkcs11/module.js';
import { TokenKeyStore, type TokenKeyRef } from './pkcs11/refs.js';
import { localSigner, type PublicKey, type Signer } from '../tuf/index.js';

/** Writes a key-store file (0600, folders 0700) atomically; a failure is a KEY_FILE error. */
export async function writeKeyFile(file: string, data: string): Promise<void> {
  try {
    await writeFileAtomic(file, data, { createDir: true });
  } catch (err) {
    throw new SignetError('KEY_FILE', `cannot write ${file}`, { cause: err });
  }
}

export interface KeyListEntry {
  id: string;
  role: string;
  gun?: string;
  /** absolute path of the key file (for a token key: its reference file) */
  file: string;
  /** set when the private key lives on a PKCS#11 token: its RFC 7512 URI */
  pkcs11?: string;
}

export type StoredPrivateKey = PrivateKey & { role: string; gun?: string };

const PRIVATE_DIR = 'private';
const ROOT_KEYS_DIR = 'root_keys';
const NON_ROOT_KEYS_DIR = 'tuf_keys';
const KEY_EXT = '.key';
const MAX_ATTEMPTS = 3;
const GUN_ROLES = new Set(['targets', 'snapshot', 'timestamp']);
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** notary's AddKey rule: only targets, snapshot and timestamp keys carry a gun. */
export function keyFileGun(role: string, gun: string | undefined): string | undefined {
  return GUN_ROLES.has(role) && gun ? gun : undefined;
}

function checkId(id: string): void {
  if (!ID_RE.test(id)) throw new SignetError('KEY_NOT_FOUND', `invalid key ID ${JSON.stringify(id)}`);
}

function withMeta(key: PrivateKey, role: string, gun: string | undefined): StoredPrivateKey {
  const out: StoredPrivateKey = { keytype: key.keytype, keyObject: key.keyObject, publicKey: key.publicKey, role };
  if (gun !== undefined) out.gun = gun;
  Object.defineProperty(out, 'toJSON', {
    enumerable: false,
    value: () => ({ keytype: key.keytype, id: key.publicKey.id, role, ...(gun ? { gun } : {}) }),
  });
  return out;
}

async function listDir(dir: string): Promise<import('node:fs').Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new SignetError('KEY_FILE', `cannot read ${dir}`, { cause: err });
  }
}

export class TrustDirKeyStore {
  readonly trustDir: string;
  readonly privateDir: string;
  private readonly retriever: PassphraseRetriever;
  private readonly cache = new Map<string, StoredPrivateKey>();
  private readonly inflight = new Map<string, Promise<StoredPrivateKey>>();
  /** keys on PKCS#11 tokens, known by reference files (`pkcs11/refs.ts`) */
  readonly tokens: TokenKeyStore;

  constructor(trustDir: string, retriever: PassphraseRetriever, opts: { pkcs11?: Pkcs11Settings } = {}) {
    this.trustDir = path.resolve(trustDir);
    this.privateDir = path.join(this.trustDir, PRIVATE_DIR);
    this.retriever = retriever;
    this.tokens = new TokenKeyStore(this.trustDir, opts.pkcs11);
  }

  /**
   * The one way from a key ID to a Signer for `publicKey` (bare, or the root's x509 key of that key):
   * a key file is decrypted and signs in-process; a token key signs on its token.
   */
  async signer(id: string, publicKey: PublicKey): Promise<Signer> {
    const ref = await this.tokenRef(id);
    if (ref !== undefined) return this.tokens.signer(ref, publicKey);
    return localSigner((await this.get(id)).keyObject, publicKey);
  }

  /** The bare public key of a stored key (a key file is decrypted; a token key's is in its reference). */
  async publicKey(id: string): Promise<PublicKey> {
    const ref = await this.tokenRef(id);
    return ref !== undefined ? this.tokens.publicKey(ref) : (await this.get(id)).publicKey;
  }

  /** The token reference of `id` when no key file holds it. */
  private async tokenRef(id: string): Promise<TokenKeyRef | undefined> {
    checkId(id);
    const e = (await this.list()).find((x) => x.id === id);
    return e?.pkcs11 !== undefined ? this.tokens.ref(id) : undefined;
  }

  /** Path the key with this canonical ID is (or would be) stored at. */
  keyPath(id: string): string {
    checkId(id);
    return path.join(this.privateDir, id + KEY_EXT);
  }

  /** Every key file, from its PEM headers only (no decryption). Unparseable files are skipped. */
  async list(): Promise<KeyListEntry[]> {
    const found = new Map<string, KeyListEntry>();
    const consider = async (
      file: string,
      id: string,
      fallbackRole: string,
      fallbackGun: string | undefined,
    ): Promise<void> => {
      if (found.has(id) || !ID_RE.test(id)) return;
      let text: string;
      try {
        text = await readFile(file, 'utf8');
        const meta = metaOf(findKeyBlock(text));
        const role = meta.role || fallbackRole;
        const gun = meta.gun ?? fallbackGun;
        const entry: KeyListEntry = { id, role, file };
        if (gun) entry.gun = gun;
        found.set(id, entry);
      } catch {
        // notary logs and skips files it cannot parse; so do we
      }
    };

    for (const d of await listDir(this.privateDir)) {
      if (d.isFile() && d.name.endsWith(KEY_EXT)) {
        await consider(path.join(this.privateDir, d.name), d.name.slice(0, -KEY_EXT.length), '', undefined);
      }
    }
    const legacyName = (name: string): { id: string; role: string } => {
      const base = name.slice(0, -KEY_EXT.length);
      const us = base.indexOf('_');
      return us < 0 ? { id: base, role: '' } : { id: base.slice(0, us), role: base.slice(us + 1) };
    };
    const rootDir = path.join(this.privateDir, ROOT_KEYS_DIR);
    for (const d of await listDir(rootDir)) {
      if (d.isFile() && d.name.endsWith(KEY_EXT)) {
        const { id, role } = legacyName(d.name);
        await consider(path.join(rootDir, d.name), id, role || 'root', undefined);
      }
    }
    const walk = async (dir: string, gunParts: string[]): Promise<void> => {
      for (const d of await listDir(dir)) {
        const p = path.join(dir, d.name);
        if (d.isDirectory()) await walk(p, [...gunParts, d.name]);
        else if (d.isFile() && d.name.endsWith(KEY_EXT)) {
          const { id, role } = legacyName(d.name);
          await consider(p, id, role, gunParts.length > 0 ? gunParts.join('/') : undefined);
        }
      }
    };
    await walk(path.join(this.privateDir, NON_ROOT_KEYS_DIR), []);
    for (const ref of await this.tokens.list()) {
      if (found.has(ref.keyId)) continue;
      const entry: KeyListEntry = {
        id: ref.keyId,
        role: ref.role,
        file: this.tokens.refPath(ref.keyId),
        pkcs11: ref.uri,
      };
      if (ref.gun !== undefined) entry.gun = ref.gun;
      found.set(ref.keyId, entry);
    }
    return [...found.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  private async entry(id: string): Promise<KeyListEntry> {
    const flat = this.keyPath(id);
    try {
      const meta = metaOf(findKeyBlock(await readFile(flat, 'utf8')));
      const e: KeyListEntry = { id, role: meta.role, file: flat };
      if (meta.gun) e.gun = meta.gun;
      return e;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        if (isSignetError(err)) throw err;
        throw new SignetError('KEY_FILE', `cannot read ${flat}`, { cause: err });
      }
    }
    const e = (await this.list()).find((x) => x.id === id);
    if (e === undefined) {
      throw new SignetError('KEY_NOT_FOUND', `no private key ${id} in ${this.privateDir}`);
    }
    return e;
  }

  /** Decrypts a key: as-is when unencrypted, else with the retriever (up to 3 attempts). */
  async get(id: string): Promise<StoredPrivateKey> {
    const cached = this.cache.get(id);
    if (cached !== undefined) return cached;
    // concurrent gets of one key share a single decryption (and a single prompt)
    const running = this.inflight.get(id);
    if (running !== undefined) return running;
    const p = this.load(id).finally(() => this.inflight.delete(id));
    this.inflight.set(id, p);
    return p;
  }

  private async load(id: string): Promise<StoredPrivateKey> {
    const e = await this.entry(id);
    if (e.pkcs11 !== undefined)
      throw new SignetError(
        'KEY_ON_TOKEN',
        `the private ${e.role} key ${id} lives on a PKCS#11 token (${e.pkcs11}) and cannot be read`,
        {
          fix: 'a token key signs on the token; it cannot be exported or backed up (back up the token itself)',
        },
      );
    const text = await readFile(e.file, 'utf8').catch((err: unknown) => {
      throw new SignetError('KEY_FILE', `cannot read ${e.file}`, { cause: err });
    });
    const key = await this.decryptWithRetriever(text, id, e.role);
    if (key.publicKey.canonicalId !== id) {
      throw new SignetError('KEY_FILE', `key file ${e.file} holds key ${key.publicKey.canonicalId}, not ${id}`);
    }
    const stored = withMeta(key, e.role, e.gun);
    this.cache.set(id, stored);
    return stored;
  }

  private async decryptWithRetriever(text: string, keyId: string, alias: string): Promise<PrivateKey> {
    const block = findKeyBlock(text);
    if (!isEncryptedBlock(block)) return decodeKeyPem(text, undefined).key;
    let lastErr: unknown;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const passphrase = await this.retriever({ keyId, alias, createNew: false, attempt });
      try {
        return decodeKeyPem(text, passphrase).key;
      } catch (err) {
        if (!isSignetError(err, 'BAD_PASSPHRASE') && !isSignetError(err, 'PASSPHRASE_REQUIRED')) throw err;
        lastErr = err;
      }
    }
    throw new SignetError('BAD_PASSPHRASE', `wrong passphrase for the ${alias || 'private'} key ${keyId.slice(0, 7)}`, {
      cause: lastErr,
    });
  }

  /**
   * Encrypts `key` with a new passphrase from the retriever (createNew) and writes
   * `private/<canonicalId>.key`. The gun is kept only for targets/snapshot/timestamp keys.
   */
  async add(key: PrivateKey, meta: { role: string; gun?: string }): Promise<string> {
    if (!meta.role) throw new SignetError('KEY_FILE', 'a key file needs a role');
    checkKeyRole(meta.role);
    if (meta.gun !== undefined) checkKeyGun(meta.gun);
    const id = key.publicKey.canonicalId;
    const gun = keyFileGun(meta.role, meta.gun);
    const passphrase = await this.retriever({ keyId: id, alias: meta.role, createNew: true, attempt: 0 });
    return this.write(key, meta.role, gun, passphrase);
  }

  private async write(key: PrivateKey, role: string, gun: string | undefined, passphrase: string): Promise<string> {
    const id = key.publicKey.canonicalId;
    const file = this.keyPath(id);
    const pem = encodeKeyPem(key, gun ? { role, gun } : { role }, passphrase);
    await writeKeyFile(file, pem);
    this.cache.set(id, withMeta(key, role, gun));
    return file;
  }

  /** Deletes the key file (flat and any legacy copy). */
  async remove(id: string): Promise<void> {
    checkId(id);
    const all = await this.list();
    const e = all.find((x) => x.id === id);
    if (e === undefined) throw new SignetError('KEY_NOT_FOUND', `no private key ${id} in ${this.privateDir}`);
    await rm(e.file).catch((err: unknown) => {
      throw new SignetError('KEY_FILE', `cannot delete ${e.file}`, { cause: err });
    });
    this.cache.delete(id);
    // a legacy copy may be shadowed by the flat file; remove it too
    const again = (await this.list()).find((x) => x.id === id);
    if (again !== undefined) await this.remove(id);
  }

  /**
   * notary `key export` format: the key re-encrypted with `passphrase` (unencrypted `PRIVATE KEY`
   * when empty) carrying `path: <id>` plus its role/gun headers.
   */
  async exportKey(id: string, passphrase: string): Promise<string> {
    const key = await this.get(id);
    const meta: KeyFileMeta = { role: key.role, path: id };
    if (key.gun) meta.gun = key.gun;
    return encodeKeyPem(key, meta, passphrase);
  }

  /**
   * Imports a private key PEM. Encrypted keys are decrypted (opts.passphrase, else the retriever)
   * and stored under the same passphrase; unencrypted ones are encrypted with a new passphrase.
   * Role: the PEM `role` header, else opts.role, else "delegation". Gun: header, else a legacy
   * `path`, else opts.gun; required for targets/snapshot/timestamp, dropped for other roles.
   */
  async importPem(
    pem: string,
    opts: { role?: string; gun?: string; passphrase?: string } = {},
  ): Promise<{ id: string; role: string }> {
    const { key, role, gun, passphrase } = await readImportPem(pem, opts, this.retriever, true);
    await this.write(key, role, gun, passphrase);
    return { id: key.publicKey.canonicalId, role };
  }

  /**
   * Imports a key file, refusing files that group or others may read or write (as
   * `docker trust key load` does), then as importPem.
   */
  async importFile(
    file: string,
    opts: { role?: string; gun?: string; passphrase?: string } = {},
  ): Promise<{ id: string; role: string }> {
    let text: string;
    try {
      const st = await stat(file);
      if (!st.isFile()) throw new SignetError('KEY_FILE', `${file} is not a regular file`);
      if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
        throw new SignetError(
          'KEY_FILE',
          `private key file ${file} must not be readable or writable by group or others (mode ${(st.mode & 0o777).toString(8)})`,
          { fix: `chmod 600 ${file}` },
        );
      }
      text = await readFile(file, 'utf8');
    } catch (err) {
      if (isSignetError(err)) throw err;
      throw new SignetError('KEY_FILE', `cannot read ${file}`, { cause: err });
    }
    return this.importPem(text, opts);
  }

  /** Raw key files, relative to the trust dir (POSIX separators), for backups. */
  async keyFiles(): Promise<Array<{ id: string; file: string; pem: string }>> {
    const out: Array<{ id: string; file: string; pem: string }> = [];
    for (const e of await this.list()) {
      if (e.pkcs11 !== undefined) continue; // the token holds it; nothing to copy
      const pem = await readFile(e.file, 'utf8');
      out.push({ id: e.id, file: path.relative(this.trustDir, e.file).split(path.sep).join('/'), pem });
    }
    return out;
  }
}
