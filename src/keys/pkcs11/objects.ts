/**
 * Key objects on a token: find a private key by label/ID, read its public key, generate or import an
 * ECDSA P-256 pair, sign. Only P-256: notary's keys are ECDSA P-256 (N:tuf/data/keys.go), and CKM_ECDSA
 * over the SHA-256 digest returns exactly the raw r‖s notary expects (as notary's own YubiKey store signs:
 * N:trustmanager/yubikey/yubikeystore.go).
 */
import crypto from 'node:crypto';
import { SignetError } from '../../errors.js';
import { publicKeyFromSpki, type PublicKey } from '../../tuf/index.js';
import type { PrivateKey } from '../private-key.js';
import type { Session } from './module.js';
import { formatPkcs11Uri, type Pkcs11Uri } from './uri.js';

type Handle = Buffer;

/** DER of the P-256 OID (CKA_EC_PARAMS, RFC 5480 namedCurve). */
const P256_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex');
/** SubjectPublicKeyInfo prefix of a P-256 key before its 65-byte uncompressed point. */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');

export interface TokenKey {
  /** object label (CKA_LABEL) */
  label: string;
  /** CKA_ID */
  id: Buffer;
  /** the bare ecdsa public key with its canonical key ID */
  publicKey: PublicKey;
  /** a URI naming exactly this key on this token */
  uri: string;
}

function find(s: Session, template: { type: number; value?: number | boolean | string | Buffer }[]): Handle[] {
  s.p11.C_FindObjectsInit(s.handle, template);
  try {
    const all: Handle[] = [];
    for (;;) {
      const batch = s.p11.C_FindObjects(s.handle, 64);
      all.push(...batch);
      if (batch.length < 64) return all;
    }
  } finally {
    s.p11.C_FindObjectsFinal(s.handle);
  }
}

function attrs(s: Session, h: Handle, types: number[]): Buffer[] {
  return s.p11
    .C_GetAttributeValue(
      s.handle,
      h,
      types.map((type) => ({ type })),
    )
    .map((a) => (Buffer.isBuffer(a.value) ? a.value : Buffer.alloc(0)));
}

/** The uncompressed point out of CKA_EC_POINT: a DER OCTET STRING (what the standard asks) or, from some tokens, raw. */
function ecPoint(raw: Buffer): Buffer {
  if (raw.length === 65 && raw[0] === 0x04) return raw;
  if (raw.length === 67 && raw[0] === 0x04 && raw[1] === 0x41 && raw[2] === 0x04) return raw.subarray(2);
  throw new SignetError('INVALID_KEY', 'the token key is not an uncompressed ECDSA P-256 point');
}

function publicKeyOfPair(s: Session, label: string, id: Buffer, what: string): PublicKey {
  const c = s.c;
  const tmpl = [{ type: c.CKA_CLASS!, value: c.CKO_PUBLIC_KEY! }];
  if (id.length > 0) tmpl.push({ type: c.CKA_ID!, value: id } as never);
  else tmpl.push({ type: c.CKA_LABEL!, value: label } as never);
  const pub = find(s, tmpl)[0];
  if (pub === undefined)
    throw new SignetError('INVALID_KEY', `${what} has no public key object beside it on the token`, {
      fix: 'keep the public key object (same CKA_ID) on the token, or generate/import the key with signet',
    });
  const [params, point] = attrs(s, pub, [c.CKA_EC_PARAMS!, c.CKA_EC_POINT!]);
  if (params === undefined || !params.equals(P256_PARAMS))
    throw new SignetError('INVALID_KEY', `${what} is not an ECDSA P-256 key; Signet signs with P-256 token keys only`, {
      fix: 'generate the key with `signet key generate --pkcs11 …` (ECDSA P-256)',
    });
  return publicKeyFromSpki(Buffer.concat([P256_SPKI_PREFIX, ecPoint(point ?? Buffer.alloc(0))]), 'ecdsa');
}

