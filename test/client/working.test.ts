// Applying staged changes and signing what they touched (N:client/client.go), on in-memory keys.
import { describe, expect, it } from 'vitest';
import { WorkingRepo, signRoot, signTargets, type KeySource } from '../../src/client/index.js';
import { generatePrivateKey, type PrivateKey } from '../../src/keys/index.js';
import {
  certificatePublicKey,
  createRootCertificate,
  localSigner,
  newRoot,
  newTargets,
  publicKeyToJson,
  signMetadata,
  type PublicKey,
} from '../../src/tuf/index.js';

const GUN = 'example.com/team/app';
const NOW = new Date('2026-11-25T20:00:00Z');

async function fixture(): Promise<{ work: () => WorkingRepo; keys: Map<string, PrivateKey>; rootPub: PublicKey }> {
  const keys = new Map<string, PrivateKey>();
  const rootKey = generatePrivateKey();
  const rootPub = certificatePublicKey(await createRootCertificate(GUN, rootKey.keyObject, NOW));
  const targets = generatePrivateKey();
  const snapshot = generatePrivateKey();
  const timestamp = generatePrivateKey();
  for (const k of [rootKey, targets, snapshot]) keys.set(k.publicKey.canonicalId, k);
  const role = (k: PublicKey): { keyids: string[]; threshold: number } => ({ keyids: [k.id], threshold: 1 });
  const root = await signMetadata(
    'root',
    newRoot(
      [rootPub, targets.publicKey, snapshot.publicKey, timestamp.publicKey],
      {
        root: role(rootPub),
        targets: role(targets.publicKey),
        snapshot: role(snapshot.publicKey),
        timestamp: role(timestamp.publicKey),
      },
      '2036-01-01T00:00:00Z',
    ),
    [localSigner(rootKey.keyObject, rootPub)],
  );
  const tmd = await signMetadata('targets', newTargets('2029-01-01T00:00:00Z', 3), [
    localSigner(targets.keyObject, targets.publicKey),
  ]);
  const source: KeySource = {
    has: async (id) => keys.has(id),
    signer: async (pk) => {
      const k = keys.get(pk.canonicalId);
      return k ? localSigner(k.keyObject, pk) : undefined;
    },
  };
  return {
    work: () => new WorkingRepo({ gun: GUN, root, targets: tmd, delegations: new Map(), snapshot: undefined }, source),
    keys,
    rootPub,
  };
}

const meta = { hashes: { sha256: Buffer.alloc(32, 9).toString('base64') }, length: 100 };

/** Stages a new delegation `role` to a fresh key (held in `keys` when given) for `paths`; returns the key. */
async function delegate(
  w: WorkingRepo,
  role: string,
  paths: string[],
  keys?: Map<string, PrivateKey>,
): Promise<PrivateKey> {
  const k = generatePrivateKey();
  keys?.set(k.publicKey.canonicalId, k);
  await w.apply({
    action: 'create',
    role,
    type: 'delegation',
    path: '',
    edit: { threshold: 1, addKeys: [publicKeyToJson(k.publicKey)], addPaths: paths },
  });
  return k;
}

/** Stages target `path` in `role`. */
const addTarget = (w: WorkingRepo, role: string, path: string): Promise<void> =>
  w.apply({ type: 'target', action: 'create', role, path, meta });

describe('WorkingRepo', () => {
  it('adds a delegation and a target in it; both files are signed at the next version', async () => {
    const { work, keys } = await fixture();
    const w = work();
    const alice = generatePrivateKey();
    keys.set(alice.publicKey.canonicalId, alice);
    await w.apply({
      action: 'create',
      role: 'targets/alice',
      type: 'delegation',
      path: '',
      edit: { threshold: 1, addKeys: [publicKeyToJson(alice.publicKey)] },
    });
    await w.apply({
      action: 'create',
      role: 'targets/alice',
      type: 'delegation',
      path: '',
      edit: { addPaths: [''] },
    });
    await addTarget(w, 'targets/alice', 'v1');
    expect([...w.dirty].sort()).toEqual(['targets', 'targets/alice']);
    const t = await signTargets(w, 'targets', NOW);
    expect(t.signed.version).toBe(4);
    expect(t.signed.delegations.roles).toEqual([
      { keyids: [alice.publicKey.id], name: 'targets/alice', paths: [''], threshold: 1 },
    ]);
    const a = await signTargets(w, 'targets/alice', NOW);
    expect(a.signed.version).toBe(1);
    expect(a.signed.targets.v1).toEqual(meta);
    expect(a.signatures.map((s) => s.keyid)).toEqual([alice.publicKey.id]);
  });

  it('refuses a target in a role whose key is not held', async () => {
    const { work } = await fixture();
    const w = work();
    await delegate(w, 'targets/bob', ['']);
    await expect(addTarget(w, 'targets/bob', 'v1')).rejects.toMatchObject({ code: 'KEY_NOT_FOUND' });
  });

  it('refuses a target outside the delegated paths', async () => {
    const { work, keys } = await fixture();
    const w = work();
    await delegate(w, 'targets/ci', ['ci-'], keys);
    await expect(addTarget(w, 'targets/ci', 'release')).rejects.toMatchObject({ code: 'INVALID_ROLE' });
    await addTarget(w, 'targets/ci', 'ci-42');
  });

  it('deleting a delegation prunes its now unused keys', async () => {
    const { work, keys } = await fixture();
    const w = work();
    await delegate(w, 'targets/x', [''], keys);
    await w.apply({ type: 'delegation', action: 'delete', role: 'targets/x', path: '' });
    const t = await signTargets(w, 'targets', NOW);
    expect(t.signed.delegations).toEqual({ keys: {}, roles: [] });
  });

  it('a root rotation is signed by the old and the new root key', async () => {
    const { work, keys, rootPub } = await fixture();
    const w = work();
    const next = generatePrivateKey();
    keys.set(next.publicKey.canonicalId, next);
    const nextPub = certificatePublicKey(await createRootCertificate(GUN, next.keyObject, NOW));
    await w.apply({
      action: 'create',
      role: 'root',
      type: 'role',
      path: 'root',
      baseRole: 'root',
      keys: [publicKeyToJson(nextPub)],
    });
    const r = await signRoot(w, NOW);
    expect(r.signed.version).toBe(2);
    expect(r.signed.roles.root?.keyids).toEqual([nextPub.id]);
    expect(Object.keys(r.signed.keys)).toContain(rootPub.id); // old cert stays listed
    expect(r.signatures.map((s) => s.keyid).sort()).toEqual([rootPub.id, nextPub.id].sort());
  });
});

describe('WorkingRepo target names', () => {
  it('stages a target named __proto__ as an ordinary target, without touching the prototype', async () => {
    const { work } = await fixture();
    const w = work();
    await addTarget(w, 'targets', '__proto__');
    await addTarget(w, 'targets', 'v1');
    const t = w.targets.get('targets')!.targets;
    expect(Object.keys(t).sort()).toEqual(['__proto__', 'v1']);
    expect(Object.getPrototypeOf(t)).toBe(Object.prototype);
    await w.apply({ type: 'target', action: 'delete', role: 'targets', path: '__proto__' });
    expect(Object.keys(t)).toEqual(['v1']);
  });
});
