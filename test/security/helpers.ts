/** Shared bits of the security suite: a Signet server on SQLite in a temp dir and notary's refusal shape. */
import { expect } from 'vitest';
import { isSignetError } from '../../src/errors.js';
import { errorOf } from '../server/helpers.js';

export { TestRepo, ecdsaKey, errorOf, keyOf, multipart, rootKey, testServer } from '../server/helpers.js';
export type { KeyPair, TestServer } from '../server/helpers.js';

export type Reply = { statusCode: number; body: string };

/** A 4xx with notary's error envelope and code. */
export function expectRefused(r: Reply, status: number, code: string): void {
  expect(r.statusCode, r.body).toBe(status);
  expect(errorOf(r.body).code, r.body).toBe(code);
}

/** 400 INVALID_UPDATE with notary's SerializableError name (and message, when given). */
export function expectInvalidUpdate(r: Reply, name: string, msg?: string | RegExp): void {
  expectRefused(r, 400, 'INVALID_UPDATE');
  const d = errorOf(r.body).detail as { Name: string; Error: { Msg: string } };
  expect(d.Name, r.body).toBe(name);
  if (typeof msg === 'string') expect(d.Error.Msg).toBe(msg);
  else if (msg !== undefined) expect(d.Error.Msg).toMatch(msg);
}

/** The SignetError code a promise (or function) fails with, 'OK' when it succeeds. */
export async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'OK';
  } catch (e) {
    if (isSignetError(e)) return e.code;
    return `NOT_A_SIGNET_ERROR: ${String(e)}`;
  }
}
