/**
 * Request-path normalisation. notary's gorilla/mux answers `//` and `/./` with a 301 that turns a
 * POST into a GET (N:server/server.go); we clean the path ourselves. The GUN in the path is checked
 * by tuf `parseGun` (routes.ts), answered with 400 INVALID_GUN.
 */

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
