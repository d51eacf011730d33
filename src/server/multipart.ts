/**
 * Reads a publish body (N:server/handlers/default.go): `multipart/form-data`, one part per role, the role PATH in
 * the part's filename (`targets/releases`, optionally with `.json`). The raw filename is used, never
 * its basename (notary issue #1630), so busboy runs with `preservePath`. Checks per part, in
 * notary's order: empty filename → NO_FILENAME; bad role → INVALID_ROLE (detail = the role);
 * not `{signed:{_type,expires,version},signatures}` → MALFORMED_JSON. Limits: total body, bytes
 * per part, number of parts → 413 PAYLOAD_TOO_LARGE.
 */
import type { Readable } from 'node:stream';
import { isUtf8 } from 'node:buffer';
import busboy from 'busboy';
import {
  canonicalSignedRange,
  isValidRoleName,
  nonIntegerNumberLiteral,
  parseRfc3339,
  type JsonValue,
  type ParsedJson,
} from '../tuf/index.js';
import { HttpError } from './errors.js';

export interface UploadLimits {
  /** whole request body, bytes */
  bodyLimit: number;
  /** one metadata file, bytes */
  roleLimit: number;
  /** number of parts */
  maxParts: number;
}

const MAX_VERSION = 2 ** 31 - 1; // notary stores versions in an SQL integer

/** Go's shape check of a part: `{"signed":{"_type":string,"expires":time,"version":int},"signatures":[…]}`. */
export function checkPartJson(bytes: Buffer): boolean {
  return partJson(bytes) !== undefined;
}

/** checkPartJson, keeping what JSON.parse made of the part (undefined when the check fails). */
function partJson(bytes: Buffer): ParsedJson | undefined {
  let v: unknown;
  const text = bytes.toString('utf8');
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  // a body in canonical form holds integers only: the rest of the file is what needs the scan below
  const signedRange = canonicalSignedRange(bytes) ?? null;
  // Go decodes into int fields: `2.0` / `1e0` do not decode (and could never verify in a Go client)
  const rest = signedRange === null ? text : bytes.subarray(signedRange.end).toString('utf8');
  if (nonIntegerNumberLiteral(rest) !== undefined) return undefined;
  return partShapeOk(v) ? { value: v as JsonValue, signedRange } : undefined;
}

function partShapeOk(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  const signed = o.signed;
  if (signed !== undefined && signed !== null) {
    if (typeof signed !== 'object' || Array.isArray(signed)) return false;
    const s = signed as Record<string, unknown>;
    if (s._type !== undefined && typeof s._type !== 'string') return false;
    // Go's time.Time accepts RFC 3339 only (Date.parse would also take "2030-01-01" or lower-case t/z)
    if (s.expires !== undefined && (typeof s.expires !== 'string' || parseRfc3339(s.expires) === undefined))
      return false;
    if (
      s.version !== undefined &&
      (typeof s.version !== 'number' || !Number.isInteger(s.version) || s.version < 0 || s.version > MAX_VERSION)
    ) {
      return false;
    }
  }
  if (o.signatures !== undefined && o.signatures !== null && !Array.isArray(o.signatures)) return false;
  return true;
}

export function isMultipart(contentType: string | undefined): boolean {
  return (
    typeof contentType === 'string' &&
    /^multipart\/form-data\s*;/i.test(contentType.trim()) &&
    /boundary=/i.test(contentType)
  );
}

/**
 * Parses the body into role → exact bytes (the last part wins for a repeated role, as in notary).
 * `parsed` receives each part's JSON as checked, when the part is valid UTF-8 (so validation does
 * not parse a large file twice; tuf ParsedJson).
 */
