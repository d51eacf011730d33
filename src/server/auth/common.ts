/**
 * What every authorizer shares: the access records notary-server requires, the 401 reply with its
 * challenge and notary's UNAUTHORIZED envelope, and the Authorizer contract (N:utils/http.go).
 */
import { htmlEscapeJson } from '../../tuf/index.js';
import type { Reply } from '../handlers.js';

export type AuthAction = 'pull' | 'push' | '*';

/** One required access record (distribution's `auth.Access`). */
export interface AccessRecord {
  type: 'repository' | 'registry';
  name: string;
  action: string;
}

export type AuthFailure = 'token_required' | 'invalid_token' | 'insufficient_scope' | 'bad_credentials';

export type AuthResult =
  | { ok: true; user: string | undefined }
  | { ok: false; reason: AuthFailure; user: string | undefined; why: string; reply: Reply };

export interface Authorizer {
  readonly type: 'token' | 'basic' | 'htpasswd';
  /** whether the request may go ahead; `gun` undefined = a GUN-less route (registry:catalog) */
  authorize(authorization: string | undefined, gun: string | undefined, actions: readonly string[]): AuthResult;
}

const ENVELOPE = 'application/json; charset=utf-8';
const MAX_BODY = 1000;

/** The access records notary-server requires (`N:utils/http.go` buildAccessRecords / buildCatalogRecord). */
export function accessRecords(gun: string | undefined, actions: readonly string[]): AccessRecord[] {
  if (gun === undefined || gun === '') return [{ type: 'registry', name: 'catalog', action: '*' }];
  return actions.map((action) => ({ type: 'repository', name: gun, action }));
}

/** Go's `%q` for the strings that can reach a challenge (GUNs refuse control characters and `\`). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Header value carrying raw UTF-8 bytes (Node writes header strings as latin1), like Go. */
export function headerValue(s: string): string {
  return /^[\x20-\x7e]*$/.test(s) ? s : Buffer.from(s, 'utf8').toString('latin1');
}

export function scopeParam(records: AccessRecord[]): string {
  const byResource = new Map<string, string[]>();
  for (const r of records) {
    const k = `${r.type}:${r.name}`;
    const list = byResource.get(k) ?? [];
    if (!list.includes(r.action)) list.push(r.action);
    byResource.set(k, list);
  }
  return [...byResource].map(([res, actions]) => `${res}:${actions.join(',')}`).join(' ');
}

/** notary's 401 body: UNAUTHORIZED with the required access records as detail; under 1 KiB. */
export function unauthorizedBody(records: AccessRecord[]): Buffer {
  const detail = records.map((r) => ({ Type: r.type, Class: '', Name: r.name, Action: r.action }));
  const entry: Record<string, unknown> = { code: 'UNAUTHORIZED', message: 'authentication required', detail };
  let body = htmlEscapeJson(JSON.stringify({ errors: [entry] })) + '\n';
  if (Buffer.byteLength(body) > MAX_BODY) {
    delete entry.detail;
    body = JSON.stringify({ errors: [entry] }) + '\n';
  }
  return Buffer.from(body, 'utf8');
}

export function unauthorized(challenge: string, records: AccessRecord[]): Reply {
  return {
    status: 401,
    headers: { 'content-type': ENVELOPE, 'www-authenticate': headerValue(challenge) },
    body: unauthorizedBody(records),
  };
}
