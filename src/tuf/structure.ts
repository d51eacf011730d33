/**
 * Structural checks applied to every metadata file on load (N:tuf/data/types.go, N:tuf/data/timestamp.go, N:tuf/data/*.go;
 * N:tuf/data/{root,targets,snapshot,timestamp}.go isValid*Structure). Each failure names the
 * exact field, e.g. `targets.json: signed.delegations.roles[0].threshold must be an integer ≥ 1`.
 * The checks never change the value: parsed objects keep unknown fields, null vs {} and key order.
 */
import { SignetError } from '../errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from './canonical-json.js';
import { isDirectChild, isValidRoleName } from './delegations.js';

/**
 * Most key IDs one role may list. notary has no limit, but every listed key may cost a signature
 * check (about 0.3 ms): 5,000 keys in a 1.6 MB delegation held the event loop 1.4 s per upload, and
 * a 50 MB one would hold it half a minute. Real roles list a handful of keys.
 */
export const MAX_ROLE_KEYS = 256;

/**
 * Limits on one key, by type: a certificate key is a leaf plus a few intermediates, and every
 * certificate is parsed and checked when the root is validated (10,000 CA copies in one 5 MB bundle
 * held the server's event loop 3.5 s, and the root was then accepted and served to every client).
 * The other types hold one key: DER, raw bytes, or (rsa signing `pycrypto-pkcs#1 pss`) one PEM
 * block; 64 KiB of `-----BEGIN A-----` lines in such a key cost 150 ms a parse.
 */
export const MAX_CERTS_PER_KEY = 10;
export const MAX_KEY_BYTES = 64 * 1024;
const KEY_LIMITS: Record<string, { bytes: number; pemBlocks: number }> = {
  'ecdsa-x509': { bytes: MAX_KEY_BYTES, pemBlocks: MAX_CERTS_PER_KEY },
  'rsa-x509': { bytes: MAX_KEY_BYTES, pemBlocks: MAX_CERTS_PER_KEY },
  // a P-521 SubjectPublicKeyInfo is 158 bytes
  ecdsa: { bytes: 1024, pemBlocks: 0 },
  // an 8,192-bit key (the largest verified) is ~1.1 KB of DER, ~1.5 KB as PEM text
  rsa: { bytes: 4096, pemBlocks: 1 },
  // 32 raw bytes; a wrong length makes the key unusable (INVALID_KEY), not the file malformed
  ed25519: { bytes: 256, pemBlocks: 0 },
};
/** Key types Signet cannot use are never parsed: only the size limit applies. */
const OTHER_KEY_LIMITS = { bytes: MAX_KEY_BYTES, pemBlocks: MAX_CERTS_PER_KEY };

/** BEGIN lines in `bytes`; the PEM reader is linear, but a key gets no more blocks than its type has. */
function beginLines(bytes: Buffer): number {
  let n = 0;
  for (let i = bytes.indexOf('-----BEGIN '); i >= 0; i = bytes.indexOf('-----BEGIN ', i + 1)) n++;
  return n;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parse an RFC 3339 timestamp as Go's time.Time UnmarshalJSON accepts it (upper-case T and Z, any
 * fraction length, ±hh:mm offsets); undefined if invalid. Precision is cut to milliseconds.
 */
export function parseRfc3339(s: string): Date | undefined {
  const m = RFC3339.exec(s);
  if (m === null) return undefined;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59) return undefined;
  if (d > new Date(Date.UTC(y, mo, 0)).getUTCDate()) return undefined; // day beyond the month's end
  let offsetMin = 0;
  if (m[8] !== 'Z') {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const t = Date.UTC(y, mo - 1, d, h, mi, sec, ms) - offsetMin * 60_000;
  const out = new Date(t);
  if (y < 100) out.setUTCFullYear(y, mo - 1, d); // Date.UTC maps years 0–99 to 1900s
  return Number.isNaN(out.getTime()) ? undefined : out;
}

/** What a quiet Checker throws: the caller checks again with a naming Checker to get the error. */
class Unnamed extends Error {}
const UNNAMED = new Unnamed();