export function readUpload(
  stream: Readable,
  headers: Record<string, string | string[] | undefined>,
  limits: UploadLimits,
  parsed?: Map<string, ParsedJson>,
): Promise<Map<string, Buffer>> {
  const contentType = headers['content-type'];
  if (!isMultipart(typeof contentType === 'string' ? contentType : undefined)) {
    stream.resume();
    return Promise.reject(new HttpError('MALFORMED_UPLOAD', undefined, 'request body is not multipart/form-data'));
  }
  const declared = Number(headers['content-length']);
  if (Number.isFinite(declared) && declared > limits.bodyLimit) {
    stream.resume();
    return Promise.reject(
      new HttpError('PAYLOAD_TOO_LARGE', undefined, `body of ${declared} bytes exceeds ${limits.bodyLimit}`),
    );
  }
  return new Promise((resolve, reject) => {
    const parts = new Map<string, Buffer>();
    let failed = false;
    let total = 0;
    let pending = 0;
    let finished = false;
    const fail = (err: HttpError): void => {
      if (failed) return;
      failed = true;
      stream.unpipe(bb);
      stream.resume(); // drain what is left so the connection can answer
      reject(err);
    };
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: headers as busboy.BusboyConfig['headers'],
        preservePath: true,
        limits: {
          fileSize: limits.roleLimit,
          files: limits.maxParts,
          parts: limits.maxParts,
          fields: limits.maxParts,
          fieldSize: 1024,
          headerPairs: 20,
        },
      });
    } catch {
      stream.resume();
      reject(new HttpError('MALFORMED_UPLOAD', undefined, 'multipart header without a usable boundary'));
      return;
    }
    const done = (): void => {
      if (!failed && finished && pending === 0) resolve(parts);
    };
    bb.on('file', (_name, file, info) => {
      file.on('error', () => undefined);
      if (failed) {
        file.resume();
        return;
      }
      const filename = info.filename ?? '';
      const role = filename.endsWith('.json') ? filename.slice(0, -'.json'.length) : filename;
      if (role === '') {
        file.resume();
        fail(new HttpError('NO_FILENAME'));
        return;
      }
      if (!isValidRoleName(role)) {
        file.resume();
        fail(new HttpError('INVALID_ROLE', role.slice(0, 300)));
        return;
      }
      pending++;
      const chunks: Buffer[] = [];
      file.on('data', (c: Buffer) => {
        total += c.length;
        if (total > limits.bodyLimit)
          fail(new HttpError('PAYLOAD_TOO_LARGE', undefined, `body exceeds ${limits.bodyLimit} bytes`));
        else chunks.push(c);
      });
      file.on('error', () =>
        fail(new HttpError('MALFORMED_UPLOAD', undefined, `multipart: ${role} part is truncated`)),
      );
      file.on('limit', () =>
        fail(new HttpError('PAYLOAD_TOO_LARGE', undefined, `${role} exceeds ${limits.roleLimit} bytes`)),
      );
      file.on('end', () => {
        pending--;
        if (failed) return;
        const bytes = Buffer.concat(chunks);
        const json = partJson(bytes);
        if (json === undefined) {
          fail(new HttpError('MALFORMED_JSON', undefined, `${role} is not TUF metadata JSON`));
          return;
        }
        parts.set(role, bytes);
        // valid UTF-8 (and no BOM, which JSON.parse refused): the text tuf's parseJsonBytes decodes
        if (isUtf8(bytes)) parsed?.set(role, json);
        else parsed?.delete(role);
        done();
      });
    });
    bb.on('field', () => fail(new HttpError('NO_FILENAME')));
    bb.on('filesLimit', () =>
      fail(new HttpError('PAYLOAD_TOO_LARGE', undefined, `more than ${limits.maxParts} parts`)),
    );
    bb.on('partsLimit', () =>
      fail(new HttpError('PAYLOAD_TOO_LARGE', undefined, `more than ${limits.maxParts} parts`)),
    );
    bb.on('fieldsLimit', () =>
      fail(new HttpError('PAYLOAD_TOO_LARGE', undefined, `more than ${limits.maxParts} parts`)),
    );
    bb.on('error', (err: unknown) =>
      fail(new HttpError('MALFORMED_UPLOAD', undefined, `multipart: ${(err as Error)?.message ?? err}`)),
    );
    bb.on('close', () => {
      finished = true;
      done();
    });
    stream.on('error', () => fail(new HttpError('MALFORMED_UPLOAD', undefined, 'request stream failed')));
    stream.on('aborted', () => fail(new HttpError('MALFORMED_UPLOAD', undefined, 'request aborted')));
    stream.pipe(bb);
  });
}
