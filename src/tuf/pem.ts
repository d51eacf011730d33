/**
 * The one PEM reader of the project, with Go encoding/pem's rules (pem.Decode, as notary reads
 * certificates and key files):
 *  - a block starts at a line beginning `-----BEGIN ` and ending `-----` (trailing spaces, tabs and
 *    one CR ignored); text before, between and after blocks is ignored;
 *  - `key: value` lines right after the BEGIN line are headers (both sides trimmed);
 *  - the block ends at the first line beginning `-----END `, which must name the same type and end
 *    with `-----`; the body is padded standard base64, spaces and tabs ignored;
 *  - a block that breaks a rule is skipped (Go's `continue`), and the search goes on after it.
 * Go's own loop searched the rest of the input for an END line once per BEGIN line, which is
 * quadratic (fixed in Go 1.25.2 / 1.24.8, CVE-2025-61723); so did the regular expressions this
 * replaces. Here every line is looked at a bounded number of times: where the next END and the next
 * BEGIN line are is known in advance, and a body that holds another BEGIN line is not base64.
 */

export interface PemBlock {
  type: string;
  /** header lines in file order; a repeated key keeps its last value, as Go's map does */
  headers: Record<string, string>;
  bytes: Buffer;
  /** where the block's text is in the input: from its BEGIN line to just after its END line */
  start: number;
  end: number;
}

/** A BEGIN line that did not yield a block, and why (Go skips these silently); the first 16 are kept. */
export interface PemProblem {
  type: string;
  offset: number;
  problem: string;
}

const BEGIN = '-----BEGIN ';
const END = '-----END ';
const DASHES = '-----';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Problems kept (callers name the first); a hostile text may hold a million of them. */
const MAX_PROBLEMS = 16;

interface Line {
  start: number;
  /** the line without its `\n`, one trailing `\r`, and trailing spaces and tabs (Go's getLine) */
  text: string;
  /** offset just after the line's `\n` (or the end of the input) */
  next: number;
}

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    const stop = nl < 0 ? text.length : nl;
    let last = stop;
    if (last > start && text.charCodeAt(last - 1) === 13) last--; // one CR
    // trailing spaces and tabs, by hand: /[ \t]+$/ backtracks quadratically on long runs of blanks
    while (last > start && (text.charCodeAt(last - 1) === 32 || text.charCodeAt(last - 1) === 9)) last--;
    lines.push({ start, text: text.slice(start, last), next: nl < 0 ? text.length : nl + 1 });
    start = stop + 1;
  }
  return lines;
}

/** For each line index, the index of the first line at or after it that satisfies `is` (or lines.length). */
function nextIndex(lines: readonly Line[], is: (l: string) => boolean): Int32Array {
  const out = new Int32Array(lines.length + 1);
  out[lines.length] = lines.length;
  for (let i = lines.length - 1; i >= 0; i--) out[i] = is((lines[i] as Line).text) ? i : (out[i + 1] as number);
  return out;
}

function setHeader(headers: Record<string, string>, key: string, value: string): void {
  // a `__proto__` header is a header, not the object's prototype
  if (key === '__proto__') Object.defineProperty(headers, key, { value, enumerable: true, writable: true });
  else headers[key] = value;
}

/** Every block of `text` and every BEGIN line that did not make one. Linear in the input. */
export function scanPem(text: string): { blocks: PemBlock[]; problems: PemProblem[] } {
  const lines = splitLines(text);
  const nextBegin = nextIndex(lines, (l) => l.startsWith(BEGIN));
  const nextEnd = nextIndex(lines, (l) => l.startsWith(END));
  const blocks: PemBlock[] = [];
  const problems: PemProblem[] = [];
  let i = nextBegin[0] as number;
  while (i < lines.length) {
    const begin = lines[i] as Line;
    const skip = (type: string, problem: string, resume: number): void => {
      if (problems.length < MAX_PROBLEMS) problems.push({ type, offset: begin.start, problem });
      i = nextBegin[Math.max(resume, i + 1)] as number;
    };
    if (!begin.text.endsWith(DASHES) || begin.text.length < BEGIN.length + DASHES.length) {
      skip(begin.text.slice(BEGIN.length), 'its BEGIN line does not end with -----', i + 1);
      continue;
    }
    const type = begin.text.slice(BEGIN.length, begin.text.length - DASHES.length);
    const headers: Record<string, string> = {};
    let j = i + 1;
    for (; j < lines.length; j++) {
      const h = (lines[j] as Line).text;
      const colon = h.indexOf(':');
      if (colon < 0) break;
      setHeader(headers, h.slice(0, colon).trim(), h.slice(colon + 1).trim());
    }
    const end = nextEnd[j] as number;
    if (j > i + 1 && end === j) {
      // after headers Go looks for "\n-----END ": an END line right after them is body, and not base64
      skip(type, 'its headers are not followed by a blank line and a body', j);
      continue;
    }
    if (end >= lines.length) {
      skip(type, 'it has no END line', j);
      continue;
    }
    if ((nextBegin[j] as number) < end) {
      // the body would hold another BEGIN line, which is not base64: that BEGIN line is the next try
      skip(type, 'another BEGIN line comes before its END line', j);
      continue;
    }
    const endLine = lines[end] as Line;
    if (endLine.text !== `${END}${type}${DASHES}`) {
      skip(type, `it ends with a mismatched END line ${JSON.stringify(endLine.text.slice(0, 80))}`, j);
      continue;
    }
    let b64 = '';
    for (let k = j; k < end; k++) b64 += (lines[k] as Line).text.replace(/[ \t\r]/g, '');
    if (b64.length % 4 !== 0 || !BASE64.test(b64)) {
      skip(type, 'its body is not padded standard base64', end + 1);
      continue;
    }
    blocks.push({ type, headers, bytes: Buffer.from(b64, 'base64'), start: begin.start, end: endLine.next });
    i = nextBegin[end + 1] as number;
  }
  return { blocks, problems };
}

/** The blocks of `text`, skipping malformed ones as Go's pem.Decode loop does. */
export function pemBlocks(text: string): PemBlock[] {
  return scanPem(text).blocks;
}

/**
 * Go `pem.Encode` bytes: BEGIN line, the given header lines (the caller orders them; Go writes
 * Proc-Type first, then the rest sorted) and a blank line when there are any, base64 in 64-column
 * lines each ending `\n`, END line, trailing `\n`.
 */
export function pemEncode(type: string, bytes: Buffer, headers: readonly (readonly [string, string])[] = []): string {
  let out = `${BEGIN}${type}${DASHES}\n`;
  for (const [k, v] of headers) out += `${k}: ${v}\n`;
  if (headers.length > 0) out += '\n';
  const b64 = bytes.toString('base64');
  for (let i = 0; i < b64.length; i += 64) out += b64.slice(i, i + 64) + '\n';
  return `${out}${END}${type}${DASHES}\n`;
}
