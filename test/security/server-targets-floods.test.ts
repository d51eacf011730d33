/**
 * Signature-check floods against the server's upload validation (N:server/handlers/validation.go).
 * Every attempt ends in a 4xx with notary's error code; the accepted variants are the ones notary accepts too.
 */
import { describe, expect, it } from 'vitest';
import { canonicalJson, serializeEnvelope, signMetadata } from '../../src/tuf/index.js';
import { ecdsaKey, expectInvalidUpdate, serverSuite } from './helpers.js';
import { sigOver, targetsBody } from './server-targets-helpers.js';

const suite = serverSuite('example.com/sec-targets/r');
const { published } = suite;

describe('signature-check floods', () => {
  it('a delegation listing 257 keys is refused: ErrBadTargets', async () => {
    const repo = await published();
    const keys = Array.from({ length: 257 }, () => ecdsaKey());
    repo.addDelegation('targets/wide', keys);
    repo.targets.version++;
    const t = repo.targets;
    const bytes = serializeEnvelope(t, [await sigOver(canonicalJson(t as never), repo.targetsKey.signer)]);
    expectInvalidUpdate(
      await repo.post([['targets', bytes]]),
      'ErrBadTargets',
      /lists 257 keys; at most 256 are allowed/,
    );
  });

  it('80 delegation parts each validly signed by 256 keys are refused within the per-update check budget', async () => {
    // the role name is not in the body: one body signed once by the attacker's 256 keys serves as all
    // 80 parts, and the server would check 20,480 signatures (~6 s of its one event loop)
    const repo = await published();
    const keys = Array.from({ length: 256 }, () => ecdsaKey());
    const roles = Array.from({ length: 80 }, (_, i) => `targets/r${i}`);
    for (const r of roles) repo.addDelegation(r, keys);
    for (const r of roles) {
      const d = repo.targets.delegations.roles?.find((x) => x.name === r);
      if (d !== undefined) d.threshold = 256;
    }
    repo.dirty = new Set(['targets']);
    const ok = await repo.publish();
    expect(ok.statusCode, ok.body).toBe(200);
    const md = await signMetadata(
      'targets/r0',
      targetsBody(1),
      keys.map((k) => k.signer),
    );
    const t0 = Date.now();
    const r = await repo.post(roles.map((role) => [role, md.bytes]));
    const ms = Date.now() - t0;
    expectInvalidUpdate(r, 'ErrBadTargets', /targets\/r\d+: the signature checks of this update went over the budget/);
    expect(ms).toBeLessThan(2500);
  });
});
