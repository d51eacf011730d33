/**
 * Request-path normalisation and GUN checks. notary's gorilla/mux answers `//` and `/./` with a
 * 301 that turns a POST into a GET (N:server/server.go); we clean the path ourselves.
 * notary accepts any GUN without `*` (N:server/server.go); we also refuse names that could only be mistakes or
 * attacks (path traversal, control characters, backslashes), with 400 INVALID_GUN.
 */
import { isSignetError } from '../errors.js';
import { checkGun } from '../tuf/index.js';

/** Collapses runs of `/` and drops a trailing `/` (but keeps "/"). Returns null if undecodable. */
export function normalisePath(rawPath: string): string | null {
  let p = rawPath;
  if (p.includes('%')) {
    try {
      p = decodeURIComponent(p);
    } catch {
      return null;
    }
  }
  if (p.includes('//')) p = p.replace(/\/{2,}/g, '/');
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

/**
 * Why a GUN is refused (400 INVALID_GUN), or null when it is acceptable: tuf's `checkGun`, plus, on the
 * server only, no whitespace (a GUN arrives in the URL path).
 */
export function gunProblem(gun: string): string | null {
  try {
    checkGun(gun);
  } catch (err) {
    if (!isSignetError(err, 'INVALID_GUN')) throw err;
    return String(err.details?.['reason'] ?? err.message);
  }
  if (/\s/.test(gun)) return 'GUN contains a control or whitespace character';
  return null;
}
