/** Column values as the two backends hand them over, and as notary's schema stores them. */

/** int8 columns arrive as strings from pg and as numbers from better-sqlite3. */
export function toNumber(v: number | string | bigint): number {
  return typeof v === 'number' ? v : Number(v);
}

/**
 * Go's time.RFC3339Nano for a UTC instant: fraction digits without trailing zeros, and no dot at
 * all when the fraction is zero (`2006-01-02T15:04:05.999999999Z07:00`).
 */
export function rfc3339Nano(ms: number): string {
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const base = iso.slice(0, 19);
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return frac === '' ? `${base}Z` : `${base}.${frac}Z`;
}
