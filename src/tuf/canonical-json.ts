/**
 * Canonical JSON exactly as notary signs it: docker/go `canonical/json` (G:canonical/json/encode.go), which is
 * NOT RFC 8785 and NOT OLPC.
 *  - no whitespace; object keys sorted bytewise on their UTF-8 encoding (Go string `<`)
 *  - strings escape only `"` and `\`; everything else is written raw (non-ASCII, `<>&`, U+2028)
 *  - integers only (Go decodes numbers to float64 and prints integral floats as int64)
 * Control bytes < 0x20 would make the output invalid JSON (Go then fails to build the envelope),
 * so we refuse them rather than produce bytes notary cannot read.
 */
import { SignetError } from '../errors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Bytewise UTF-8 order. For strings without surrogates this equals code-unit order; fall back otherwise. */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function encodeString(s: string, out: string[]): void {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(s)) {
    throw new SignetError('CANONICAL_JSON', `string ${JSON.stringify(s.slice(0, 40))} contains a control character`, {
      fix: 'remove control characters (newlines, tabs…) from metadata strings; notary cannot sign them',
    });
  }
  out.push(
    '"',
    s.replace(/[\\"]/g, (c) => '\\' + c),
    '"',
  );
}

function encodeNumber(n: number): string {
  if (!Number.isFinite(n) || !Number.isInteger(n)) {
    throw new SignetError('CANONICAL_JSON', `number ${n} is not an integer; canonical JSON allows integers only`);
  }
  if (!Number.isSafeInteger(n)) {
    throw new SignetError('CANONICAL_JSON', `number ${n} is outside the exactly-representable integer range`);
  }
  // -0 prints as 0, like Go's int64 conversion
  return n === 0 ? '0' : String(n);
}

function encodeValue(v: JsonValue, out: string[], depth: number): void {
  if (depth > 100) throw new SignetError('CANONICAL_JSON', 'JSON nesting deeper than 100 levels');
  if (v === null) {
    out.push('null');
  } else if (typeof v === 'boolean') {
    out.push(v ? 'true' : 'false');
  } else if (typeof v === 'number') {
    out.push(encodeNumber(v));
  } else if (typeof v === 'string') {
    encodeString(v, out);
  } else if (Array.isArray(v)) {
    out.push('[');
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out.push(',');
      encodeValue(v[i] as JsonValue, out, depth + 1);
    }
    out.push(']');
  } else if (typeof v === 'object') {
    const keys = Object.keys(v).sort(compareUtf8);
    out.push('{');
    let first = true;
    for (const k of keys) {
      const item = v[k];
      if (item === undefined) continue; // absent, as Go omits nothing it never had
      if (!first) out.push(',');
      first = false;
      encodeString(k, out);
      out.push(':');
      encodeValue(item, out, depth + 1);
    }
    out.push('}');
  } else {
    throw new SignetError('CANONICAL_JSON', `value of type ${typeof v} cannot be encoded as JSON`);
  }
}

/** The canonical encoding as a string (what signatures and key IDs are computed over). */
export function canonicalString(value: JsonValue): string {
  const out: string[] = [];
  encodeValue(value, out, 0);
  return out.join('');
}

/** The canonical encoding as UTF-8 bytes. */
export function canonicalJson(value: JsonValue): Buffer {
  return Buffer.from(canonicalString(value), 'utf8');
}

/**
 * Go's json.Marshal HTML-escapes raw JSON embedded through a Marshaler (N:tuf/data/types.go):
 * `<` `>` `&` become \u003c \u003e \u0026 and U+2028/U+2029 become \u2028/\u2029.
 * Only valid inside already-encoded JSON (the characters can only occur inside strings).
 */
export function htmlEscapeJson(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** Parse bytes as JSON, with an error that names the document. */
export function parseJsonBytes(bytes: Uint8Array, what: string): JsonValue {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  } catch (cause) {
    throw new SignetError('MALFORMED_METADATA', `${what} is not UTF-8 text`, { cause });
  }
  try {
    return JSON.parse(text) as JsonValue;
  } catch (cause) {
    throw new SignetError('MALFORMED_METADATA', `${what} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Go decodes every number in notary metadata into an integer field (version, length, threshold) or,
 * when verifying, re-encodes it as an integer: a literal written `2.0`, `1e0` or `1.5` can therefore
 * never be read or verified by notary/Docker, while JSON.parse would take it. Returns the first such
 * literal (scanning outside strings), or undefined when every number is a plain integer.
 */
export function nonIntegerNumberLiteral(text: string): string | undefined {
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
      if (m === null) continue;
      if (m[1] !== undefined || m[2] !== undefined) return m[0];
      i += m[0].length - 1;
    }
  }
  return undefined;
}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
