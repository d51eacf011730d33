/**
 * The few facts of an X.509 certificate the root rules need and node:crypto does not give (subject CN
 * with its string type, the validity times as encoded, the signature algorithm OID), read with a
 * minimal DER walk. node:crypto's X509Certificate parses the certificate first (x509.ts), so only
 * well-formed certificates reach this reader; it still refuses anything that is not strict DER.
 * An ASN.1 schema library costs some 450 KB of JavaScript to load, on every verify and sign
 * (docs/performance.md, measurement 9); issuing certificates still uses one (x509-issue.ts).
 * Layout (RFC 5280 §4.1): Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature },
 * TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer, validity, subject, … }.
 */

/** One DER element: tag byte, where its contents start and end. Only low tag numbers (< 31) occur here. */
export interface DerElement {
  tag: number;
  /** offset of the contents */
  start: number;
  /** offset after the contents */
  end: number;
}

const SEQUENCE = 0x30;
const SET = 0x31;
const OID = 0x06;
const UTC_TIME = 0x17;
const GENERALIZED_TIME = 0x18;
const VERSION_TAG = 0xa0;

/** The element at `pos`, which must end by `limit`; definite, minimal lengths only (DER). */
export function derElement(buf: Buffer, pos: number, limit: number): DerElement {
  if (pos + 2 > limit) throw new Error('truncated DER element');
  const tag = buf[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new Error('unsupported high tag number');
  let len = buf[pos + 1]!;
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('indefinite or oversized DER length');
    if (start + n > limit) throw new Error('truncated DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    // DER: the shortest form (long form only from 128, no leading zero byte)
    if (len < 0x80 || buf[start] === 0) throw new Error('non-minimal DER length');
    start += n;
  }
  const end = start + len;
  if (end > limit) throw new Error('DER element runs past its container');
  return { tag, start, end };
}

/** The elements inside a constructed element, in order. */
export function derChildren(buf: Buffer, parent: DerElement): DerElement[] {
  const out: DerElement[] = [];
  for (let pos = parent.start; pos < parent.end;) {
    const el = derElement(buf, pos, parent.end);
    out.push(el);
    pos = el.end;
  }
  return out;
}

function expectTag(el: DerElement | undefined, tag: number, what: string): DerElement {
  if (el === undefined || el.tag !== tag) throw new Error(`${what} is missing`);
  return el;
}

/** Dotted text of an OBJECT IDENTIFIER's contents. */
export function oidText(bytes: Buffer): string {
  if (bytes.length === 0) throw new Error('empty OID');
  const arcs: number[] = [];
  let v = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (v === 0 && b === 0x80) throw new Error('non-minimal OID arc');
    v = v * 128 + (b & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 128) throw new Error('OID arc too large');
    if ((b & 0x80) === 0) {
      arcs.push(v);
      v = 0;
    }
  }
  if (bytes[bytes.length - 1]! & 0x80) throw new Error('truncated OID');
  const first = arcs[0]!;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

export interface DerTime {
  /** 'utc' (UTCTime) or 'generalized' (GeneralizedTime) */
  kind: 'utc' | 'generalized';
  /** the encoded text, e.g. 261202123339Z */
  text: string;
}

/** A DirectoryString value: its tag and raw bytes. */
export interface DerString {
  tag: number;
  bytes: Buffer;
}

export interface TbsFacts {
  /** every subject attribute value whose type is `oid`, in order */
  subjectValues: DerString[];
  notBefore: DerTime;
  notAfter: DerTime;
  /** the outer signatureAlgorithm OID */
  signatureOid: string;
}

function derTime(buf: Buffer, el: DerElement | undefined): DerTime {
  if (el === undefined || (el.tag !== UTC_TIME && el.tag !== GENERALIZED_TIME))
    throw new Error('validity time is missing');
  return { kind: el.tag === UTC_TIME ? 'utc' : 'generalized', text: buf.subarray(el.start, el.end).toString('latin1') };
}

/** Read the validity, the subject attributes of type `attributeOid` and the signature algorithm of a DER certificate. */
export function readCertificateFacts(der: Buffer, attributeOid: string): TbsFacts {
  const cert = expectTag(derElement(der, 0, der.length), SEQUENCE, 'Certificate');
  if (cert.end !== der.length) throw new Error('trailing bytes after the certificate');
  const [tbsEl, sigAlgEl] = derChildren(der, cert);
  const tbs = derChildren(der, expectTag(tbsEl, SEQUENCE, 'tbsCertificate'));
  const sigAlg = derChildren(der, expectTag(sigAlgEl, SEQUENCE, 'signatureAlgorithm'));
  const sigOidEl = expectTag(sigAlg[0], OID, 'signature algorithm OID');
  // [0] version is optional; then serialNumber, signature, issuer, validity, subject
  const at = tbs[0]?.tag === VERSION_TAG ? 1 : 0;
  const validity = derChildren(der, expectTag(tbs[at + 3], SEQUENCE, 'validity'));
  const subject = expectTag(tbs[at + 4], SEQUENCE, 'subject');
  const subjectValues: DerString[] = [];
  for (const rdn of derChildren(der, subject)) {
    for (const atv of derChildren(der, expectTag(rdn, SET, 'relative distinguished name'))) {
      const [type, value] = derChildren(der, expectTag(atv, SEQUENCE, 'attribute'));
      const t = expectTag(type, OID, 'attribute type');
      if (value === undefined) throw new Error('attribute value is missing');
      if (oidText(der.subarray(t.start, t.end)) === attributeOid)
        subjectValues.push({ tag: value.tag, bytes: der.subarray(value.start, value.end) });
    }
  }
  return {
    subjectValues,
    notBefore: derTime(der, validity[0]),
    notAfter: derTime(der, validity[1]),
    signatureOid: oidText(der.subarray(sigOidEl.start, sigOidEl.end)),
  };
}
