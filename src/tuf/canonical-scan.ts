/**
 * Recognising canonical JSON in place. A metadata file as notary writes it is
 * `{"signed":` + canonical(signed) + `,"signatures":[…]}` (metadata.ts), so for such a file the bytes
 * signatures cover are a slice of the file: re-encoding the parsed `signed` would give the same
 * bytes. `canonicalSignedRange` checks that with one linear pass and no allocation per value, and
 * answers undefined whenever it cannot be sure (whitespace, an escape other than `\"` and `\\`, a key
 * with an escape, keys out of byte order or repeated, a number that is not a plain safe integer, -0,
 * nesting deeper than the encoder allows, invalid UTF-8, another top-level `signed` key): the caller
 * then re-encodes the parsed value as before. Either way the bytes are those of canonical-json.ts's
 * encoder, so every verdict over them stays the same.
 */
import { isUtf8 } from 'node:buffer';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
/** canonical-json.ts refuses values nested deeper than this */
const MAX_DEPTH = 100;
/** at most 15 digits is always a safe integer; longer ones are left to the encoder */
const MAX_DIGITS = 15;
const PREFIX = Buffer.from('{"signed":', 'latin1');

const isSpace = (c: number | undefined): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

class NotCanonical extends Error {}
const NOT = new NotCanonical();

/** Canonical-form scanner over `b` from `pos`; each method returns the position after what it read. */
class Scanner {
  constructor(readonly b: Uint8Array) {}

  /** A string with no escape but `\"` and `\\` and no control byte; `key`: no escape at all. */
  string(pos: number, key: boolean): number {
    const b = this.b;
    if (b[pos] !== QUOTE) throw NOT;
    let i = pos + 1;
    for (;;) {
      const c = b[i];
      if (c === undefined || c < 0x20) throw NOT;
      if (c === QUOTE) return i + 1;
      if (c === BACKSLASH) {
        const n = b[i + 1];
        if (key || (n !== QUOTE && n !== BACKSLASH)) throw NOT;
        i += 2;
      } else i++;
    }
  }

  number(pos: number): number {
    const b = this.b;
    let i = pos;
    if (b[i] === MINUS) i++;
    const first = i;
    const d0 = b[i];
    if (d0 === undefined || d0 < ZERO || d0 > NINE) throw NOT;
    i++;
    if (d0 === ZERO) {
      if (i - pos === 2) throw NOT; // -0 is encoded as 0
    } else {
      while (i < b.length && (b[i] as number) >= ZERO && (b[i] as number) <= NINE) i++;
    }
    if (i - first > MAX_DIGITS) throw NOT;
    return i; // a following `.`, `e` or `E` is not a separator: the caller's next check fails
  }

  literal(pos: number, word: string): number {
    for (let k = 0; k < word.length; k++) if (this.b[pos + k] !== word.charCodeAt(k)) throw NOT;
    return pos + word.length;
  }

  value(pos: number, depth: number): number {
    if (depth > MAX_DEPTH) throw NOT;
    const c = this.b[pos];
    if (c === QUOTE) return this.string(pos, false);
    if (c === LBRACE) return this.object(pos, depth);
    if (c === LBRACKET) return this.array(pos, depth);
    if (c === 0x74) return this.literal(pos, 'true');
    if (c === 0x66) return this.literal(pos, 'false');
    if (c === 0x6e) return this.literal(pos, 'null');
    return this.number(pos);
  }

  array(pos: number, depth: number): number {
    const b = this.b;
    let i = pos + 1;
    if (b[i] === RBRACKET) return i + 1;
    for (;;) {
      i = this.value(i, depth + 1);
      if (b[i] === RBRACKET) return i + 1;
      if (b[i] !== COMMA) throw NOT;
      i++;
    }
  }

  object(pos: number, depth: number): number {
    const b = this.b;
    let i = pos + 1;
    if (b[i] === RBRACE) return i + 1;
    let prevStart = -1;
    let prevEnd = -1;
    for (;;) {
      const keyEnd = this.string(i, true);
      // keys strictly increasing in byte order (the UTF-8 of the key: it has no escape)
      if (prevStart >= 0 && compareBytes(b, prevStart + 1, prevEnd - 1, i + 1, keyEnd - 1) >= 0) throw NOT;
      prevStart = i;
      prevEnd = keyEnd;
      if (b[keyEnd] !== COLON) throw NOT;
      i = this.value(keyEnd + 1, depth + 1);
      if (b[i] === RBRACE) return i + 1;
      if (b[i] !== COMMA) throw NOT;
      i++;
    }
  }
}

