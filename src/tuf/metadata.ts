/**
 * Metadata files: parse (with structural checks), serialise to notary's exact file bytes, sign,
 * and the file-meta (length + hashes) that snapshot and timestamp list (N:tuf/data/types.go, N:tuf/data/timestamp.go).
 *
 * File bytes = `{"signed":` + HTML-escaped canonical(signed) + `,"signatures":[…]}` — Go json.Marshal of
 * N:tuf/data Signed, no whitespace, no trailing newline. Signatures cover canonical(signed); snapshot
 * and timestamp hash the exact file bytes.
 */
import crypto from 'node:crypto';
import { base64ToHex } from '../digest.js';
import { SignetError } from '../errors.js';
import {
  canonicalJson,
  htmlEscapeJson,
  nonIntegerNumberLiteral,
  parseJsonBytes,
  type JsonValue,
} from './canonical-json.js';
import { canonicalSignedRange } from './canonical-scan.js';
import { checkGoFieldNames } from './go-fields.js';
import { Checker, checkSignedStructure } from './structure.js';
import type {
  AnySigned,
  FileMeta,
  KeyJson,
  Metadata,
  PublicKey,
  RoleKeys,
  RoleName,
  RootSigned,
  Signature,
  Signer,
  SnapshotSigned,
  TargetsSigned,
  TimestampSigned,
} from './types.js';

/** Go encoding/json string encoding (HTML-safe): what json.Marshal writes for the signature fields. */
function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029) {
      out += '\\u' + c.toString(16).padStart(4, '0');
    } else out += ch;
  }
  return out + '"';
}

/** The exact bytes notary writes for a metadata file (N:tuf/data/types.go). */
export function serializeEnvelope(signed: AnySigned, signatures: readonly Signature[]): Buffer {
  return envelopeOf(canonicalJson(signed as unknown as JsonValue), signatures);
}

/** What htmlEscapeJson would change: `<` `>` `&`, U+2028 and U+2029 (UTF-8 E2 80 A8/A9). */
const HTML_SPECIAL = ['<', '>', '&', '\u2028', '\u2029'].map((c) => Buffer.from(c, 'utf8'));

/** serializeEnvelope over the canonical bytes of `signed` (no copy of them through a string when nothing needs escaping). */
function envelopeOf(signedBytes: Buffer, signatures: readonly Signature[]): Buffer {
  const sigs = signatures
    .map((s) => `{"keyid":${goJsonString(s.keyid)},"method":${goJsonString(s.method)},"sig":${goJsonString(s.sig)}}`)
    .join(',');
  const body = HTML_SPECIAL.some((c) => signedBytes.includes(c))
    ? Buffer.from(htmlEscapeJson(signedBytes.toString('utf8')), 'utf8')
    : signedBytes;
  return Buffer.concat([Buffer.from('{"signed":', 'utf8'), body, Buffer.from(`,"signatures":[${sigs}]}`, 'utf8')]);
}

function parseSignatures(c: Checker, v: JsonValue | undefined): Signature[] {
  if (v === null || v === undefined) return [];
  return c.array(v, 'signatures').map((sv, i) => {
    const p = `signatures[${i}]`;
    const so = c.object(sv, p);
    const keyid = c.string(so['keyid'], `${p}.keyid`);
    const method = c.string(so['method'], `${p}.method`).toLowerCase();
    const sig = c.string(so['sig'], `${p}.sig`);
    c.base64(sig, `${p}.sig`);
    return { keyid, method, sig };
  });
}

/**
 * `JSON.parse` of a file's text that a caller already made (the server's upload check): valid UTF-8
 * without a byte-order mark, so the text is the one parseJsonBytes decodes. Not to be changed after.
 * `signedRange`: canonicalSignedRange of the same bytes, when the caller computed it (null: none).
 */
export interface ParsedJson {
  value: JsonValue;
  signedRange?: { start: number; end: number } | null;
}

/**
 * Parse a metadata file of `role` (`parsed`: its JSON already parsed, see ParsedJson). Validates the shape (MALFORMED_METADATA names the field, INVALID_ROLE
 * for a bad role name); does NOT verify signatures. Keeps the exact bytes.
 */
