/** Shared by the pkcs8 tests: the notary/docker fixture key files and their passphrases, error-code and signing checks. */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';
import { isSignetError } from '../../src/errors.js';
import { inspectKeyPem, type PrivateKey } from '../../src/keys/index.js';
import { localSigner, verifySignature } from '../../src/tuf/index.js';

export const VEC = path.resolve(import.meta.dirname, '../fixtures/vectors');
export const NOTARY_PASS: Record<string, string> = {
  root: 'root-pass-123',
  targets: 'targets-pass-123',
  snapshot: 'snapshot-pass-123',
  'targets/releases': 'delegation-pass-123',
};
export const DOCKER_PASS = (role: string): string => (role === 'root' ? 'docker-root-pass' : 'docker-repo-pass');

export function fixtureKeys(): Array<{ dir: string; name: string; id: string; pem: string; pass: string }> {
  const out = [];
  for (const dir of ['notary', 'docker']) {
    for (const name of readdirSync(path.join(VEC, dir, 'keys'))) {
      const m = /^(.+)-([0-9a-f]{64})\.key$/.exec(name);
      if (!m) continue;
      const pem = readFileSync(path.join(VEC, dir, 'keys', name), 'utf8');
      const role = inspectKeyPem(pem).meta.role;
      const pass = dir === 'notary' ? (NOTARY_PASS[role] ?? 'x') : DOCKER_PASS(role);
      out.push({ dir, name, id: m[2] as string, pem, pass });
    }
  }
  return out;
}

export function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(isSignetError(err) ? err.code : err).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

export async function signVerifies(key: PrivateKey): Promise<boolean> {
  const signer = localSigner(key.keyObject, key.publicKey);
  const data = Buffer.from('signet test message');
  const { method, sig } = await signer.sign(data);
  return verifySignature(key.publicKey, method, data, sig);
}