function compareBytes(b: Uint8Array, a0: number, a1: number, c0: number, c1: number): number {
  const n = Math.min(a1 - a0, c1 - c0);
  for (let k = 0; k < n; k++) {
    const d = (b[a0 + k] as number) - (b[c0 + k] as number);
    if (d !== 0) return d;
  }
  return a1 - a0 - (c1 - c0);
}

/** The position after the string whose opening quote is at `pos` (any escapes); -1 when unterminated. */
function skipString(b: Uint8Array, pos: number): number {
  let i = pos + 1;
  while (i < b.length && b[i] !== QUOTE) i += b[i] === BACKSLASH ? 2 : 1;
  return i < b.length ? i + 1 : -1;
}

/**
 * The position after one JSON value of an already parsed document (any escapes, no canonical
 * requirement); -1 when the text ends first. Used only for the few bytes after `signed`.
 */
function skipValue(b: Uint8Array, pos: number): number {
  const c = b[pos];
  if (c === QUOTE) return skipString(b, pos);
  if (c !== LBRACE && c !== LBRACKET) {
    let i = pos;
    while (i < b.length && b[i] !== COMMA && b[i] !== RBRACE && b[i] !== RBRACKET && !isSpace(b[i])) i++;
    return i;
  }
  let depth = 0;
  let i = pos;
  while (i < b.length) {
    const d = b[i];
    if (d === QUOTE) {
      i = skipString(b, i);
      if (i < 0) return -1;
      continue;
    }
    if (d === LBRACE || d === LBRACKET) depth++;
    else if (d === RBRACE || d === RBRACKET) {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  return -1;
}

/** True when no member after the first one of the top-level object is named `signed` (JSON.parse keeps the last). */
function noLaterSigned(b: Uint8Array, pos: number): boolean {
  let i = pos;
  for (;;) {
    while (isSpace(b[i])) i++;
    if (b[i] === RBRACE) return true;
    if (b[i] !== COMMA) return false;
    i++;
    while (isSpace(b[i])) i++;
    if (b[i] !== QUOTE) return false;
    const keyEnd = skipString(b, i);
    if (keyEnd < 0) return false;
    let key: unknown;
    try {
      key = JSON.parse(Buffer.from(b.subarray(i, keyEnd)).toString('utf8'));
    } catch {
      return false;
    }
    if (key === 'signed') return false;
    i = keyEnd;
    while (isSpace(b[i])) i++;
    if (b[i] !== COLON) return false;
    i++;
    while (isSpace(b[i])) i++;
    i = skipValue(b, i);
    if (i < 0) return false;
  }
}

/**
 * The byte range of the top-level `signed` value when `bytes` (a document JSON.parse accepted) begins
 * `{"signed":` and that value is exactly its canonical encoding; otherwise undefined.
 */
export function canonicalSignedRange(bytes: Uint8Array): { start: number; end: number } | undefined {
  if (bytes.length < PREFIX.length || PREFIX.compare(bytes, 0, PREFIX.length) !== 0) return undefined;
  const start = PREFIX.length;
  let end: number;
  try {
    end = new Scanner(bytes).value(start, 0);
  } catch (e) {
    if (e instanceof NotCanonical) return undefined;
    throw e;
  }
  if (!isUtf8(bytes.subarray(start, end))) return undefined;
  if (!noLaterSigned(bytes, end)) return undefined;
  return { start, end };
}

/**
 * `signed.version` of a file in notary's canonical form, read without parsing the file (the last
 * member of a canonical body is `version` unless a key sorts after it); undefined otherwise. For a
 * rollback floor only: nothing else of the file is checked.
 */
export function canonicalSignedVersion(bytes: Uint8Array): number | undefined {
  const range = canonicalSignedRange(bytes);
  if (range === undefined) return undefined;
  const end = Buffer.from(
    bytes.buffer,
    bytes.byteOffset + Math.max(range.start, range.end - 40),
    Math.min(40, range.end - range.start),
  );
  const m = /[{,]"version":(\d+)\}$/.exec(end.toString('latin1'));
  return m === null ? undefined : Number(m[1]);
}

/** Position of the value of member `name` of the canonical object at `pos`; undefined when absent or not canonical. */
export function canonicalMemberStart(b: Uint8Array, pos: number, name: string): number | undefined {
  const want = Buffer.from(name, 'utf8');
  const sc = new Scanner(b);
  try {
    if (b[pos] !== LBRACE) return undefined;
    let i = pos + 1;
    if (b[i] === RBRACE) return undefined;
    for (;;) {
      const keyEnd = sc.string(i, true);
      const cmp = compareTo(b, i + 1, keyEnd - 1, want);
      if (b[keyEnd] !== COLON || cmp > 0) return undefined; // keys are sorted: it is not there
      if (cmp === 0) return keyEnd + 1;
      i = sc.value(keyEnd + 1, 1);
      if (b[i] !== COMMA) return undefined;
      i++;
    }
  } catch (e) {
    if (e instanceof NotCanonical) return undefined;
    throw e;
  }
}

function compareTo(b: Uint8Array, a0: number, a1: number, want: Uint8Array): number {
  const n = Math.min(a1 - a0, want.length);
  for (let k = 0; k < n; k++) {
    const d = (b[a0 + k] as number) - (want[k] as number);
    if (d !== 0) return d;
  }
  return a1 - a0 - want.length;
}

/** One member change of a canonical object: `member` is the canonical `"key":value`, undefined to remove it. */
export interface MemberChange {
  /** the key's UTF-8 bytes */
  key: Buffer;
  member: Buffer | undefined;
}

/**
 * The canonical object at `pos` of `b` (nested at `depth`) with `changes` (sorted by key bytes, one
 * per key) made: unchanged members are slices of `b`, in runs. Returns the pieces of the new object
 * and its member count, or undefined when the object is not canonical or a key has an escape.
 */
export function spliceCanonicalObject(
  b: Buffer,
  pos: number,
  depth: number,
  changes: readonly MemberChange[],
): { parts: Buffer[]; members: number } | undefined {
  const segments: Buffer[] = [];
  let members = 0;
  let runStart = -1;
  let runEnd = -1;
  const flush = (): void => {
    if (runStart >= 0) segments.push(b.subarray(runStart, runEnd));
    runStart = -1;
  };
  let ci = 0;
  const emit = (c: MemberChange): void => {
    if (c.member === undefined) return;
    flush();
    segments.push(c.member);
    members++;
  };
  const sc = new Scanner(b);
  try {
    if (b[pos] !== LBRACE || depth + 1 > MAX_DEPTH) return undefined;
    let i = pos + 1;
    let more = b[i] !== RBRACE;
    if (!more) i++;
    while (more) {
      const keyEnd = sc.string(i, true);
      if (b[keyEnd] !== COLON) return undefined;
      const end = sc.value(keyEnd + 1, depth + 1);
      let cmp = -1;
      while (ci < changes.length && (cmp = compareTo(b, i + 1, keyEnd - 1, (changes[ci] as MemberChange).key)) > 0) {
        emit(changes[ci++] as MemberChange);
      }
      if (ci < changes.length && cmp === 0) emit(changes[ci++] as MemberChange);
      else {
        if (runStart < 0 || runEnd !== i - 1) {
          flush();
          runStart = i;
        }
        runEnd = end;
        members++;
      }
      if (b[end] === COMMA) i = end + 1;
      else if (b[end] === RBRACE) {
        i = end + 1;
        more = false;
      } else return undefined;
    }
    while (ci < changes.length) emit(changes[ci++] as MemberChange);
    flush();
  } catch (e) {
    if (e instanceof NotCanonical) return undefined;
    throw e;
  }
  const parts: Buffer[] = [Buffer.from('{')];
  segments.forEach((s, k) => {
    if (k > 0) parts.push(Buffer.from(','));
    parts.push(s);
  });
  parts.push(Buffer.from('}'));
  return { parts, members };
}