export function parseMetadata(role: RoleName, bytes: Buffer, parsed?: ParsedJson): Metadata {
  const what = `${role}.json`;
  const doc = parsed?.value ?? parseJsonBytes(bytes, what);
  const c = new Checker(what);
  const top = c.object(doc, '(top level)');
  checkGoFieldNames(role, top, what);
  const signed = c.object(top['signed'], 'signed');
  checkSignedStructure(role, signed, what);
  const signatures = parseSignatures(c, top['signatures']);
  const own = Buffer.from(bytes);
  // notary's files hold the canonical bytes as they are: then those are the bytes signatures cover
  // (the same bytes the encoder below would make), and only the rest of the file can hold a number
  const range = parsed?.signedRange === undefined ? canonicalSignedRange(own) : (parsed.signedRange ?? undefined);
  // after the structural checks (which name the field): what remains is an integral value written
  // as `2.0`/`2e0`, which JSON.parse takes but Go cannot decode into its integer fields
  const literal = nonIntegerNumberLiteral(
    range === undefined ? own.toString('utf8') : own.subarray(range.end).toString('utf8'),
  );
  if (literal !== undefined) {
    throw new SignetError('MALFORMED_METADATA', `${what}: the number ${literal} is not an integer literal`, {
      fix: 'notary metadata holds integers only, written without fraction or exponent',
    });
  }
  if (range !== undefined) {
    const signedBytes = own.subarray(range.start, range.end);
    return { role, signed: signed as unknown as AnySigned, signatures, bytes: own, signedBytes };
  }
  let signedBytes: Buffer;
  try {
    signedBytes = canonicalJson(signed);
  } catch (cause) {
    throw new SignetError(
      'MALFORMED_METADATA',
      `${what}: signed cannot be canonically encoded: ${(cause as Error).message}`,
      {
        cause,
        fix: 'metadata may hold only integers and strings without control characters',
      },
    );
  }
  return { role, signed: signed as unknown as AnySigned, signatures, bytes: own, signedBytes };
}

export function parseRoot(bytes: Buffer): Metadata<RootSigned> {
  return parseMetadata('root', bytes) as Metadata<RootSigned>;
}
export function parseTargets(role: RoleName, bytes: Buffer, parsed?: ParsedJson): Metadata<TargetsSigned> {
  if (role !== 'targets' && !role.startsWith('targets/')) {
    throw new SignetError('INVALID_ROLE', `${role} is not a targets role`, { fix: 'use targets or targets/<name>' });
  }
  return parseMetadata(role, bytes, parsed) as Metadata<TargetsSigned>;
}
export function parseSnapshot(bytes: Buffer): Metadata<SnapshotSigned> {
  return parseMetadata('snapshot', bytes) as Metadata<SnapshotSigned>;
}
export function parseTimestamp(bytes: Buffer): Metadata<TimestampSigned> {
  return parseMetadata('timestamp', bytes) as Metadata<TimestampSigned>;
}

/**
 * Sign `signed` with every signer (new signatures first, as N:tuf/signed/sign.go does), then append the
 * `keep` signatures whose keys did not just sign. Checks the structure first so we never sign
 * something notary would refuse to load.
 */
export async function signMetadata<T extends AnySigned>(
  role: RoleName,
  signed: T,
  signers: readonly Signer[],
  keep: readonly Signature[] = [],
): Promise<Metadata<T>> {
  checkSignedStructure(role, signed as unknown as JsonValue, `${role}.json`);
  return signCanonical(role, signed, canonicalJson(signed as unknown as JsonValue), signers, keep);
}

/**
 * signMetadata over `signedBytes`, which the caller vouches are canonical(signed) and whose structure
 * it has checked (targets-edit.ts builds them from a parsed file's bytes).
 */
export async function signCanonical<T extends AnySigned>(
  role: RoleName,
  signed: T,
  signedBytes: Buffer,
  signers: readonly Signer[],
  keep: readonly Signature[] = [],
): Promise<Metadata<T>> {
  const signatures: Signature[] = [];
  const seen = new Set<string>();
  for (const s of signers) {
    if (seen.has(s.publicKey.id)) continue;
    seen.add(s.publicKey.id);
    const { method, sig } = await s.sign(signedBytes);
    signatures.push({ keyid: s.publicKey.id, method, sig: sig.toString('base64') });
  }
  for (const k of keep) {
    if (seen.has(k.keyid)) continue;
    seen.add(k.keyid);
    signatures.push({ keyid: k.keyid, method: k.method, sig: k.sig });
  }
  return { role, signed, signatures, bytes: envelopeOf(signedBytes, signatures), signedBytes };
}