function uriFor(s: Session, base: Pkcs11Uri, label: string, id: Buffer): string {
  const u: Pkcs11Uri = { token: s.tokenLabel, object: label };
  if (id.length > 0) u.id = id;
  if (base.modulePath !== undefined) u.modulePath = base.modulePath;
  if (base.pinSource !== undefined) u.pinSource = base.pinSource;
  return formatPkcs11Uri(u);
}

/** Every private key on the token with its public key (keys that are not P-256 are left out). */
export function listTokenKeys(s: Session, base: Pkcs11Uri): TokenKey[] {
  const c = s.c;
  const out: TokenKey[] = [];
  for (const h of find(s, [{ type: c.CKA_CLASS!, value: c.CKO_PRIVATE_KEY! }])) {
    const [labelBytes, id] = attrs(s, h, [c.CKA_LABEL!, c.CKA_ID!]);
    const label = (labelBytes ?? Buffer.alloc(0)).toString('utf8');
    try {
      const publicKey = publicKeyOfPair(s, label, id ?? Buffer.alloc(0), `key ${label}`);
      out.push({ label, id: id ?? Buffer.alloc(0), publicKey, uri: uriFor(s, base, label, id ?? Buffer.alloc(0)) });
    } catch {
      // not a key Signet can use (another curve, RSA, no public object): not listed
    }
  }
  return out.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}

/** The private key the URI names (exactly one), with its public key. */
export function findTokenKey(s: Session, uri: Pkcs11Uri): TokenKey & { handle: Handle } {
  const c = s.c;
  if (uri.object === undefined && uri.id === undefined)
    throw new SignetError('PKCS11_URI', 'the PKCS#11 URI names no key object', {
      fix: `add object=<label> (list them with \`signet key list --pkcs11 'pkcs11:token=${s.tokenLabel}'\`)`,
    });
  const tmpl: { type: number; value?: number | boolean | string | Buffer }[] = [
    { type: c.CKA_CLASS!, value: c.CKO_PRIVATE_KEY! },
  ];
  if (uri.object !== undefined) tmpl.push({ type: c.CKA_LABEL!, value: uri.object });
  if (uri.id !== undefined) tmpl.push({ type: c.CKA_ID!, value: uri.id });
  const hits = find(s, tmpl);
  const what = `key ${JSON.stringify(uri.object ?? uri.id?.toString('hex'))} on token ${s.tokenLabel}`;
  const h = hits[0];
  if (h === undefined)
    throw new SignetError('KEY_NOT_FOUND', `no private ${what}`, {
      fix: `list the token's keys with \`signet key list --pkcs11 'pkcs11:token=${s.tokenLabel}'\`, or create it with \`signet key generate --pkcs11 …\``,
    });
  if (hits.length > 1)
    throw new SignetError('PKCS11_URI', `${hits.length} private keys match ${what}`, {
      fix: 'add id=%xx… to the URI (see `signet key list --pkcs11 …`)',
    });
  const [labelBytes, id] = attrs(s, h, [c.CKA_LABEL!, c.CKA_ID!]);
  const label = (labelBytes ?? Buffer.alloc(0)).toString('utf8');
  const keyId = id ?? Buffer.alloc(0);
  return {
    handle: h,
    label,
    id: keyId,
    publicKey: publicKeyOfPair(s, label, keyId, what),
    uri: uriFor(s, uri, label, keyId),
  };
}

function refuseExisting(s: Session, label: string): void {
  const c = s.c;
  if (find(s, [{ type: c.CKA_LABEL!, value: label }]).length > 0)
    throw new SignetError(
      'CONFLICT',
      `token ${s.tokenLabel} already holds an object labelled ${JSON.stringify(label)}`,
      {
        fix: 'choose another object= label, or use the existing key',
      },
    );
}

function needLabel(uri: Pkcs11Uri): string {
  if (uri.object === undefined || uri.object === '')
    throw new SignetError('PKCS11_URI', 'a new token key needs a label: add object=<label> to the URI');
  return uri.object;
}

