/**
 * The one GUN check. A GUN (globally unique name, e.g. `docker.io/library/alpine`) is used as a relative
 * path: `<trustDir>/tuf/<gun>/…` on the client, and a key and URL path segment on the server. notary
 * accepts any GUN without `*` (N:server/server.go); we also refuse names that could only be mistakes or
 * attacks. Pure: no fs.
 */
import { SignetError } from '../errors.js';

export const MAX_GUN_LENGTH = 255; // notary's varchar(255)

/** Why `gun` cannot be used, or undefined when it can. */
function gunProblem(gun: string): string | undefined {
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
  return undefined;
}

/**
 * Throws INVALID_GUN (`details.reason` says why) unless `gun` is safe to use as a relative path: not
 * empty, at most 255 characters, no `*`, backslash or control character (NUL included), no leading `/`,
 * no empty, `.` or `..` segment.
 */
export function checkGun(gun: string): void {
  const reason = gunProblem(gun);
  if (reason === undefined) return;
  throw new SignetError('INVALID_GUN', `${JSON.stringify(gun)} is not a valid repository name: ${reason}`, {
    fix: 'use a repository name such as docker.io/library/alpine or registry.example.com/team/app',
    details: { reason },
  });
}
