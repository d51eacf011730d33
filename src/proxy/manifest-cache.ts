/**
 * Verified manifest bytes by repository and digest, for a short time. Content at a digest never
 * changes, but access to it can: an entry serves only requests the upstream would also answer —
 * anyone when the upstream served it without credentials, else only the same Authorization value
 * (kept as its SHA-256, never in clear). Entries expire after `ttlMs`, so a repository made private or
 * a manifest deleted upstream stops being served from here within that time.
 */
import { createHash } from 'node:crypto';

export interface CachedManifest {
  bytes: Buffer;
  contentType: string;
}

interface Entry extends CachedManifest {
  expires: number;
}

const ANONYMOUS = '-';

export class ManifestCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get(
    name: string,
    digest: string,
    authorization: string | undefined,
    accept: string | undefined,
  ): CachedManifest | undefined {
    if (this.ttlMs <= 0) return undefined;
    const now = Date.now();
    for (const who of authorization === undefined ? [ANONYMOUS] : [ANONYMOUS, secretKey(authorization)]) {
      const key = `${name}@${digest}|${who}`;
      const e = this.entries.get(key);
      if (e === undefined) continue;
      if (e.expires <= now) {
        this.entries.delete(key);
        continue;
      }
      return accepts(accept, e.contentType) ? e : undefined;
    }
    return undefined;
  }

  put(name: string, digest: string, authorization: string | undefined, m: CachedManifest): void {
    if (this.ttlMs <= 0) return;
    const who = authorization === undefined ? ANONYMOUS : secretKey(authorization);
    const key = `${name}@${digest}|${who}`;
    this.entries.delete(key);
    this.entries.set(key, { ...m, expires: Date.now() + this.ttlMs });
    // Map order is insertion order: the first key is the oldest entry
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }
}

function secretKey(authorization: string): string {
  return createHash('sha256').update(authorization).digest('base64');
}

/** Would a registry answer this Accept header with this media type? (no header, or any type → yes) */
function accepts(accept: string | undefined, contentType: string): boolean {
  if (accept === undefined || accept === '') return true;
  const type = contentType.split(';')[0]!.trim();
  return accept.split(',').some((a) => {
    const t = a.split(';')[0]!.trim();
    return t === type || t === '*/*';
  });
}
