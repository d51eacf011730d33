/**
 * One verdict: the same crafted metadata goes to the client's TrustedSet (src/updater) and to the
 * server's validateUpdate (src/validation), and both must reach the same verdict with the same error
 * code. Both call the one core in src/tuf/verify-core.ts; each case also names the verdict it expects,
 * so a drift of either side (or of both the same wrong way) fails here.
 */
import { describe, expect, it } from 'vitest';
import { isSignetError } from '../../src/errors.js';
import {
  fileMeta,
  newRoot,
  newSnapshot,
  newTargets,
  newTimestamp,
  parseGun,
  serializeEnvelope,
  signMetadata,
  type Metadata,
  type PublicKey,
  type RootSigned,
  type Signer,
  type TargetsSigned,
} from '../../src/tuf/index.js';
import { TrustedSet } from '../../src/updater/index.js';
import { validateUpdate } from '../../src/validation/index.js';
import { ecdsaKey, keyOf, rootKey, type KeyPair } from '../server/helpers.js';
import { twinKey } from '../security/keys.js';

const GUN = parseGun('example.com/one/verdict');
const NOW = new Date();
const YEAR = 365 * 24 * 3600 * 1000;
const future = (y = 3): Date => new Date(NOW.getTime() + y * YEAR);

type Verdict = 'accepted' | `refused:${string}`;

function verdictOf(run: () => unknown): Verdict {
  try {
    run();
    return 'accepted';
  } catch (err) {
    if (isSignetError(err)) return `refused:${err.code}`;
    throw err;
  }
}

interface World {
  root: KeyPair;
  targets: KeyPair;
  snapshot: KeyPair;
  timestamp: KeyPair;
}

async function world(): Promise<World> {
  return { root: await rootKey(GUN), targets: ecdsaKey(), snapshot: ecdsaKey(), timestamp: ecdsaKey() };
}

/** A root body: `rootKeys` sign root with `rootThreshold`; `targetsIds` (may repeat) sign targets. */
function rootBody(
  w: World,
  opts: {
    version?: number;
    rootKeys?: PublicKey[];
    rootThreshold?: number;
    targetsKeys?: PublicKey[];
    targetsIds?: string[];
    targetsThreshold?: number;
  } = {},
): RootSigned {
  const rootKeys = opts.rootKeys ?? [w.root.pub];
  const targetsKeys = opts.targetsKeys ?? [w.targets.pub];
  return newRoot(
    [...rootKeys, ...targetsKeys, w.snapshot.pub, w.timestamp.pub],
    {
      root: { keyids: rootKeys.map((k) => k.id), threshold: opts.rootThreshold ?? 1 },
      targets: { keyids: opts.targetsIds ?? targetsKeys.map((k) => k.id), threshold: opts.targetsThreshold ?? 1 },
      snapshot: { keyids: [w.snapshot.pub.id], threshold: 1 },
      timestamp: { keyids: [w.timestamp.pub.id], threshold: 1 },
    },
    future(10),
    opts.version ?? 1,
  );
}

async function signed(role: string, body: RootSigned | TargetsSigned, signers: Signer[]): Promise<Buffer> {
  return (await signMetadata(role, body, signers)).bytes;
}

/** The envelope of `md` with each of its signatures listed twice. */
function doubled(md: Metadata): Buffer {
  return serializeEnvelope(
    md.signed,
    md.signatures.flatMap((s) => [s, { ...s }]),
  );
}

/** Client: a cached (trusted) root, then timestamp → snapshot → targets → delegations. */
async function clientLoads(w: World, rootBytes: Buffer, roles: [string, Buffer][]): Promise<Verdict> {
  const meta: Record<string, ReturnType<typeof fileMeta>> = { root: fileMeta(rootBytes) };
  for (const [role, bytes] of roles) meta[role] = fileMeta(bytes);
  const sn = await signMetadata('snapshot', newSnapshot(meta, future()), [w.snapshot.signer]);
  const ts = await signMetadata('timestamp', newTimestamp(fileMeta(sn.bytes), future()), [w.timestamp.signer]);
  return verdictOf(() => {
    const set = TrustedSet.fromTrustedRoot(rootBytes, { gun: GUN, now: NOW });
    set.updateTimestamp(ts.bytes);
    set.updateSnapshot(sn.bytes);
    for (const [role, bytes] of roles) set.updateDelegation(role, bytes);
  });
}

