/**
 * Server-held keys (timestamp, snapshot) on a PKCS#11 token, for Signet's signer service
 * (src/signer/pkcs11-custody.ts). Each key is an ECDSA P-256 pair generated on the token (private
 * half sensitive, not extractable: objects.ts) and then named by its TUF key ID: CKA_LABEL = the
 * key ID (64 hex characters) and CKA_ID = its 32 bytes, on the private and the public object.
 * Signing and destroying find the pair by that label and ID. The key's GUN and role are not on the
 * token: the service's database keeps them (non-secret rows, docs/signer-service.md).
 */
import crypto from 'node:crypto';
import { SignetError } from '../../errors.js';
import type { PublicKey } from '../../tuf/index.js';
import { withSession, type Pkcs11Settings, type Session } from './module.js';
import { findObjects, findTokenKey, generateTokenKey, signOnToken } from './objects.js';
import { formatPkcs11Uri, parsePkcs11Uri, type Pkcs11Uri } from './uri.js';

const KEY_ID_RE = /^[0-9a-f]{64}$/;

/** Private and public objects labelled `label` (and, when given, with CKA_ID `id`). */
function pairObjects(s: Session, label: string, id?: Buffer): Buffer[] {
  const tmpl: { type: number; value: string | Buffer }[] = [{ type: s.c.CKA_LABEL!, value: label }];
  if (id !== undefined) tmpl.push({ type: s.c.CKA_ID!, value: id });
  return findObjects(s, tmpl);
}

export class TokenServerKeys {
  readonly #base: Pkcs11Uri;
  readonly #settings: Pkcs11Settings;

  /** `tokenUri` names the token (`pkcs11:token=L`, optionally module-path/pin-source), not a key. */
  constructor(tokenUri: string, settings: Pkcs11Settings) {
    const base = parsePkcs11Uri(tokenUri);
    if (base.object !== undefined || base.id !== undefined)
      throw new SignetError('PKCS11_URI', `${tokenUri} names a key object; the signer service needs a token`, {
        fix: "name the token only, e.g. --pkcs11 'pkcs11:token=<label>': the service labels each key it makes with its key ID",
      });
    this.#base = base;
    this.#settings = settings;
  }

  toJSON(): string {
    return '[TokenServerKeys]';
  }

  /** Opens a logged-in session (module, token, PIN): the start-up check. Resolves to the token label. */
  check(): Promise<string> {
    return withSession(this.#base, this.#settings, (s) => s.tokenLabel);
  }

  /** A new pair on the token, labelled with its key ID; the URI naming it (no module, no PIN). */
  generate(): Promise<{ publicKey: PublicKey; uri: string }> {
    return withSession(this.#base, this.#settings, (s) => {
      // the key ID is known only once the pair exists: generated under a temporary label, then renamed
      const temp = `signet-new-${crypto.randomBytes(8).toString('hex')}`;
      const made = generateTokenKey(s, { ...this.#base, object: temp });
      const keyId = made.publicKey.id;
      const id = Buffer.from(keyId, 'hex');
      try {
        for (const h of pairObjects(s, temp)) {
          s.p11.C_SetAttributeValue(s.handle, h, [
            { type: s.c.CKA_LABEL!, value: keyId },
            { type: s.c.CKA_ID!, value: id },
          ]);
        }
      } catch (err) {
        for (const h of pairObjects(s, temp)) s.p11.C_DestroyObject(s.handle, h);
        throw err;
      }
      return { publicKey: made.publicKey, uri: formatPkcs11Uri({ token: s.tokenLabel, object: keyId, id }) };
    });
  }

  /** The stored key URI, with the service's module-path/pin-source (never stored with the key). */
  #keyUri(uriText: string): Pkcs11Uri & { object: string; id: Buffer } {
    const u = parsePkcs11Uri(uriText);
    if (u.object === undefined || !KEY_ID_RE.test(u.object) || u.id === undefined)
      throw new SignetError('KEY_FILE', `${uriText} does not name a signer service key (object=<key ID>;id=…)`);
    const out: Pkcs11Uri & { object: string; id: Buffer } = { ...u, object: u.object, id: u.id };
    if (this.#base.modulePath !== undefined) out.modulePath = this.#base.modulePath;
    if (this.#base.pinSource !== undefined) out.pinSource = this.#base.pinSource;
    return out;
  }

  /** CKM_ECDSA over SHA-256(data) with the key `uriText` names, which must be key `keyId`: raw r‖s. */
  sign(uriText: string, keyId: string, data: Buffer): Promise<Buffer> {
    const uri = this.#keyUri(uriText);
    return withSession(uri, this.#settings, (s) => {
      const k = findTokenKey(s, uri);
      if (k.publicKey.id !== keyId)
        throw new SignetError('KEY_NOT_FOUND', `token ${s.tokenLabel} holds key ${k.publicKey.id} under ${keyId}`);
      return signOnToken(s, k.handle, data);
    });
  }

  /** Destroys the pair `uriText` names; resolves to the number of objects destroyed (0 = already gone). */
  destroy(uriText: string): Promise<number> {
    const uri = this.#keyUri(uriText);
    return withSession(uri, this.#settings, (s) => {
      const objects = pairObjects(s, uri.object, uri.id);
      for (const h of objects) s.p11.C_DestroyObject(s.handle, h);
      return objects.length;
    });
  }
}
