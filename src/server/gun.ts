/**
 * Request-path normalisation and GUN checks. notary's gorilla/mux answers `//` and `/./` with a
 * 301 that turns a POST into a GET (reference §1.1, pitfall 11); we clean the path ourselves.
 * notary accepts any GUN without `*` (§1.2); we also refuse names that could only be mistakes or
 * attacks (path traversal, control characters, backslashes), with 400 INVALID_GUN.
 */
export const MAX_GUN_LENGTH = 255; // notary's varchar(255)

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

/** Why a GUN is refused, or null when it is acceptable. */
export function gunProblem(gun: string): string | null {
  if (gun.length === 0) return 'empty GUN';
  if (gun.length > MAX_GUN_LENGTH) return `GUN longer than ${MAX_GUN_LENGTH} characters`;
  if (gun.includes('*')) return 'GUN contains "*"';
  if (gun.includes('\\')) return 'GUN contains a backslash';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\s]/.test(gun)) return 'GUN contains a control or whitespace character';
  for (const seg of gun.split('/')) {
    if (seg === '.' || seg === '..') return 'GUN contains a "." or ".." path segment';
    if (seg === '') return 'GUN contains an empty path segment';
  }
  return null;
}
