/**
 * The values a key file's `role`, `gun` and `path` headers may take when Signet writes or imports
 * one. notary's role names are [-a-z0-9_/] (N:tuf/data/roles.go), docker's key names [a-z0-9_-]
 * (docker/cli cli/command/trust/key_generate.go `validKeyName`), GUNs are image references and a
 * legacy `path` is `tuf_keys/<gun>/<id>_<role>`. Anything else, terminal escapes above all, is
 * refused on import: these values are printed by `key list` and named in passphrase prompts.
 */
import { SignetError } from '../errors.js';
import { parseGun } from '../tuf/index.js';

const ROLE_SEGMENT = /^[A-Za-z0-9_.-]+$/;
const GUN_CHARS = /^[A-Za-z0-9._:@[\]/-]+$/;
const MAX_ROLE_LENGTH = 255;

function refuse(header: string, value: string, allowed: string): never {
  throw new SignetError('KEY_FILE', `invalid key ${header} ${JSON.stringify(value)}: only ${allowed} are allowed`, {
    fix: `edit the "${header}:" header of the PEM (or pass --${header === 'path' ? 'role' : header}) with such a name`,
    details: { header },
  });
}

/** A key's role (or docker signer name): segments of letters, digits, `.`, `_` and `-` joined by `/`. */
export function checkKeyRole(role: string): void {
  const ok =
    role.length > 0 &&
    role.length <= MAX_ROLE_LENGTH &&
    role.split('/').every((seg) => ROLE_SEGMENT.test(seg) && seg !== '.' && seg !== '..');
  if (!ok) refuse('role', role, 'letters, digits, ".", "_" and "-" in "/"-separated parts (at most 255)');
}

/** A key's GUN: a valid GUN (tuf `parseGun`) over the characters of an image reference. */
export function checkKeyGun(gun: string): void {
  if (!GUN_CHARS.test(gun)) refuse('gun', gun, 'letters, digits and . _ - : @ [ ] /');
  parseGun(gun);
}

/** A legacy `path` header (only read to find a GUN and a label). */
export function checkKeyPath(p: string): void {
  if (p.length > 1024 || !GUN_CHARS.test(p)) refuse('path', p, 'letters, digits and . _ - : @ [ ] /');
}
