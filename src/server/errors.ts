/**
 * notary-server's error envelope (D:registry/api/errcode/*.go, `D:registry/api/errcode`, `N:server/errors/errors.go`):
 * `{"errors":[{"code","message","detail"?}]}\n`, `Content-Type: application/json; charset=utf-8`.
 * Codes, statuses and messages are notary's, byte for byte, because clients parse them (the notary
 * client rebuilds typed validation errors from `detail` and reads only the first 1 KiB).
 */
import { isSignetError } from '../errors.js';
import { isValidationError } from '../validation/index.js';

export type NotaryErrorCode =
  | 'NO_FILENAME'
  | 'INVALID_ROLE'
  | 'MALFORMED_JSON'
  | 'UPDATING'
  | 'VERSION'
  | 'METADATA_NOT_FOUND'
  | 'INVALID_UPDATE'
  | 'MALFORMED_UPLOAD'
  | 'GENERIC_NOT_FOUND'
  | 'NO_CRYPTOSERVICE'
  | 'INVALID_GUN'
  | 'INVALID_PARAMETERS'
  | 'PAYLOAD_TOO_LARGE'
  | 'DENIED'
  | 'TOOMANYREQUESTS'
  | 'UNAVAILABLE'
  | 'UNKNOWN';

const CATALOG: Record<NotaryErrorCode, { status: number; message: string }> = {
  NO_FILENAME: { status: 400, message: 'No file/role name provided.' },
  INVALID_ROLE: { status: 400, message: 'The role you are attempting to operate on is invalid.' },
  MALFORMED_JSON: { status: 400, message: 'JSON sent by the client could not be parsed by the server' },
  UPDATING: { status: 500, message: 'An error has occurred while updating the TUF repository.' },
  VERSION: { status: 400, message: 'A newer version of metadata is already available.' },
  METADATA_NOT_FOUND: { status: 404, message: 'You have requested metadata that does not exist.' },
  INVALID_UPDATE: { status: 400, message: 'Update sent by the client is invalid.' },
  MALFORMED_UPLOAD: { status: 400, message: 'The body of your request is malformed.' },
  GENERIC_NOT_FOUND: { status: 404, message: 'You have requested a resource that does not exist.' },
  NO_CRYPTOSERVICE: { status: 500, message: 'The server does not have a signing service configured.' },
  INVALID_GUN: { status: 400, message: 'The server does not support actions on images of this name.' },
  INVALID_PARAMETERS: { status: 400, message: 'The parameters provided are not valid.' },
  // Not in notary (it has no body limit); the status is what proxies answer, the body keeps the envelope.
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is larger than the server accepts.' },
  // Not in notary either: docker/distribution's codes and texts (D:registry/api/errcode/register.go)
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  UNAVAILABLE: { status: 503, message: 'service unavailable' },
  UNKNOWN: { status: 500, message: 'unknown error' },
};

/** An error the server answers with notary's envelope. `detail` undefined = omitted. */
export class HttpError extends Error {
  readonly code: NotaryErrorCode;
  readonly status: number;
  readonly detail: unknown;
  /** extra response headers (Retry-After of a 429 / 503) */
  readonly headers: Record<string, string>;
  constructor(code: NotaryErrorCode, detail?: unknown, logMessage?: string, headers: Record<string, string> = {}) {
    super(logMessage ?? CATALOG[code].message);
    this.headers = headers;
    this.name = 'HttpError';
    this.code = code;
    this.status = CATALOG[code].status;
    this.detail = detail;
  }
}

export function isHttpError(e: unknown): e is HttpError {
  return e instanceof HttpError;
}

const MAX_BODY = 1000; // clients read only the first 1 KiB (D:registry/api/errcode/*.go)

/** The exact envelope bytes (trailing newline like Go's json.Encoder). Kept under 1 KiB. */
export function errorBody(code: NotaryErrorCode, detail?: unknown): Buffer {
  const entry: Record<string, unknown> = { code, message: CATALOG[code].message };
  if (detail !== undefined && detail !== null) entry.detail = detail;
  let body = JSON.stringify({ errors: [entry] }) + '\n';
  if (Buffer.byteLength(body) > MAX_BODY) {
    // Shorten the detail message rather than lose the typed error on the client.
    const d = detail as { Name?: unknown; Error?: { Msg?: unknown } } | undefined;
    if (d && typeof d === 'object' && d.Error && typeof d.Error.Msg === 'string') {
      const short = { ...d, Error: { ...d.Error, Msg: d.Error.Msg.slice(0, 300) + '…' } };
      entry.detail = short;
    } else if (typeof detail === 'string') {
      entry.detail = detail.slice(0, 300) + '…';
    } else {
      delete entry.detail;
    }
    body = JSON.stringify({ errors: [entry] }) + '\n';
  }
  return Buffer.from(body, 'utf8');
}

export function statusOf(code: NotaryErrorCode): number {
  return CATALOG[code].status;
}

/**
 * Maps any thrown value to the envelope. Deliberate errors (HttpError, validation errors, storage
 * conflicts) keep their code; anything else becomes 500 UNKNOWN with no internals in the body.
 */
export function toHttpError(err: unknown): HttpError {
  if (isHttpError(err)) return err;
  if (isValidationError(err)) {
    return new HttpError('INVALID_UPDATE', err.serializable(), err.message);
  }
  if (isSignetError(err, 'CONFLICT')) return new HttpError('VERSION', {}, err.message);
  if (isSignetError(err, 'INVALID_GUN')) return new HttpError('INVALID_GUN', undefined, err.message);
  // the remote signer is down: 503, naming its (operator-configured) address; the gRPC detail goes to the log only
  if (isSignetError(err, 'SIGNER_UNAVAILABLE')) {
    const address = /the remote signer at (\S+)/.exec(err.message)?.[1] ?? '(configured address)';
    return new HttpError('UNAVAILABLE', `the remote signer at ${address} is unavailable`, err.message, {
      'retry-after': '5',
    });
  }
  // database trouble: notary's UNKNOWN (publishes report UPDATING, see publishHandler)
  if (isSignetError(err, 'STORAGE')) return new HttpError('UNKNOWN', undefined, err.message);
  // storage refusing a value the client chose (e.g. a version beyond notary's SQL integer)
  if (isSignetError(err, 'USAGE'))
    return new HttpError(
      'INVALID_UPDATE',
      { Name: 'ErrValidation', Error: { Msg: err.message.slice(0, 300) } },
      err.message,
    );
  const e = err as { statusCode?: unknown; code?: unknown; message?: unknown };
  // Fastify / Node errors raised while reading the request (client's fault).
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    if (e.statusCode === 413) return new HttpError('PAYLOAD_TOO_LARGE', undefined, String(e.message));
    return new HttpError('MALFORMED_UPLOAD', undefined, String(e.message));
  }
  return new HttpError('UNKNOWN', undefined, err instanceof Error ? err.message : String(err));
}
