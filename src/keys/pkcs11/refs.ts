/**
 * Keys that live on a PKCS#11 token, as the trust dir knows them: one non-secret reference file per
 * key, `<trustDir>/pkcs11/<canonicalKeyID>.json` = {keyId, uri, role, gun?, public}. No PIN is ever
 * written (URIs with pin-value are refused by uri.ts). notary reads only `*.key` files under `private/`
 * (N:trustmanager/filestore.go), so it ignores these files.
 */
import crypto from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { SignetError } from '../../errors.js';
import { writeFileAtomic } from '../../fs/index.js';
import { publicKeyFromSpki, type PublicKey, type Signer } from '../../tuf/index.js';
import { checkKeyGun, checkKeyRole } from '../key-headers.js';
import type { PrivateKey } from '../private-key.js';
import { withSession, type Pkcs11Settings } from './module.js';
import {
  findTokenKey,
  generateTokenKey,
  importTokenKey,
  listTokenKeys,
  signOnToken,
  type TokenKey,
} from './objects.js';
import { parsePkcs11Uri } from './uri.js';

export interface TokenKeyRef {
  /** canonical key ID of the bare public key */
  keyId: string;
  /** RFC 7512 URI naming the key on its token (token, object, id; module-path/pin-source if given) */
  uri: string;
  role: string;
  gun?: string;
  /** base64 SubjectPublicKeyInfo of the ECDSA P-256 public key */
  public: string;
}

export interface TokenKeyMeta {
  role: string;
  gun?: string;
}

export const TOKEN_REF_DIR = 'pkcs11';
const GUN_ROLES = new Set(['targets', 'snapshot', 'timestamp']);
const ID_RE = /^[0-9a-f]{64}$/;

/** Role and gun as key files take them; a targets/snapshot/timestamp key names its repository. */
function checkMeta(meta: TokenKeyMeta): void {
  checkKeyRole(meta.role);
  if (meta.gun !== undefined) checkKeyGun(meta.gun);
  if (GUN_ROLES.has(meta.role) && meta.gun === undefined)
    throw new SignetError('USAGE', `a ${meta.role} key belongs to one repository`, { fix: 'pass --gun GUN' });
}

export class TokenKeyStore {
  readonly dir: string;
  private readonly settings: Pkcs11Settings;

  constructor(trustDir: string, settings: Pkcs11Settings = {}) {
    this.dir = path.join(path.resolve(trustDir), TOKEN_REF_DIR);
    this.settings = settings;
  }

  refPath(keyId: string): string {
    if (!ID_RE.test(keyId)) throw new SignetError('KEY_NOT_FOUND', `invalid key ID ${JSON.stringify(keyId)}`);
    return path.join(this.dir, `${keyId}.json`);
  }

