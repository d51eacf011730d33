/**
 * Turning notary-server responses into coded errors, the way the Go client reads them
 * (D:registry/api/errcode/*.go, `N:storage/httpstore.go` translateStatusToError): only the first 1 KiB of an
 * error body is parsed; one error whose `detail` is a SerializableError gives a typed message.
 */
import { SignetError } from '../errors.js';
import { isPlainHttpAnswer } from '../http/index.js';

/** The Go client reads at most this much of an error body (D:registry/api/errcode/*.go). */
export const ERROR_BODY_LIMIT = 1024;

export interface ServerErrorEntry {
  code: string;
  message: string;
  detail?: unknown;
}

/** Parse `{"errors":[{code,message,detail}]}`; undefined if the body is not that shape. */
export function parseErrorEnvelope(body: Buffer): ServerErrorEntry[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.subarray(0, ERROR_BODY_LIMIT).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const errors = (parsed as { errors?: unknown }).errors;
  if (!Array.isArray(errors)) return undefined;
  const out: ServerErrorEntry[] = [];
  for (const e of errors) {
    if (typeof e !== 'object' || e === null) continue;
    const { code, message, detail } = e as Record<string, unknown>;
    out.push({
      code: typeof code === 'string' ? code : 'UNKNOWN',
      message: typeof message === 'string' ? message : '',
      detail,
    });
  }
  return out;
}

/** Messages of notary's validation errors (`N:tuf/validation/errors.go`), keyed by SerializableError Name. */
const TYPED_PREFIX: Record<string, string> = {
  ErrValidation: 'An error occurred during validation: ',
  ErrBadHierarchy: 'Metadata hierarchy is incomplete: ',
  ErrBadRoot: 'The root metadata is invalid: ',
  ErrBadTargets: 'The targets metadata is invalid: ',
  ErrBadSnapshot: 'The snapshot metadata is invalid: ',
};

/** The typed message from a SerializableError detail `{"Name":…,"Error":{"Msg":…}}`, if it is one. */
export function typedErrorMessage(detail: unknown): string | undefined {
  if (typeof detail !== 'object' || detail === null) return undefined;
  const { Name, Error: inner } = detail as Record<string, unknown>;
  if (typeof Name !== 'string' || !(Name in TYPED_PREFIX)) return undefined;
  const msg = typeof inner === 'object' && inner !== null ? (inner as Record<string, unknown>).Msg : undefined;
  return TYPED_PREFIX[Name] + (typeof msg === 'string' ? msg : '');
}

/** A server-rejected write (publish, delete, key rotation) or a 400 on a read. */
export function rejectedError(status: number, body: Buffer, what: string): SignetError {
  const errors = parseErrorEnvelope(body) ?? [];
  const first = errors[0];
  const typed = errors.length === 1 && first !== undefined ? typedErrorMessage(first.detail) : undefined;
  let message: string;
  if (typed !== undefined) {
    message = `trust server rejected ${what}: ${typed}`;
  } else if (first !== undefined) {
    const detail =
      first.detail === undefined ||
      (typeof first.detail === 'object' && first.detail !== null && Object.keys(first.detail).length === 0)
        ? ''
        : ` (${JSON.stringify(first.detail).slice(0, 200)})`;
    message = `trust server rejected ${what}: ${first.code}: ${first.message}${detail}`;
  } else {
    message = `trust server rejected ${what} (HTTP ${status})`;
  }
  return new SignetError('SERVER_REJECTED', message, {
    fix: fixFor(first?.code),
    details: { status, code: first?.code, detail: first?.detail },
  });
}

function fixFor(code: string | undefined): string {
  switch (code) {
    case 'VERSION':
      return 'someone published a newer version in the meantime: refresh the local trust data and publish again';
    case 'INVALID_UPDATE':
      return 'the uploaded metadata does not validate against what the server holds: check keys, signatures and versions, then publish again';
    case 'INVALID_GUN':
      return 'this trust server only accepts repositories under its configured prefixes; use a matching image name';
    case 'MALFORMED_JSON':
    case 'MALFORMED_UPLOAD':
    case 'NO_FILENAME':
    case 'INVALID_ROLE':
      return 'the client sent a request the server cannot parse; this is a client bug, please report it';
    default:
      return 'check the trust server logs for the reason';
  }
}

/** 404: notary's ErrMetaNotFound wording. */
export function notFoundError(resource: string, url: string): SignetError {
  return new SignetError('NOT_FOUND', `${resource} trust data unavailable. Has a notary repository been initialized?`, {
    fix: 'check the image name and trust server URL; a repository exists only after its first signed push',
    details: { status: 404, url },
  });
}

/** 401 after the auth attempt. */
export function unauthorizedError(url: string, hadCredentials: boolean): SignetError {
  return new SignetError(
    'UNAUTHORIZED',
    `you are not authorized to perform this operation: server returned 401 for ${url}`,
    {
      fix: hadCredentials
        ? 'the credentials were refused or lack the needed scope; check the username/password or token for this repository'
        : 'the trust server requires authentication; provide credentials (username/password or a bearer token)',
      details: { status: 401, url },
    },
  );
}

/** Any other unexpected status: notary says "unable to reach trust server at this time: <code>." */
export function statusError(status: number, body: Buffer, url: string): SignetError {
  const first = parseErrorEnvelope(body)?.[0];
  const extra = first !== undefined ? ` (${first.code}: ${first.message})` : '';
  return new SignetError('HTTP', `unable to reach trust server at this time: ${status}${extra}`, {
    fix: 'the trust server is failing or unavailable; retry later or check the server',
    details: { status, url, code: first?.code },
  });
}

export function endlessData(what: string, limit: number, url: string, reason: string): SignetError {
  return new SignetError(
    'ENDLESS_DATA',
    `trust server returned a bad response: ${what} is larger than the ${limit}-byte limit (${reason})`,
    {
      fix: 'the trust server (or something in between) is serving oversized data; do not trust it, report to its operator',
      details: { limit, url },
    },
  );
}

export function networkError(url: string, cause: unknown): SignetError {
  if (url.startsWith('https://') && isPlainHttpAnswer(cause)) {
    const plain = `http://${new URL(url).host}`;
    return new SignetError('NETWORK', `the trust server at ${new URL(url).origin} speaks plain HTTP, not HTTPS`, {
      fix: `use ${plain} (e.g. --server ${plain}), or give the server a TLS certificate`,
      cause,
      details: { url },
    });
  }
  const msg = cause instanceof Error ? cause.message : String(cause);
  return new SignetError('NETWORK', `error contacting trust server at ${url}: ${msg}`, {
    fix: 'check the trust server URL, that it is running, the network, and TLS settings (--tls-ca)',
    cause,
    details: { url },
  });
}

/** The trust server did not finish answering within the request deadline (connect, headers or body). */
export function timeoutError(url: string, timeoutMs: number, cause: unknown): SignetError {
  return new SignetError('TIMEOUT', `trust server at ${url} did not answer within ${timeoutMs} ms`, {
    fix: 'check that the trust server is up and reachable; on a slow link raise --timeout (or SIGNET_TIMEOUT_MS)',
    cause,
    details: { url, timeoutMs },
  });
}