/** Generates an ECDSA P-256 pair on the token: the private half is sensitive and not extractable. */
export function generateTokenKey(s: Session, uri: Pkcs11Uri): TokenKey {
  const c = s.c;
  const label = needLabel(uri);
  refuseExisting(s, label);
  const id = uri.id ?? crypto.randomBytes(16);
  s.p11.C_GenerateKeyPair(
    s.handle,
    { mechanism: c.CKM_EC_KEY_PAIR_GEN! },
    [
      { type: c.CKA_TOKEN!, value: true },
      { type: c.CKA_VERIFY!, value: true },
      { type: c.CKA_EC_PARAMS!, value: P256_PARAMS },
      { type: c.CKA_LABEL!, value: label },
      { type: c.CKA_ID!, value: id },
    ],
    privateTemplate(s, label, id),
  );
  return findTokenKey(s, { ...uri, object: label, id });
}

function privateTemplate(
  s: Session,
  label: string,
  id: Buffer,
): { type: number; value: number | boolean | string | Buffer }[] {
  const c = s.c;
  return [
    { type: c.CKA_TOKEN!, value: true },
    { type: c.CKA_PRIVATE!, value: true },
    { type: c.CKA_SENSITIVE!, value: true },
    { type: c.CKA_EXTRACTABLE!, value: false },
    { type: c.CKA_SIGN!, value: true },
    { type: c.CKA_LABEL!, value: label },
    { type: c.CKA_ID!, value: id },
  ];
}

/** Writes an existing ECDSA P-256 key onto the token (private object sensitive, not extractable) and its public key. */
export function importTokenKey(s: Session, uri: Pkcs11Uri, key: PrivateKey): TokenKey {
  const c = s.c;
  if (key.keytype !== 'ecdsa' || key.keyObject.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new SignetError('INVALID_KEY', `only ECDSA P-256 keys go onto a token; this is a ${key.keytype} key`, {
      fix: 'keep other keys in the trust dir (`signet key import FILE` without --to-pkcs11)',
    });
  const label = needLabel(uri);
  refuseExisting(s, label);
  const jwk = key.keyObject.export({ format: 'jwk' });
  const b = (v: string | undefined): Buffer => Buffer.from(v ?? '', 'base64url');
  const point = Buffer.concat([Buffer.from([0x04]), b(jwk.x), b(jwk.y)]);
  const id = uri.id ?? crypto.randomBytes(16);
  const common = [
    { type: c.CKA_KEY_TYPE!, value: c.CKK_EC! },
    { type: c.CKA_EC_PARAMS!, value: P256_PARAMS },
  ];
  s.p11.C_CreateObject(s.handle, [
    { type: c.CKA_CLASS!, value: c.CKO_PUBLIC_KEY! },
    ...common,
    { type: c.CKA_TOKEN!, value: true },
    { type: c.CKA_VERIFY!, value: true },
    { type: c.CKA_LABEL!, value: label },
    { type: c.CKA_ID!, value: id },
    { type: c.CKA_EC_POINT!, value: Buffer.concat([Buffer.from([0x04, 0x41]), point]) },
  ]);
  s.p11.C_CreateObject(s.handle, [
    { type: c.CKA_CLASS!, value: c.CKO_PRIVATE_KEY! },
    ...common,
    ...privateTemplate(s, label, id),
    { type: c.CKA_VALUE!, value: b(jwk.d) },
  ]);
  const made = findTokenKey(s, { ...uri, object: label, id });
  if (made.publicKey.canonicalId !== key.publicKey.canonicalId)
    throw new SignetError('INTERNAL', 'the key read back from the token differs from the imported key');
  return made;
}

/** CKM_ECDSA over SHA-256(data): the raw 64-byte r‖s of a P-256 signature. */
export function signOnToken(s: Session, handle: Handle, data: Buffer): Buffer {
  const digest = crypto.createHash('sha256').update(data).digest();
  s.p11.C_SignInit(s.handle, { mechanism: s.c.CKM_ECDSA! }, handle);
  const sig = Buffer.from(s.p11.C_Sign(s.handle, digest, Buffer.alloc(132)));
  if (sig.length !== 64)
    throw new SignetError(
      'PKCS11',
      `the token returned a ${sig.length}-byte ECDSA signature, not the 64-byte r‖s of P-256`,
    );
  return sig;
}

/** The object search, for server-held token keys (server-keys.ts). */
export { find as findObjects };
