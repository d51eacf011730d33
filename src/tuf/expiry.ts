/**
 * When trust data stops being valid: the `expires` of a role's metadata and the `notAfter` of the
 * root certificates its root lists. The one reading of expiry dates shared by the server's expiry
 * metrics and alerts (src/server/expiry.ts) and `signet status --expiring` (src/updater/expiry.ts).
 * Pure: bytes in, dates out; the caller supplies `now`.
 */
import { isX509KeyType } from './public-key.js';
import { parseCertificateBundle } from './x509.js';

export type ExpiryKind = 'metadata' | 'certificate';

export interface ExpiryItem {
  /** the role whose metadata expires, or `root` for a root certificate */
  role: string;
  kind: ExpiryKind;
  /** the metadata version the date was read from (for a certificate: the root's version) */
  version: number;
  expires: Date;
  /** certificates: the TUF key ID of the certificate's key in root.json */
  keyId?: string;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;

/**
 * The expiries of one metadata file: its own `expires` and, for root, each root-role certificate's
 * `notAfter` (the earliest in its bundle: a chain is only as valid as its shortest-lived link).
 * Unreadable files and fields yield nothing (they cannot be trusted, so they cannot expire either;
 * the updater refuses them on their own terms).
 */
export function expiriesOf(role: string, bytes: Buffer): ExpiryItem[] {
  let signed: Obj | undefined;
  try {
    signed = obj(obj(JSON.parse(bytes.toString('utf8')))?.signed);
  } catch {
    return [];
  }
  if (signed === undefined) return [];
  const version = typeof signed.version === 'number' ? signed.version : 0;
  const out: ExpiryItem[] = [];
  const t = typeof signed.expires === 'string' ? Date.parse(signed.expires) : NaN;
  if (Number.isFinite(t)) out.push({ role, kind: 'metadata', version, expires: new Date(t) });
  if (role === 'root') out.push(...rootCertificateExpiries(signed, version));
  return out;
}

function rootCertificateExpiries(signed: Obj, version: number): ExpiryItem[] {
  const keys = obj(signed.keys) ?? {};
  const ids = obj(obj(signed.roles)?.root)?.keyids;
  const out: ExpiryItem[] = [];
  for (const keyId of Array.isArray(ids) ? ids : []) {
    if (typeof keyId !== 'string') continue;
    const k = obj(keys[keyId]);
    const pub = obj(k?.keyval)?.public;
    if (typeof k?.keytype !== 'string' || !isX509KeyType(k.keytype) || typeof pub !== 'string') continue;
    try {
      const certs = parseCertificateBundle(Buffer.from(pub, 'base64').toString('utf8'));
      const notAfter = Math.min(...certs.map((c) => c.notAfter.getTime()));
      if (Number.isFinite(notAfter))
        out.push({ role: 'root', kind: 'certificate', version, expires: new Date(notAfter), keyId });
    } catch {
      // not a certificate bundle: root validation refuses the key; nothing here expires
    }
  }
  return out;
}

/** Seconds from `now` until the item expires (negative once expired). */
export function secondsLeft(item: ExpiryItem, now: Date): number {
  return Math.floor((item.expires.getTime() - now.getTime()) / 1000);
}

/** An item as JSON output and alerts show it (the one shape of both). */
export interface ExpiryView {
  gun: string;
  role: string;
  kind: ExpiryKind;
  version: number;
  keyId?: string;
  expires: string;
  secondsLeft: number;
  expired: boolean;
}

export function expiryView(item: ExpiryItem & { gun: string }, now: Date): ExpiryView {
  const left = secondsLeft(item, now);
  return {
    gun: item.gun,
    role: item.role,
    kind: item.kind,
    version: item.version,
    ...(item.keyId !== undefined ? { keyId: item.keyId } : {}),
    expires: item.expires.toISOString(),
    secondsLeft: left,
    expired: left < 0,
  };
}

/** The items that expire within `windowMs` of `now` (or already have), soonest first. */
export function expiringWithin<T extends ExpiryItem>(items: readonly T[], now: Date, windowMs: number): T[] {
  const limit = now.getTime() + windowMs;
  return items.filter((i) => i.expires.getTime() <= limit).sort((a, b) => a.expires.getTime() - b.expires.getTime());
}
