/**
 * The one GUN check. A GUN (globally unique name, e.g. `docker.io/library/alpine`) is used as a relative
 * path: `<trustDir>/tuf/<gun>/…` on the client, and a key and URL path segment on the server. notary
 * accepts any GUN without `*` (N:server/server.go); we also refuse names that could only be mistakes or
 * attacks. A `Gun` is a string that passed this check: `parseGun` is the only way to make one, so a
 * function that takes a `Gun` need not check it again. Pure: no fs.
 */
import { SignetError } from '../errors.js';

export const MAX_GUN_LENGTH = 255; // notary's varchar(255)

declare const gunBrand: unique symbol;
/** A repository name that `parseGun` accepted. */
export type Gun = string & { readonly [gunBrand]: true };

export interface ParseGunOptions {
  /** the GUN arrived in a URL path (the server): whitespace is refused too */
  url?: boolean;
}

/**
 * `text` as a Gun. Throws INVALID_GUN (`details.reason` says why) unless it is safe to use as a
 * relative path: not empty, at most 255 characters, no `*`, backslash or control character (NUL
 * included), no leading `/`, no empty, `.` or `..` segment; with `url`, no whitespace either.
 */
export function parseGun(text: string, opts: ParseGunOptions = {}): Gun {
  const reason = refusal(text, opts);
  if (reason === undefined) return text as Gun;
  throw new SignetError('INVALID_GUN', `${JSON.stringify(text)} is not a valid repository name: ${reason}`, {
    fix: 'use a repository name such as docker.io/library/alpine or registry.example.com/team/app',
    details: { reason },
  });
}

function refusal(gun: string, opts: ParseGunOptions): string | undefined {
  if (gun.length === 0) return 'empty GUN';
  if (gun.length > MAX_GUN_LENGTH) return `GUN longer than ${MAX_GUN_LENGTH} characters`;
  if (gun.includes('*')) return 'GUN contains "*"';
  if (gun.includes('\\')) return 'GUN contains a backslash';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(gun)) return 'GUN contains a control character';
  if (gun.startsWith('/')) return 'GUN starts with "/" (an absolute path)';
  for (const seg of gun.split('/')) {
    if (seg === '.' || seg === '..') return 'GUN contains a "." or ".." path segment';
    if (seg === '') return 'GUN contains an empty path segment';
  }
  if (opts.url === true && /\s/.test(gun)) return 'GUN contains a control or whitespace character';
  return undefined;
}
