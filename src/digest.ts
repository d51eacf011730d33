/**
 * The one sha256 hex digest, and the one conversion between TUF's base64 hashes and the hex of
 * OCI digests (`sha256:<hex>`). Pure; every folder may import it, like errors.ts.
 */
import { createHash } from 'node:crypto';

/** Lower-case hex sha256 of the bytes (a string is hashed as its UTF-8 bytes). */
export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** `sha256:<hex>` of the bytes, the form registries and Docker name content by. */
export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${sha256Hex(bytes)}`;
}

/** A TUF hash (base64, as in `hashes.sha256`) as lower-case hex. */
export function base64ToHex(b64: string): string {
  return Buffer.from(b64, 'base64').toString('hex');
}

/** Hex (as in an OCI digest) as the base64 TUF lists in `hashes`. */
export function hexToBase64(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}