/** The base64 alphabet by character code (a table: a regular expression or a range test cost ~0.4 µs a hash). */
const BASE64_ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
  BASE64_ALPHABET[c.charCodeAt(0)] = 1;

/** `^[A-Za-z0-9+/]*={0,2}$` (one check per target hash: 100,000 in a large role) */
function isBase64Text(s: string): boolean {
  const n = s.length;
  let i = 0;
  while (i < n && BASE64_ALPHABET[s.charCodeAt(i)] === 1) i++;
  const body = i;
  while (i < n && s.charCodeAt(i) === 0x3d) i++;
  return i === n && i - body <= 2;
}

/**
 * Run `check(c, path)` on each entry of a large map with a quiet Checker and unbuilt paths, and
 * again with `c` and the entry's path only when it fails, so the error is the one `c` would give.
 */
export function eachEntry<T>(
  c: Checker,
  map: JsonObject,
  path: (key: string) => string,
  check: (c: Checker, v: JsonValue | undefined, path: string) => T,
): void {
  const quiet = c.quiet ? c : new Checker(c.what, true);
  for (const k of Object.keys(map)) {
    try {
      check(quiet, map[k], '');
    } catch (e) {
      if (!(e instanceof Unnamed) || c.quiet) throw e;
      check(c, map[k], path(k));
    }
  }
}

export class Checker {
  /** `quiet`: fail without building the message (many entries checked, paths made only for a failure) */
  constructor(
    readonly what: string,
    readonly quiet = false,
  ) {}

  fail(path: string, rule: string, fix?: string): never {
    if (this.quiet) throw UNNAMED;
    throw new SignetError('MALFORMED_METADATA', `${this.what}: ${path} ${rule}`, {
      fix: fix ?? 'the file was not produced by a notary-compatible tool or was corrupted; re-publish it',
      details: { field: path },
    });
  }

  object(v: JsonValue | undefined, path: string): JsonObject {
    if (!isJsonObject(v)) this.fail(path, 'must be a JSON object');
    return v;
  }

  objectOrNull(v: JsonValue | undefined, path: string): JsonObject | null {
    if (v === null || v === undefined) return null;
    return this.object(v, path);
  }

  array(v: JsonValue | undefined, path: string): JsonValue[] {
    if (!Array.isArray(v)) this.fail(path, 'must be a JSON array');
    return v;
  }

  string(v: JsonValue | undefined, path: string): string {
    if (typeof v !== 'string') this.fail(path, 'must be a string');
    return v;
  }

  int(v: JsonValue | undefined, path: string, min: number): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      this.fail(path, `must be an integer ≥ ${min}`);
    }
    return v;
  }

  base64(v: JsonValue | undefined, path: string): Buffer {
    return Buffer.from(this.base64Text(v, path), 'base64');
  }

  /** base64 without decoding it */
  base64Text(v: JsonValue | undefined, path: string): string {
    const s = this.string(v, path);
    if (s.length % 4 !== 0 || !isBase64Text(s)) this.fail(path, 'must be standard padded base64');
    return s;
  }

  stringList(v: JsonValue | undefined, path: string): string[] {
    if (v === null || v === undefined) return [];
    const a = this.array(v, path);
    a.forEach((x, i) => this.string(x, `${path}[${i}]`));
    return a as string[];
  }
}

const TYPE_OF_ROLE: Record<string, string> = {
  root: 'Root',
  targets: 'Targets',
  snapshot: 'Snapshot',
  timestamp: 'Timestamp',
};

export function expectedType(role: string): string {
  const t = TYPE_OF_ROLE[role] ?? (isValidRoleName(role) && role.startsWith('targets/') ? 'Targets' : undefined);
  if (t === undefined) {
    throw new SignetError('INVALID_ROLE', `${JSON.stringify(role)} is not a valid role name`, {
      fix: 'use root, targets, snapshot, timestamp or a delegation targets/<name> (lowercase a-z, 0-9, -, _, /)',
    });
  }
  return t;
}

