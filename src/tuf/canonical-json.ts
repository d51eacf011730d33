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

// one test for the common case: nothing to escape and no control character
// eslint-disable-next-line no-control-regex
const SPECIAL = /[\u0000-\u001f"\\]/;
// code-unit order equals UTF-8 byte order unless a surrogate or U+E000–U+FFFF is involved
const NOT_BYTE_ORDERED = /[\ud800-\uffff]/;

function encodeString(s: string): string {
  if (!SPECIAL.test(s)) return '"' + s + '"';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(s)) {
    throw new SignetError('CANONICAL_JSON', `string ${JSON.stringify(s.slice(0, 40))} contains a control character`, {
      fix: 'remove control characters (newlines, tabs…) from metadata strings; notary cannot sign them',
    });
  }
  return '"' + s.replace(/[\\"]/g, (c) => '\\' + c) + '"';
}

/** Strings in bytewise UTF-8 order, in place: the engine's code-unit sort, unless one needs the byte comparison. */
export function sortUtf8(keys: string[]): string[] {
  return keys.some((k) => NOT_BYTE_ORDERED.test(k)) ? keys.sort(compareUtf8) : keys.sort();
}

/** Keys in bytewise UTF-8 order. */
function sortedKeys(o: object): string[] {
  return sortUtf8(Object.keys(o));
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

function encodeValue(v: JsonValue, depth: number): string {
  if (depth > 100) throw new SignetError('CANONICAL_JSON', 'JSON nesting deeper than 100 levels');
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return encodeNumber(v);
  if (typeof v === 'string') return encodeString(v);
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out += ',';
      out += encodeValue(v[i] as JsonValue, depth + 1);
    }
    return out + ']';
  }
  if (typeof v === 'object') {
    // appending to one string (V8 joins the pieces once, when the result is used)
    let out = '{';
    let first = true;
    for (const k of sortedKeys(v)) {
      const item = v[k];
      if (item === undefined) continue; // absent, as Go omits nothing it never had
      if (!first) out += ',';
      first = false;
      out += encodeString(k) + ':' + encodeValue(item, depth + 1);
    }
    return out + '}';
  }
  throw new SignetError('CANONICAL_JSON', `value of type ${typeof v} cannot be encoded as JSON`);
}

/** The canonical encoding as a string (what signatures and key IDs are computed over). */
export function canonicalString(value: JsonValue): string {
  return encodeValue(value, 0);
}

/** The canonical encoding as UTF-8 bytes. */
export function canonicalJson(value: JsonValue): Buffer {
  return Buffer.from(canonicalString(value), 'utf8');
}

/**
 * The canonical bytes of object `o` (at nesting depth 0) where the members named in `encoded` are
 * given already encoded, as the bytes of their canonical value (in pieces, joined once). The caller
 * vouches for those bytes; every other member is encoded here.
 */
export function canonicalJsonWith(o: JsonObject, encoded: ReadonlyMap<string, readonly Buffer[]>): Buffer {
  const parts: Buffer[] = [];
  let out = '{';
  let first = true;
  for (const k of sortedKeys(o)) {
    const item = o[k];
    if (item === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += encodeString(k) + ':';
    const given = encoded.get(k);
    if (given === undefined) out += encodeValue(item, 1);
    else {
      parts.push(Buffer.from(out, 'utf8'));
      for (const g of given) parts.push(g); // one by one: a spread of 100,000 pieces overflows the stack
      out = '';
    }
  }
  parts.push(Buffer.from(out + '}', 'utf8'));
  return Buffer.concat(parts);
}

/** The canonical bytes of `value` nested at `depth` (the encoder's depth limit counts from the document). */
export function canonicalJsonAt(value: JsonValue, depth: number): Buffer {
  return Buffer.from(encodeValue(value, depth), 'utf8');
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
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      // the common case without a regex: a short run of digits followed by neither `.` nor an exponent
      let j = c === 0x2d ? i + 1 : i;
      const digits = j;
      while (j < text.length && text.charCodeAt(j) >= 0x30 && text.charCodeAt(j) <= 0x39) j++;
      const next = text.charCodeAt(j);
      if (j > digits && j - i < 300 && next !== 0x2e && next !== 0x65 && next !== 0x45) {
        i = j - 1;
        continue;
      }
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
