/** What a call fails with, for tests that expect one SignetError code. Any other exception is re-thrown. */
import { expect } from 'vitest';
import { isSignetError, type SignetError, type SignetErrorCode } from '../../src/errors.js';

/** The SignetError code `fn` throws, 'OK' when it returns. */
export function thrownCode(fn: () => unknown): SignetErrorCode | 'OK' {
  try {
    fn();
    return 'OK';
  } catch (e) {
    if (isSignetError(e)) return e.code;
    throw e;
  }
}

/** The SignetError `fn` throws; fails when it returns. */
export function thrownError(fn: () => unknown): SignetError {
  try {
    fn();
  } catch (e) {
    if (isSignetError(e)) return e;
    throw e;
  }
  throw new Error('expected a SignetError');
}

/** The SignetError code a promise (or function) fails with, 'OK' when it succeeds. */
export async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<SignetErrorCode | 'OK'> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'OK';
  } catch (e) {
    if (isSignetError(e)) return e.code;
    throw e;
  }
}

/** Expects `p` to reject with a SignetError of `code`; returns that error. */
export async function expectCode(p: Promise<unknown>, code: SignetErrorCode): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isSignetError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
  return err as Error;
}