function checkCommon(c: Checker, s: JsonObject, role: string): void {
  const want = expectedType(role);
  const got = c.string(s['_type'], 'signed._type');
  if (got !== want)
    c.fail('signed._type', `is ${JSON.stringify(got)} but must be ${JSON.stringify(want)} for role ${role}`);
  c.int(s['version'], 'signed.version', 1);
  const exp = c.string(s['expires'], 'signed.expires');
  if (parseRfc3339(exp) === undefined) c.fail('signed.expires', `${JSON.stringify(exp)} is not an RFC 3339 timestamp`);
}

function checkKeys(c: Checker, v: JsonValue | undefined, path: string): JsonObject | null {
  const keys = c.objectOrNull(v, path);
  if (keys === null) return null;
  for (const [id, k] of Object.entries(keys)) {
    const p = `${path}[${JSON.stringify(id)}]`;
    const ko = c.object(k, p);
    const keytype = c.string(ko['keytype'], `${p}.keytype`);
    const kv = c.object(ko['keyval'], `${p}.keyval`);
    const pub = c.base64(kv['public'], `${p}.keyval.public`);
    const limit = Object.hasOwn(KEY_LIMITS, keytype)
      ? (KEY_LIMITS[keytype] as typeof OTHER_KEY_LIMITS)
      : OTHER_KEY_LIMITS;
    if (pub.length > limit.bytes) {
      c.fail(`${p}.keyval.public`, `is ${pub.length} bytes; ${keytype} keys have at most ${limit.bytes}`);
    }
    const blocks = beginLines(pub);
    if (blocks > limit.pemBlocks) {
      c.fail(`${p}.keyval.public`, `holds ${blocks} PEM BEGIN lines; ${keytype} keys have at most ${limit.pemBlocks}`);
    }
    if (kv['private'] !== null && kv['private'] !== undefined) {
      c.fail(`${p}.keyval.private`, 'must be null: metadata must never carry a private key');
    }
  }
  return keys;
}

/** Go's CheckValidHashStructures: sha256 is 32 bytes, sha512 64, and at least one of them is present. */
export function checkHashes(c: Checker, v: JsonValue | undefined, path: string, requireSha256: boolean): void {
  const h = c.object(v, path);
  let supported = 0;
  for (const [alg, val] of Object.entries(h)) {
    const bytes = c.base64(val, `${path}.${alg}`);
    if (alg === 'sha256' || alg === 'sha512') {
      supported++;
      const want = alg === 'sha256' ? 32 : 64;
      if (bytes.length !== want) c.fail(`${path}.${alg}`, `must decode to ${want} bytes, got ${bytes.length}`);
    }
  }
  if (requireSha256 && h['sha256'] === undefined) c.fail(`${path}.sha256`, 'is required');
  if (supported === 0) c.fail(path, 'must hold a sha256 or sha512 hash');
}

/**
 * FileMeta shape. `strict` applies CheckValidHashStructures (Go does so on load only for snapshot's
 * root/targets and timestamp's snapshot; other entries are checked when the file they describe is loaded).
 */
function checkFileMeta(c: Checker, v: JsonValue | undefined, path: string, strict: boolean): void {
  const fm = c.object(v, path);
  c.int(fm['length'], `${path}.length`, 0);
  if (strict) {
    checkHashes(c, fm['hashes'], `${path}.hashes`, true);
    return;
  }
  const h = c.object(fm['hashes'], `${path}.hashes`);
  for (const alg of Object.keys(h)) c.base64Text(h[alg], `${path}.hashes.${alg}`);
}

