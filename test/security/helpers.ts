/** Shared bits of the security suite: a Signet server on SQLite in a temp dir and notary's refusal shape. */
import { expect } from 'vitest';
import { errorOf } from '../server/helpers.js';

export { codeOf } from '../helpers/errors.js';
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
