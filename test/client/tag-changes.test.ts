// Which tags resolve differently after the trust data changed (signer remove, revoke): Docker's
// resolution before and after, on real metadata from the simulated trust server.
import { describe, expect, it } from 'vitest';
import { tagChanges } from '../../src/client/index.js';
import { simWorlds } from '../simulator/world.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const { world } = simWorlds({ gun: 'example.com/tags/app', digest: 'c'.repeat(64) });

describe('tagChanges', () => {
  it('reports old → new digest, and tags no longer signed; unchanged tags are not listed', async () => {
    const w = await world({
      setup: (r) => {
        r.addDelegation('targets/releases');
        r.setTarget('v1', A, 10, 'targets/releases');
        r.setTarget('v1', B, 20); // also in targets, shadowed by releases
        r.setTarget('v2', A, 10, 'targets/releases');
      },
    });
    const before = await w.client.refresh();
    // the releases role goes (its only signer was removed): v1 falls back to targets, v2 is unsigned
    w.repo.delegations.delete('targets/releases');
    await w.repo.publish();
    const after = await w.client.refresh();
    expect(tagChanges(before, after)).toEqual([
      { tag: 'v1', before: `sha256:${A}`, after: `sha256:${B}` },
      { tag: 'v2', before: `sha256:${A}`, after: null },
    ]);
    expect(tagChanges(after, after)).toEqual([]);
  });
});