  /** Every reference file (unreadable ones are skipped, as key files are). */
  async list(): Promise<TokenKeyRef[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new SignetError('KEY_FILE', `cannot read ${this.dir}`, { cause: err });
    }
    const out: TokenKeyRef[] = [];
    for (const n of names.sort()) {
      const id = n.endsWith('.json') ? n.slice(0, -5) : '';
      if (!ID_RE.test(id)) continue;
      const ref = await this.ref(id).catch(() => undefined);
      if (ref !== undefined) out.push(ref);
    }
    return out;
  }

  async ref(keyId: string): Promise<TokenKeyRef | undefined> {
    let text: string;
    try {
      text = await readFile(this.refPath(keyId), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new SignetError('KEY_FILE', `cannot read ${this.refPath(keyId)}`, { cause: err });
    }
    const v = JSON.parse(text) as Partial<TokenKeyRef>;
    if (v.keyId !== keyId || typeof v.uri !== 'string' || typeof v.role !== 'string' || typeof v.public !== 'string')
      throw new SignetError('KEY_FILE', `${this.refPath(keyId)} is not a PKCS#11 key reference`);
    parsePkcs11Uri(v.uri);
    const ref: TokenKeyRef = { keyId, uri: v.uri, role: v.role, public: v.public };
    if (typeof v.gun === 'string') ref.gun = v.gun;
    return ref;
  }

  publicKey(ref: TokenKeyRef): PublicKey {
    return publicKeyFromSpki(Buffer.from(ref.public, 'base64'), 'ecdsa');
  }

  private async write(key: TokenKey, meta: TokenKeyMeta): Promise<TokenKeyRef> {
    checkMeta(meta);
    const ref: TokenKeyRef = {
      keyId: key.publicKey.canonicalId,
      uri: key.uri,
      role: meta.role,
      public: key.publicKey.public,
    };
    if (GUN_ROLES.has(meta.role)) ref.gun = meta.gun;
    try {
      await writeFileAtomic(this.refPath(ref.keyId), `${JSON.stringify(ref, null, 2)}\n`, { createDir: true });
    } catch (err) {
      throw new SignetError('KEY_FILE', `cannot write ${this.refPath(ref.keyId)}`, { cause: err });
    }
    return ref;
  }

  /** A new ECDSA P-256 key generated on the token, recorded here with its role. */
  async generate(uriText: string, meta: TokenKeyMeta): Promise<TokenKeyRef> {
    checkMeta(meta); // before the token is touched: nothing is left on it for a bad command line
    const uri = parsePkcs11Uri(uriText);
    const key = await withSession(uri, this.settings, (s) => generateTokenKey(s, uri));
    return this.write(key, meta);
  }

  /** An existing private key written onto the token, recorded here with its role. */
  async importKey(key: PrivateKey, uriText: string, meta: TokenKeyMeta): Promise<TokenKeyRef> {
    checkMeta(meta); // before the token is touched: nothing is left on it for a bad command line
    const uri = parsePkcs11Uri(uriText);
    const made = await withSession(uri, this.settings, (s) => importTokenKey(s, uri, key));
    return this.write(made, meta);
  }

  /**
   * The key the URI names, recorded here (role `meta`) unless it already is; the existing record is
   * kept, so a root key used again keeps its role.
   */
  async register(uriText: string, meta: TokenKeyMeta): Promise<TokenKeyRef> {
    checkMeta(meta);
    const uri = parsePkcs11Uri(uriText);
    const key = await withSession(uri, this.settings, (s) => {
      const k = findTokenKey(s, uri);
      return { label: k.label, id: k.id, publicKey: k.publicKey, uri: k.uri };
    });
    return (await this.ref(key.publicKey.canonicalId)) ?? this.write(key, meta);
  }

  /** The token's keys, with the trust dir's record of each (if any). */
  async listToken(uriText: string): Promise<Array<TokenKey & { ref?: TokenKeyRef }>> {
    const uri = parsePkcs11Uri(uriText);
    const keys = await withSession(uri, this.settings, (s) => listTokenKeys(s, uri));
    const out: Array<TokenKey & { ref?: TokenKeyRef }> = [];
    for (const k of keys) {
      const ref = await this.ref(k.publicKey.canonicalId);
      out.push(ref === undefined ? k : { ...k, ref });
    }
    return out;
  }

  /** Forgets a key (the reference file); the object stays on the token. */
  async remove(keyId: string): Promise<void> {
    await rm(this.refPath(keyId));
  }

  /**
   * A Signer for `publicKey` (bare, or the root's x509 key of the same key) backed by the token key
   * `ref`: each signature is CKM_ECDSA over SHA-256, raw r‖s (method "ecdsa").
   */
  signer(ref: TokenKeyRef, publicKey: PublicKey): Signer {
    if (publicKey.canonicalId !== ref.keyId || (publicKey.keytype !== 'ecdsa' && publicKey.keytype !== 'ecdsa-x509'))
      throw new SignetError(
        'INVALID_KEY',
        `token key ${ref.keyId} cannot sign for a ${publicKey.keytype} key ${publicKey.canonicalId}`,
      );
    const uri = parsePkcs11Uri(ref.uri);
    const settings = this.settings;
    const spki = crypto.createPublicKey({ key: Buffer.from(ref.public, 'base64'), format: 'der', type: 'spki' });
    const sign = async (data: Buffer): Promise<{ method: 'ecdsa'; sig: Buffer }> => {
      const sig = await withSession(uri, settings, (s) => {
        const k = findTokenKey(s, uri);
        if (k.publicKey.canonicalId !== ref.keyId)
          throw new SignetError(
            'KEY_NOT_FOUND',
            `${ref.uri} now holds key ${k.publicKey.canonicalId}, not ${ref.keyId}`,
            {
              fix: `put key ${ref.keyId} back on the token, or remove the reference ${this.refPath(ref.keyId)}`,
            },
          );
        return signOnToken(s, k.handle, data);
      });
      // as notary's YubiKey store does (N:trustmanager/yubikey/yubikeystore.go): a signature that does not
      // verify is never handed out
      if (!crypto.verify('sha256', data, { key: spki, dsaEncoding: 'ieee-p1363' }, sig))
        throw new SignetError('PKCS11', `the token's signature with ${ref.uri} does not verify with key ${ref.keyId}`);
      return { method: 'ecdsa', sig };
    };
    return Object.freeze({ publicKey, sign });
  }
}