/** Length and base64 hashes of exact file bytes, as snapshot/timestamp list them. */
export function fileMeta(bytes: Buffer, algs: readonly ('sha256' | 'sha512')[] = ['sha256', 'sha512']): FileMeta {
  const hashes: Record<string, string> = {};
  for (const a of algs) hashes[a] = crypto.createHash(a).update(bytes).digest('base64');
  return { hashes, length: bytes.length };
}

/** The hex of the sha256 a file-meta lists (TUF lists it in base64), or undefined when it lists none. */
export function fileMetaSha256Hex(meta: FileMeta): string | undefined {
  const b64 = meta.hashes?.sha256;
  return b64 === undefined ? undefined : base64ToHex(b64);
}

/**
 * Check bytes against the length and hashes a parent lists (N:tuf/data/types.go CheckHashes): every
 * supported hash present must match, at least one must be present. Throws MIX_AND_MATCH.
 */
export function checkFileMeta(bytes: Buffer, expected: FileMeta, what: string): void {
  const fail = (why: string): never => {
    throw new SignetError('MIX_AND_MATCH', `${what} does not match the metadata that lists it: ${why}`, {
      fix: 'the server is serving an inconsistent set of files (or an attacker is mixing versions); retry later or report it to the server operator',
    });
  };
  if (bytes.length !== expected.length) fail(`length is ${bytes.length}, expected ${expected.length}`);
  let checked = 0;
  for (const alg of ['sha256', 'sha512'] as const) {
    const want = expected.hashes[alg];
    if (want === undefined) continue;
    const got = crypto.createHash(alg).update(bytes).digest();
    const exp = Buffer.from(want, 'base64');
    if (exp.length !== got.length || !crypto.timingSafeEqual(exp, got)) fail(`${alg} differs`);
    checked++;
  }
  if (checked === 0) fail('no sha256 or sha512 hash is listed');
}

/** RFC 3339 in UTC with 'Z', fraction trimmed of trailing zeros and omitted when zero (Go RFC3339Nano). */
export function formatExpires(date: Date): string {
  const iso = date.toISOString(); // 2026-11-25T20:07:23.120Z
  return iso.replace(/\.(\d*?)0*Z$/, (_m, f: string) => (f === '' ? 'Z' : `.${f}Z`));
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * notary's default expiries (N:const.go, where Year = 365 days): root 10y,
 * targets/delegations/snapshot 3y, timestamp 14d. The captures confirm 3650/1095-day spans.
 */
export function defaultExpires(role: RoleName, now: Date): Date {
  const days = role === 'root' ? 3650 : role === 'timestamp' ? 14 : 1095;
  return new Date(now.getTime() + days * DAY_MS);
}

function expiresString(expires: Date | string): string {
  return typeof expires === 'string' ? expires : formatExpires(expires);
}

/** A fresh root body; `keys` as PublicKeys or key JSON by ID. consistent_snapshot is always false. */
export function newRoot(
  keys: readonly PublicKey[] | Record<string, KeyJson>,
  roles: Record<'root' | 'targets' | 'snapshot' | 'timestamp', RoleKeys>,
  expires: Date | string,
  version = 1,
): RootSigned {
  const keyMap: Record<string, KeyJson> = {};
  if (Array.isArray(keys)) {
    for (const k of keys as readonly PublicKey[])
      keyMap[k.id] = { keytype: k.keytype, keyval: { private: null, public: k.public } };
  } else Object.assign(keyMap, keys);
  return {
    _type: 'Root',
    consistent_snapshot: false,
    expires: expiresString(expires),
    keys: keyMap,
    roles: { ...roles },
    version,
  };
}

/** A fresh targets (or delegation) body: delegations `{"keys":{},"roles":[]}`, no targets. */
export function newTargets(expires: Date | string, version = 1): TargetsSigned {
  return {
    _type: 'Targets',
    delegations: { keys: {}, roles: [] },
    expires: expiresString(expires),
    targets: {},
    version,
  };
}

export function newSnapshot(meta: Record<string, FileMeta>, expires: Date | string, version = 1): SnapshotSigned {
  const s: SnapshotSigned = { _type: 'Snapshot', expires: expiresString(expires), meta: { ...meta }, version };
  return s;
}

export function newTimestamp(snapshot: FileMeta, expires: Date | string, version = 1): TimestampSigned {
  return { _type: 'Timestamp', expires: expiresString(expires), meta: { snapshot }, version };
}
