// Issue 16 finding 5: `key restore` checks an archive's scrypt parameters before deriving a key, so
// a hostile archive cannot buy gigabytes of memory or seconds of CPU before it is authenticated.
import * as crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readBackup } from '../../src/keys/index.js';
import { thrownError } from '../helpers/errors.js';

/** A syntactically valid archive header with the given scrypt parameters and junk ciphertext. */
function archive(logN: number, r: number, p: number): Buffer {
  return Buffer.concat([
    Buffer.from('SIGNETKB', 'ascii'),
    Buffer.from([1, 1, logN, r, p]),
    crypto.randomBytes(16 + 12),
    crypto.randomBytes(64),
    crypto.randomBytes(16),
  ]);
}

describe('key backup scrypt limits', () => {
  it.each([
    ['4 GiB of memory (N=2^20, r=32)', 20, 32, 1],
    ['1 GiB of memory (N=2^20, r=8)', 20, 8, 1],
    ['128 MiB and 2^24 work (N=2^20, r=1, p=16)', 20, 1, 16],
    ['2^23 work within 64 MiB (N=2^15, r=8, p=32)', 15, 8, 32],
    ['the old maximum (N=2^20, r=32, p=16)', 20, 32, 16],
  ])('refuses %s before deriving, in well under a second', (_name, logN, r, p) => {
    const t0 = performance.now();
    const err = thrownError(() => readBackup(archive(logN, r, p), 'any passphrase'));
    const ms = performance.now() - t0;
    expect(err.code).toBe('KEY_FILE');
    expect(err.message).toMatch(/scrypt/);
    expect(err.fix).toBeDefined();
    // generous bound ("refused in milliseconds"); the KDF alone would take seconds
    expect(ms).toBeLessThan(500);
  });

  it('still derives at the largest accepted parameters (N=2^16, r=8: 64 MiB) and then checks the tag', () => {
    expect(thrownError(() => readBackup(archive(16, 8, 1), 'any passphrase')).code).toBe('BAD_PASSPHRASE');
  });
});
