/**
 * One unary call to the remote signer with a deadline, and its failure as a SignetError that names
 * the signer's address: SIGNER_UNAVAILABLE when it cannot be reached or did not answer in time (the
 * server answers 503 then), SIGNER for any other error it returned.
 */
import type * as grpc from '@grpc/grpc-js';
import { SignetError } from '../../errors.js';

// grpc status codes (G:grpc/grpc doc/statuscodes.md); numbers, so grpc-js need not be loaded to map them
const DEADLINE_EXCEEDED = 4;
export const NOT_FOUND = 5;
const RESOURCE_EXHAUSTED = 8;
const UNAVAILABLE = 14;
const CANCELLED = 1;

export interface CallError {
  code?: number;
  details?: string;
  message?: string;
}

/** The fix named by every remote signer error. */
export function signerFix(address: string): string {
  return `check that notary-signer (or signet server signer) runs at ${address} and that --remote-signer-ca, --remote-signer-cert and --remote-signer-key match its TLS set-up (docs/remote-signer.md)`;
}

export function callFailure(address: string, method: string, err: CallError): SignetError {
  const detail = (err.details ?? err.message ?? 'no detail').slice(0, 300);
  if (err.code === UNAVAILABLE || err.code === DEADLINE_EXCEEDED || err.code === CANCELLED) {
    return new SignetError(
      'SIGNER_UNAVAILABLE',
      `the remote signer at ${address} is unavailable (${method}: ${err.code === DEADLINE_EXCEEDED ? 'no answer before the deadline' : detail})`,
      { fix: signerFix(address), cause: err },
    );
  }
  if (err.code === RESOURCE_EXHAUSTED) {
    return new SignetError(
      'SIGNER_UNAVAILABLE',
      `the remote signer at ${address} is overloaded (${method}: ${detail})`,
      {
        fix: 'retry later',
        cause: err,
      },
    );
  }
  return new SignetError('SIGNER', `the remote signer at ${address} refused ${method}: ${detail}`, {
    fix: signerFix(address),
    cause: err,
  });
}

type Unary = (req: unknown, meta: grpc.Metadata, opts: grpc.CallOptions, cb: grpc.requestCallback<unknown>) => unknown;

/** Calls `method` of `client` with `req`, failing after `timeoutMs`. */
export function unary<Res>(
  client: grpc.Client,
  metadata: grpc.Metadata,
  method: string,
  req: object,
  timeoutMs: number,
): Promise<Res> {
  const fn = (client as unknown as Record<string, Unary>)[method];
  if (typeof fn !== 'function') return Promise.reject(new Error(`no gRPC method ${method}`));
  return new Promise<Res>((resolve, reject) => {
    fn.call(client, req, metadata, { deadline: Date.now() + timeoutMs }, (err, res) => {
      if (err !== null || res === undefined) reject(err ?? new Error(`${method}: empty answer`));
      else resolve(res as Res);
    });
  });
}
