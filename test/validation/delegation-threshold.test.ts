/**
 * validateUpdate on a delegation with threshold 2 (N:server/handlers/validation.go loads each
 * uploaded targets role through the builder, which wants a threshold of the delegation's keys):
 * one signature, or one key under two IDs, is refused; two holders' keys are accepted.
 */
import { describe, expect, it } from 'vitest';
import { fileMeta, newRoot, newTargets, signMetadata, type Signer, type TargetsSigned } from '../../src/tuf/index.js';
import { ValidationError, validateUpdate } from '../../src/validation/index.js';
import { twinKey } from '../security/keys.js';
import { ecdsaKey, keyOf, rootKey, type KeyPair } from '../server/helpers.js';

const GUN = 'example.com/threshold/app';
const NOW = new Date();
const future = (): Date => new Date(NOW.getTime() + 3 * 365 * 24 * 3600 * 1000);

async function world(delegates: { pub: KeyPair['pub'] }[]) {
  const root = await rootKey(GUN);
  const targets = ecdsaKey();
  const snapshot = ecdsaKey();
  const timestamp = ecdsaKey();
  const r = newRoot(
    [root.pub, targets.pub, snapshot.pub, timestamp.pub],
    {
      root: { keyids: [root.pub.id], threshold: 1 },
      targets: { keyids: [targets.pub.id], threshold: 1 },
      snapshot: { keyids: [snapshot.pub.id], threshold: 1 },
      timestamp: { keyids: [timestamp.pub.id], threshold: 1 },
    },
    future(),
    1,
  );
  const t = newTargets(future(), 1);
  t.delegations = {
    keys: Object.fromEntries(delegates.map((d) => [d.pub.id, keyOf(d.pub)])),
    roles: [{ keyids: delegates.map((d) => d.pub.id), name: 'targets/releases', paths: [''], threshold: 2 }],
  };
  const rootMd = await signMetadata('root', r, [root.signer]);
  const parent = await signMetadata('targets', t, [targets.signer]);
  return { stored: { root: rootMd.bytes, targets: new Map([['targets', parent.bytes]]) } };
}

async function releases(signers: Signer[]): Promise<Buffer> {
  const t: TargetsSigned = newTargets(future(), 1);
  t.targets.v1 = fileMeta(Buffer.from('image manifest'));
  return (await signMetadata('targets/releases', t, signers)).bytes;
}

function verdict(stored: Awaited<ReturnType<typeof world>>['stored'], bytes: Buffer): string {
  try {
    validateUpdate({
      gun: GUN,
      stored,
      uploaded: new Map([['targets/releases', bytes]]),
      now: NOW,
      serverHoldsSnapshotKey: true,
    });
    return 'accepted';
  } catch (e) {
    if (e instanceof ValidationError) return `${e.notaryName}: ${e.msg}`;
    throw e;
  }
}

describe('a delegation with threshold 2 on the server', () => {
  it('refuses one valid signature of two', async () => {
    const [a, b] = [ecdsaKey(), ecdsaKey()];
    const { stored } = await world([a, b]);
    expect(verdict(stored, await releases([a.signer]))).toBe(
      'ErrBadTargets: valid signatures did not meet threshold for targets/releases',
    );
  });

  it('refuses one private key listed under two key IDs', async () => {
    const a = ecdsaKey();
    const twin = twinKey(a.priv, a.pub);
    const { stored } = await world([a, twin]);
    expect(verdict(stored, await releases([a.signer, twin.signer]))).toMatch(/^ErrBadTargets: .*threshold/);
  });

  it('accepts the signatures of two distinct keys', async () => {
    const [a, b] = [ecdsaKey(), ecdsaKey()];
    const { stored } = await world([a, b]);
    expect(verdict(stored, await releases([a.signer, b.signer]))).toBe('accepted');
  });
});