function checkRoot(c: Checker, s: JsonObject): void {
  const cs = s['consistent_snapshot'];
  if (cs !== undefined && typeof cs !== 'boolean') c.fail('signed.consistent_snapshot', 'must be a boolean');
  const keys = checkKeys(c, s['keys'], 'signed.keys') ?? {};
  const roles = c.object(s['roles'], 'signed.roles');
  for (const r of ['root', 'targets', 'snapshot', 'timestamp']) {
    const p = `signed.roles.${r}`;
    if (roles[r] === undefined) c.fail(p, 'is missing; root must define root, targets, snapshot and timestamp');
  }
  for (const [r, rv] of Object.entries(roles)) {
    const p = `signed.roles.${r}`;
    const ro = c.object(rv, p);
    // Go validates only the base roles; other entries just have to decode
    const base = ['root', 'targets', 'snapshot', 'timestamp'].includes(r);
    c.int(ro['threshold'], `${p}.threshold`, base ? 1 : Number.MIN_SAFE_INTEGER);
    if (!base) {
      c.stringList(ro['keyids'], `${p}.keyids`);
      continue;
    }
    const ids = c.stringList(ro['keyids'], `${p}.keyids`);
    if (ids.length > MAX_ROLE_KEYS)
      c.fail(`${p}.keyids`, `lists ${ids.length} keys; at most ${MAX_ROLE_KEYS} are allowed`);
    // own keys only: `constructor`, `__proto__`, `toString`… are not keys just because every object has them
    ids.forEach((id, i) => {
      if (!Object.hasOwn(keys, id)) c.fail(`${p}.keyids[${i}]`, `lists key ${id} which is not in signed.keys`);
    });
  }
}

function checkTargets(c: Checker, s: JsonObject, role: string): void {
  const targets = c.object(s['targets'], 'signed.targets');
  eachEntry(
    c,
    targets,
    (name) => `signed.targets[${JSON.stringify(name)}]`,
    (c2, fm, p) => checkFileMeta(c2, fm, p, false),
  );
  if (s['delegations'] === undefined) return; // Go reads it as {keys:null, roles:null}
  const d = c.object(s['delegations'], 'signed.delegations');
  const keys = checkKeys(c, d['keys'], 'signed.delegations.keys') ?? {};
  if (d['roles'] === null || d['roles'] === undefined) return;
  const roles = c.array(d['roles'], 'signed.delegations.roles');
  roles.forEach((rv, i) => {
    const p = `signed.delegations.roles[${i}]`;
    const r = c.object(rv, p);
    const name = c.string(r['name'], `${p}.name`);
    if (!isValidRoleName(name) || !name.startsWith('targets/')) {
      c.fail(`${p}.name`, `${JSON.stringify(name)} is not a valid delegation role name`);
    }
    if (!isDirectChild(role, name)) c.fail(`${p}.name`, `${JSON.stringify(name)} is not a direct child of ${role}`);
    c.int(r['threshold'], `${p}.threshold`, 1);
    const ids = c.stringList(r['keyids'], `${p}.keyids`);
    if (ids.length > MAX_ROLE_KEYS)
      c.fail(`${p}.keyids`, `lists ${ids.length} keys; at most ${MAX_ROLE_KEYS} are allowed`);
    ids.forEach((id, j) => {
      if (!Object.hasOwn(keys, id))
        c.fail(`${p}.keyids[${j}]`, `lists key ${id} which is not in signed.delegations.keys`);
    });
    c.stringList(r['paths'], `${p}.paths`);
  });
}

function checkSnapshot(c: Checker, s: JsonObject): void {
  const meta = c.object(s['meta'], 'signed.meta');
  for (const r of ['root', 'targets']) {
    if (meta[r] === undefined) c.fail(`signed.meta.${r}`, 'is missing; snapshot must list root and targets');
  }
  for (const [name, fm] of Object.entries(meta)) {
    checkFileMeta(c, fm, `signed.meta[${JSON.stringify(name)}]`, name === 'root' || name === 'targets');
  }
}

function checkTimestamp(c: Checker, s: JsonObject): void {
  const meta = c.object(s['meta'], 'signed.meta');
  if (meta['snapshot'] === undefined) c.fail('signed.meta.snapshot', 'is missing');
  for (const [name, fm] of Object.entries(meta)) {
    checkFileMeta(c, fm, `signed.meta[${JSON.stringify(name)}]`, name === 'snapshot');
  }
}

/** Validate the `signed` body of `role`; throws MALFORMED_METADATA naming the field. */
export function checkSignedStructure(role: string, signed: JsonValue | undefined, what: string): void {
  const c = new Checker(what);
  const s = c.object(signed, 'signed');
  checkCommon(c, s, role);
  switch (expectedType(role)) {
    case 'Root':
      return checkRoot(c, s);
    case 'Targets':
      return checkTargets(c, s, role);
    case 'Snapshot':
      return checkSnapshot(c, s);
    default:
      return checkTimestamp(c, s);
  }
}
