/**
 * gzip for metadata GETs. Go's HTTP client (notary, Docker) sends `Accept-Encoding: gzip` and
 * decompresses transparently (net/http Transport.DisableCompression false), while notary-server
 * itself never compresses. A stored version never changes, so its gzip form is made once, on the
 * first request that asks for it, and kept beside the bytes for as long as the cached file lives.
 */
import { constants, gzipSync } from 'node:zlib';
import type { CachedFile } from './current.js';

/** Files this small gain nothing worth a header: the compressed form is not smaller enough. */
const MIN_BYTES = 1024;

// cached file → its gzip form, or null when compressing does not pay (computed once per file object)
const gzipped = new WeakMap<CachedFile, Buffer | null>();

/**
 * Does an Accept-Encoding header accept gzip? RFC 9110 §12.5.3: a coding is acceptable unless its
 * q is 0; `*` stands for any coding not named.
 */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  const text = Array.isArray(header) ? header.join(',') : header;
  if (text === 'gzip') return true; // what Go sends
  let star: boolean | undefined;
  for (const part of text.split(',')) {
    const [name = '', ...params] = part.split(';');
    const coding = name.trim().toLowerCase();
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split('=');
      if (k?.trim().toLowerCase() === 'q') q = Number(v?.trim());
    }
    const ok = Number.isFinite(q) && q > 0;
    if (coding === 'gzip' || coding === 'x-gzip') return ok;
    if (coding === '*') star = ok;
  }
  return star === true;
}

/** The gzip form of a cached file, or null when it is too small to be worth compressing. */
export function gzipOf(file: CachedFile): Buffer | null {
  let z = gzipped.get(file);
  if (z === undefined) {
    z = null;
    if (file.bytes.length >= MIN_BYTES) {
      const c = gzipSync(file.bytes, { level: constants.Z_BEST_COMPRESSION });
      if (c.length < file.bytes.length * 0.9) z = c;
    }
    gzipped.set(file, z);
  }
  return z;
}

/** The body to send and the headers that go with it, for a request's Accept-Encoding. */
export function encodedBody(
  file: CachedFile,
  acceptEncoding: string | string[] | undefined,
): { body: Buffer; headers: Record<string, string> } {
  const z = acceptsGzip(acceptEncoding) ? gzipOf(file) : null;
  // Vary on every metadata reply, compressed or not, so no shared cache hands one client the other's form
  return z === null
    ? { body: file.bytes, headers: { vary: 'Accept-Encoding' } }
    : { body: z, headers: { vary: 'Accept-Encoding', 'content-encoding': 'gzip' } };
}
