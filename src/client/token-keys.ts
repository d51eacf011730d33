/**
 * Keys on PKCS#11 tokens from the client's side: generate one, import a key file onto one, list a
 * token, and turn a `pkcs11:` URI given to init/rotate/signer add into a key of the trust dir's store
 * (recorded by reference: src/keys/pkcs11/refs.ts). The private half never leaves the token.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { SignetError, isSignetError } from '../errors.js';
import {
  isPkcs11Uri,
  publicKeyPem,
  readImportPem,
  type PassphraseRetriever,
  type TokenKey,
  type TokenKeyRef,
  type TrustDirKeyStore,
} from '../keys/index.js';
import { writeFileAtomic } from '../fs/index.js';
import { scanPem, type PublicKey } from '../tuf/index.js';

export interface TokenKeyResult {
  id: string;
  role: string;
  gun?: string;
  uri: string;
  publicKeyFile?: string;
}

function result(ref: TokenKeyRef, publicKeyFile?: string): TokenKeyResult {
  return {
    id: ref.keyId,
    role: ref.role,
    ...(ref.gun !== undefined ? { gun: ref.gun } : {}),
    uri: ref.uri,
    ...(publicKeyFile !== undefined ? { publicKeyFile } : {}),
  };
}

async function refuseExisting(file: string): Promise<void> {
  const there = await stat(file).then(
    () => true,
    () => false,
  );
  if (there)
    throw new SignetError('CONFLICT', `${file} already exists`, {
      fix: 'choose another name or --dir, or remove the file',
    });
}

/** Writes `<dir>/<name>.pub` for a token key (what `signer add --key` takes); checked absent before. */
async function writePub(store: TrustDirKeyStore, ref: TokenKeyRef, name: string, dir: string): Promise<string> {
  const file = path.resolve(dir, `${name}.pub`);
  const pem = publicKeyPem(store.tokens.publicKey(ref), name);
  await writeFileAtomic(file, pem, { mode: 0o644, createDir: true });
  return file;
}

/** `signet key generate --pkcs11 URI`: a new ECDSA P-256 key on the token, recorded with its role. */
export async function generateKeyOnToken(
  store: TrustDirKeyStore,
  uri: string,
  meta: { role: string; gun?: string; pub?: { dir: string; name: string } },
): Promise<TokenKeyResult> {
  if (meta.pub !== undefined) await refuseExisting(path.resolve(meta.pub.dir, `${meta.pub.name}.pub`));
  const ref = await store.tokens.generate(uri, {
    role: meta.role,
    ...(meta.gun !== undefined ? { gun: meta.gun } : {}),
  });
  const pub = meta.pub !== undefined ? await writePub(store, ref, meta.pub.name, meta.pub.dir) : undefined;
  return result(ref, pub);
}

/** `signet key import FILE --to-pkcs11 URI`: one private key PEM written onto the token; no key file is kept. */
export async function importKeyToToken(
  store: TrustDirKeyStore,
  file: string,
  uri: string,
  opts: { role?: string; gun?: string },
  retriever: PassphraseRetriever,
): Promise<TokenKeyResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new SignetError('KEY_FILE', `cannot read ${file}`, { cause: e });
  }
  const blocks = scanPem(text).blocks.filter((b) => b.type.endsWith('PRIVATE KEY'));
  const first = blocks[0];
  if (first === undefined || blocks.length > 1)
    throw new SignetError(
      'KEY_FILE',
      `${file} must hold exactly one PEM private key to go onto a token (it has ${blocks.length})`,
      {
        fix: 'import one key per object= label',
      },
    );
  const { key, role, gun } = await readImportPem(text.slice(first.start, first.end), opts, retriever, false);
  const ref = await store.tokens.importKey(key, uri, gun !== undefined ? { role, gun } : { role });
  return result(ref);
}

/** `signet key list --pkcs11 URI`: the token's usable keys and what the trust dir records for each. */
export async function listTokenKeys(
  store: TrustDirKeyStore,
  uri: string,
): Promise<Array<{ id: string; label: string; uri: string; role?: string; gun?: string }>> {
  return (await store.tokens.listToken(uri)).map((k: TokenKey & { ref?: TokenKeyRef }) => ({
    id: k.publicKey.canonicalId,
    label: k.label,
    uri: k.uri,
    ...(k.ref !== undefined ? { role: k.ref.role } : {}),
    ...(k.ref?.gun !== undefined ? { gun: k.ref.gun } : {}),
  }));
}

/**
 * A key argument of init, rotate or signer add: a `pkcs11:` URI is recorded in the store (role `meta`)
 * and its key ID returned; anything else is returned as the key ID it already is.
 */
export async function keyIdFor(
  store: TrustDirKeyStore,
  text: string,
  meta: { role: string; gun?: string },
): Promise<string> {
  if (!isPkcs11Uri(text)) return text;
  return (await store.tokens.register(text, meta)).keyId;
}

/** The bare public key of a token key named by URI (recorded in the store as `meta`), for `signer add --key`. */
export async function tokenPublicKey(store: TrustDirKeyStore, uri: string, meta: { role: string }): Promise<PublicKey> {
  try {
    const ref = await store.tokens.register(uri, meta);
    return store.tokens.publicKey(ref);
  } catch (e) {
    if (isSignetError(e)) throw e;
    throw new SignetError('PKCS11', `cannot read the key ${uri}`, { cause: e });
  }
}