/** Server: the same roles published over the stored root. */
function serverLoads(rootBytes: Buffer, roles: [string, Buffer][]): Verdict {
  return verdictOf(() =>
    validateUpdate({
      gun: GUN,
      now: NOW,
      stored: { root: rootBytes },
      uploaded: new Map(roles),
      serverHoldsSnapshotKey: true,
    }),
  );
}

/** Client: rotate from the cached root to `next` (the final root of a refresh). */
function clientRotates(previous: Buffer, next: Buffer): Verdict {
  return verdictOf(() =>
    TrustedSet.fromTrustedRoot(previous, { gun: GUN, now: NOW }).updateRoot(next, { final: true }),
  );
}

/** Server: `next` published over the stored `previous` root. */
async function serverRotates(w: World, previous: Buffer, next: Buffer): Promise<Verdict> {
  const storedTargets = await signed('targets', newTargets(future(), 1), [w.targets.signer]);
  const storedSnapshot = await signMetadata(
    'snapshot',
    newSnapshot({ root: fileMeta(previous), targets: fileMeta(storedTargets) }, future()),
    [w.snapshot.signer],
  );
  return verdictOf(() =>
    validateUpdate({
      gun: GUN,
      now: NOW,
      stored: { root: previous, snapshot: storedSnapshot.bytes },
      uploaded: new Map([['root', next]]),
      serverHoldsSnapshotKey: true,
    }),
  );
}

async function bothLoad(w: World, rootBytes: Buffer, roles: [string, Buffer][]): Promise<[Verdict, Verdict]> {
  return [await clientLoads(w, rootBytes, roles), serverLoads(rootBytes, roles)];
}

async function bothRotate(w: World, previous: Buffer, next: Buffer): Promise<[Verdict, Verdict]> {
  return [clientRotates(previous, next), await serverRotates(w, previous, next)];
}

