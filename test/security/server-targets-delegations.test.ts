/**
 * Attacks on the server's targets and delegation checks (N:server/handlers/validation.go, N:tuf/data/targets.go).
 * Every attempt ends in a 4xx with notary's error code; the accepted variants are the ones notary accepts too.
 */
import { describe, expect, it } from 'vitest';
import { canonicalJson, serializeEnvelope, signMetadata } from '../../src/tuf/index.js';
import { TestRepo, ecdsaKey, expectInvalidUpdate, expectRefused, keyOf, serverSuite } from './helpers.js';
import { THRESHOLD_MSG, sigOver, targetsBody } from './server-targets-helpers.js';

const suite = serverSuite('example.com/sec-targets/r');
const { fresh, initialised, published } = suite;

describe('targets and delegations', () => {
  it('targets signed by the (client-held) snapshot key: ErrBadTargets threshold', async () => {
    const repo = await new TestRepo(suite.srv, fresh()).init();
    await repo.signDirty(new Map([['targets', [repo.snapshotKey!.signer]]]));
    repo.dirty.clear();
    repo.dirty.add('root');
    const parts = await repo.parts(); // root + snapshot (listing the forged targets)
    parts.push(['targets', repo.files.get('targets') as Buffer]);
    expectInvalidUpdate(await repo.post(parts), 'ErrBadTargets', THRESHOLD_MSG('targets'));
  });

  it('targets/a/b uploaded when targets/a does not delegate it: ErrBadTargets', async () => {
    const repo = await initialised();
    repo.addDelegation('targets/a', [ecdsaKey()]);
    expect((await repo.publish()).statusCode).toBe(200);
    const k = ecdsaKey();
    const md = await signMetadata('targets/a/b', targetsBody(1), [k.signer]);
    expectInvalidUpdate(
      await repo.post([['targets/a/b', md.bytes]]),
      'ErrBadTargets',
      'tuf: invalid role targets/a/b. delegation does not exist',
    );
    // nor when its parent does not exist at all
    const orphan = await signMetadata('targets/x/y', targetsBody(1), [k.signer]);
    expectInvalidUpdate(
      await repo.post([['targets/x/y', orphan.bytes]]),
      'ErrBadTargets',
      'tuf: invalid role targets/x/y. parent role targets/x does not exist',
    );
  });

  it('a delegation that claims wider paths than its parent cannot sign outside the parent: ErrBadTargets', async () => {
    const repo = await initialised();
    repo.addDelegation('targets/a', [ecdsaKey()], ['team/']);
    repo.addDelegation('targets/a/b', [ecdsaKey()], ['', 'other/'], 'targets/a');
    repo.addTarget('team/ok', 'x', 'targets/a/b');
    expect((await repo.publish()).statusCode).toBe(200);
    repo.addTarget('other/evil', 'x', 'targets/a/b');
    expectInvalidUpdate(await repo.publish(), 'ErrBadTargets', /outside the paths delegated to targets\/a\/b/);
  });

  it.each([
    ['targets/../root'],
    ['targets//x'],
    ['targets/X'],
    ['targets/x/'],
    ['targets/./x'],
    ['targets/' + 'a'.repeat(249)],
    ['targets/a/targets'.replace('/targets', '/b c')],
    ['targets/a\\b'],
  ])('delegation role name %j in a parent: ErrBadTargets (malformed delegation)', async (name) => {
    const repo = await published();
    const k = ecdsaKey();
    const body = targetsBody(2, {
      delegations: {
        keys: { [k.pub.id]: keyOf(k.pub) },
        roles: [{ keyids: [k.pub.id], name, paths: [''], threshold: 1 }],
      },
    });
    const md = await signMetadata('targets', body, [repo.targetsKey.signer]).catch(() => undefined);
    // signMetadata refuses to sign it; an attacker writes the envelope itself
    expect(md).toBeUndefined();
    const bytes = serializeEnvelope(body, [await sigOver(canonicalJson(body as never), repo.targetsKey.signer)]);
    expectInvalidUpdate(await repo.post([['targets', bytes]]), 'ErrBadTargets', /not a valid delegation role name/);
  });

  it('a grandchild listed directly under targets: ErrBadTargets (not a direct child)', async () => {
    const repo = await published();
    const k = ecdsaKey();
    const body = targetsBody(2, {
      delegations: {
        keys: { [k.pub.id]: keyOf(k.pub) },
        roles: [{ keyids: [k.pub.id], name: 'targets/a/b', paths: [''], threshold: 1 }],
      },
    });
    const bytes = serializeEnvelope(body, [await sigOver(canonicalJson(body as never), repo.targetsKey.signer)]);
    expectInvalidUpdate(await repo.post([['targets', bytes]]), 'ErrBadTargets', /is not a direct child of targets/);
  });

  it.each([
    ['targets/../root'],
    ['targets//x'],
    ['targets/X'],
    ['targets/x/'],
    ['../root'],
    ['/targets'],
    ['targets/' + 'a'.repeat(300)],
    ['targets/a\\..\\..\\root'],
    ['timestamp/../root'],
  ])('upload part named %j: 400 INVALID_ROLE', async (name) => {
    const repo = await published();
    const r = await repo.post([[name, repo.files.get('targets') as Buffer]]);
    expectRefused(r, 400, 'INVALID_ROLE');
  });
});
