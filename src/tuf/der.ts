/**
 * Just enough DER to build notary's root certificate and read the fields the root rules check.
 * (@peculiar/x509 needs a global Reflect-metadata polyfill through tsyringe; a pure library must not
 * install globals, so certificates are encoded and read here and parsed/verified by node:crypto.)
 */

// ---------- encoding ----------
export function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, content]);
}

export const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
export const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
export const explicit = (n: number, content: Buffer): Buffer => tlv(0xa0 + n, content);
export const octetString = (b: Buffer): Buffer => tlv(0x04, b);
export const bitString = (b: Buffer, unusedBits = 0): Buffer =>
  tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), b]));
export const boolTrue = (): Buffer => tlv(0x01, Buffer.from([0xff]));
export const derNull = (): Buffer => Buffer.from([0x05, 0x00]);

/** Positive INTEGER from big-endian magnitude bytes, minimally encoded. */
export function uint(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  let b = bytes.subarray(i);
  if (b.length === 0) b = Buffer.from([0]);
  if ((b[0] ?? 0) & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [40 * (parts[0] ?? 0) + (parts[1] ?? 0)];
  for (const p of parts.slice(2)) {
    const sub: number[] = [];
    let v = p;
    do {
      sub.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    for (let k = 0; k < sub.length - 1; k++) sub[k] = (sub[k] ?? 0) | 0x80;
    out.push(...sub);
  }
  return tlv(0x06, Buffer.from(out));
}

/** Go encoding/asn1: UTCTime for 1950–2049, GeneralizedTime otherwise; seconds precision, 'Z'. */
export function time(d: Date): Buffer {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const y = d.getUTCFullYear();
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(0x17, Buffer.from(`${p(y % 100)}${rest}`, 'ascii'));
  return tlv(0x18, Buffer.from(`${p(y, 4)}${rest}`, 'ascii'));
}

// ---------- reading ----------
export interface Node {
  tag: number;
  /** offset of the content */
  start: number;
  /** end of the content (exclusive) */
  end: number;
}

export function readNode(buf: Buffer, off: number): Node {
  const tag = buf[off];
  let len = buf[off + 1];
  if (tag === undefined || len === undefined) throw new Error('truncated DER');
  let start = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('unsupported DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[start + i] ?? 0);
    start += n;
  }
  if (start + len > buf.length) throw new Error('truncated DER');
  return { tag, start, end: start + len };
}

export function children(buf: Buffer, node: Node): Node[] {
  const out: Node[] = [];
  for (let off = node.start; off < node.end;) {
    const c = readNode(buf, off);
    out.push(c);
    off = c.end;
  }
  return out;
}

export function content(buf: Buffer, node: Node): Buffer {
  return buf.subarray(node.start, node.end);
}

/** Decode UTCTime / GeneralizedTime (Z form, optional fraction). */
export function readTime(buf: Buffer, node: Node): Date {
  const s = content(buf, node).toString('ascii');
  const m =
    node.tag === 0x17
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
      : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/.exec(s);
  if (m === null) throw new Error(`unsupported time ${JSON.stringify(s)}`);
  let y = Number(m[1]);
  if (node.tag === 0x17) y += y < 50 ? 2000 : 1900;
  return new Date(Date.UTC(y, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

/** Decode a DirectoryString (UTF8, Printable, IA5, Teletex as Latin-1, BMP). */
export function readString(buf: Buffer, node: Node): string {
  const b = content(buf, node);
  switch (node.tag) {
    case 0x0c:
    case 0x13:
    case 0x16:
      return b.toString('utf8');
    case 0x14:
      return b.toString('latin1');
    case 0x1e: {
      const sw = Buffer.from(b);
      sw.swap16();
      return sw.toString('utf16le');
    }
    default:
      throw new Error(`unsupported string tag 0x${node.tag.toString(16)}`);
  }
}

export function oidHex(buf: Buffer, node: Node): string {
  if (node.tag !== 0x06) throw new Error('expected OBJECT IDENTIFIER');
  return content(buf, node).toString('hex');
}
