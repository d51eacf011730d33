/** Messages about cached trust data used while the trust server is unreachable (docs/verify.md). */
import { SignetError } from '../errors.js';

/** 90 s → "1m30s", 0 → "0s": a short human age for messages. */
export function formatAge(ms: number): string {
  let s = Math.max(0, Math.floor(ms / 1000));
  const parts: string[] = [];
  for (const [unit, n] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (s >= n) {
      parts.push(`${Math.floor(s / n)}${unit}`);
      s %= n;
    }
  }
  if (s > 0 || parts.length === 0) parts.push(`${s}s`);
  return parts.slice(0, 2).join('');
}

/** TRUST_STALE: the server is unreachable and the cache is older than the allowance. */
export function staleError(gun: string, cause: SignetError, ageMs: number, maxStaleMs: number): SignetError {
  return new SignetError(
    'TRUST_STALE',
    `the trust server for ${gun} cannot be reached (${cause.message}) and the cached trust data was last confirmed ${formatAge(ageMs)} ago, more than the ${formatAge(maxStaleMs)} allowed`,
    {
      cause,
      fix: "restore access to the trust server, or accept older trust data with --max-stale DURATION (or the policy rule's maxStale), or verify with --offline",
      details: { gun, ageSeconds: Math.floor(ageMs / 1000), maxStaleSeconds: Math.floor(maxStaleMs / 1000) },
    },
  );
}

/** notary warns when root, targets or snapshot expire within six months (N:client/tufclient.go). */
export function expiryWarnings(
  gun: string,
  now: Date,
  mds: ReadonlyArray<{ role: string; signed: { expires: string } } | undefined>,
): string[] {
  const soon = now.getTime() + 182 * 24 * 3600 * 1000;
  const out: string[] = [];
  for (const md of mds) {
    if (md === undefined) continue;
    const exp = Date.parse(md.signed.expires);
    if (Number.isFinite(exp) && exp < soon) {
      out.push(`WARNING: ${md.role} of ${gun} expires at ${md.signed.expires}; its owner should re-sign it soon`);
    }
  }
  return out;
}