describe('one verdict: client TrustedSet and server validateUpdate agree on the same metadata', () => {
  describe('a threshold-2 role "met" by one key', () => {
    it('refuses a key listed twice in the role, its signature listed twice', async () => {
      const w = await world();
      const root = await signed(
        'root',
        rootBody(w, { targetsIds: [w.targets.pub.id, w.targets.pub.id], targetsThreshold: 2 }),
        [w.root.signer],
      );
      const targets = doubled(await signMetadata('targets', newTargets(future(), 1), [w.targets.signer]));
      expect(await bothLoad(w, root, [['targets', targets]])).toEqual(['refused:THRESHOLD', 'refused:THRESHOLD']);
    });

    it('refuses one private key listed under two key IDs (two encodings of one public key)', async () => {
      const w = await world();
      const twin = twinKey(w.targets.priv, w.targets.pub);
      const root = await signed('root', rootBody(w, { targetsKeys: [w.targets.pub, twin.pub], targetsThreshold: 2 }), [
        w.root.signer,
      ]);
      const targets = await signed('targets', newTargets(future(), 1), [w.targets.signer, twin.signer]);
      expect(await bothLoad(w, root, [['targets', targets]])).toEqual(['refused:THRESHOLD', 'refused:THRESHOLD']);
    });

    it('accepts two distinct keys', async () => {
      const w = await world();
      const second = ecdsaKey();
      const root = await signed(
        'root',
        rootBody(w, { targetsKeys: [w.targets.pub, second.pub], targetsThreshold: 2 }),
        [w.root.signer],
      );
      const targets = await signed('targets', newTargets(future(), 1), [w.targets.signer, second.signer]);
      expect(await bothLoad(w, root, [['targets', targets]])).toEqual(['accepted', 'accepted']);
    });
  });

  describe('delegations', () => {
    async function delegated(w: World, delegate: KeyPair, signer: KeyPair): Promise<[string, Buffer][]> {
      const t = newTargets(future(), 1);
      t.delegations = {
        keys: { [delegate.pub.id]: keyOf(delegate.pub) },
        roles: [{ keyids: [delegate.pub.id], name: 'targets/releases', paths: [''], threshold: 1 }],
      };
      return [
        ['targets', await signed('targets', t, [w.targets.signer])],
        ['targets/releases', await signed('targets/releases', newTargets(future(), 1), [signer.signer])],
      ];
    }

    it('refuses a delegated role signed by a key its parent does not list', async () => {
      const w = await world();
      const root = await signed('root', rootBody(w), [w.root.signer]);
      const roles = await delegated(w, ecdsaKey(), ecdsaKey());
      const [client, server] = await bothLoad(w, root, roles);
      // the client names a signature by no listed key UNKNOWN_KEY, a refinement of THRESHOLD
      expect([client, server]).toEqual(['refused:UNKNOWN_KEY', 'refused:THRESHOLD']);
    });

    it('accepts a delegated role signed by the key its parent lists', async () => {
      const w = await world();
      const root = await signed('root', rootBody(w), [w.root.signer]);
      const d = ecdsaKey();
      expect(await bothLoad(w, root, await delegated(w, d, d))).toEqual(['accepted', 'accepted']);
    });
  });

  describe('root rotation', () => {
    it('refuses a new root not signed by the old root', async () => {
      const w = await world();
      const previous = await signed('root', rootBody(w), [w.root.signer]);
      const newRootKey = await rootKey(GUN);
      const next = await signed('root', rootBody(w, { version: 2, rootKeys: [newRootKey.pub] }), [newRootKey.signer]);
      expect(await bothRotate(w, previous, next)).toEqual(['refused:ROOT_ROTATION', 'refused:ROOT_ROTATION']);
    });

    it('refuses a new root signed by the old root but not by its own key', async () => {
      const w = await world();
      const previous = await signed('root', rootBody(w), [w.root.signer]);
      const newRootKey = await rootKey(GUN);
      const next = await signed('root', rootBody(w, { version: 2, rootKeys: [newRootKey.pub] }), [w.root.signer]);
      // signed only by a key the new root does not list: UNKNOWN_KEY on the client, as for delegations
      expect(await bothRotate(w, previous, next)).toEqual(['refused:UNKNOWN_KEY', 'refused:THRESHOLD']);
    });

    it('refuses a new root signed by the old root and one of its own two keys when its threshold is 2', async () => {
      const w = await world();
      const previous = await signed('root', rootBody(w), [w.root.signer]);
      const second = await rootKey(GUN);
      const next = await signed(
        'root',
        rootBody(w, { version: 2, rootKeys: [w.root.pub, second.pub], rootThreshold: 2 }),
        [w.root.signer],
      );
      expect(await bothRotate(w, previous, next)).toEqual(['refused:THRESHOLD', 'refused:THRESHOLD']);
    });

    it('refuses a threshold-2 new root signed twice by the one old key listed twice', async () => {
      const w = await world();
      const previous = await signed('root', rootBody(w), [w.root.signer]);
      const md = await signMetadata('root', rootBody(w, { version: 2, rootKeys: [w.root.pub], rootThreshold: 2 }), [
        w.root.signer,
      ]);
      expect(await bothRotate(w, previous, doubled(md))).toEqual(['refused:THRESHOLD', 'refused:THRESHOLD']);
    });

    it('refuses a new root whose certificate is for another GUN', async () => {
      const w = await world();
      const previous = await signed('root', rootBody(w), [w.root.signer]);
      const other = await rootKey('example.com/other');
      const next = await signed('root', rootBody(w, { version: 2, rootKeys: [other.pub] }), [
        w.root.signer,
        other.signer,
      ]);
      expect(await bothRotate(w, previous, next)).toEqual(['refused:CERTIFICATE', 'refused:CERTIFICATE']);
    });

    it('accepts a new root signed by the old root and by its own key', async () => {
      const w = await world();
      const previous = await signed('root', rootBody(w), [w.root.signer]);
      const newRootKey = await rootKey(GUN);
      const next = await signed('root', rootBody(w, { version: 2, rootKeys: [newRootKey.pub] }), [
        w.root.signer,
        newRootKey.signer,
      ]);
      expect(await bothRotate(w, previous, next)).toEqual(['accepted', 'accepted']);
    });
  });
});
