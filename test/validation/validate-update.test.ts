/** validateUpdate: notary-server's checks (N:server/handlers/validation.go) as a pure function, one behaviour per test. */
import { describe, expect, it } from 'vitest';
import {
  fileMeta,
  formatExpires,
  newRoot,
  newTargets,
  signMetadata,
  type Metadata,
  type RootSigned,
  type SnapshotSigned,
  type TargetsSigned,
} from '../../src/tuf/index.js';
import {
  ValidationError,
  nextSnapshot,
  nextTimestamp,
  requiredStoredRoles,
  validateUpdate,
  type ValidateUpdateInput,
} from '../../src/validation/index.js';
import { ecdsaKey, keyOf, rootKey, type KeyPair } from '../server/helpers.js';

const GUN = 'example.com/v/app';
const NOW = new Date();
const YEAR = 365 * 24 * 3600 * 1000;
const future = (y = 3) => new Date(NOW.getTime() + y * YEAR);

interface Keys {
  root: KeyPair;
  targets: KeyPair;
  snapshot: KeyPair;
  timestamp: KeyPair;
}

async function keys(cn = GUN): Promise<Keys> {
  return { root: await rootKey(cn), targets: ecdsaKey(), snapshot: ecdsaKey(), timestamp: ecdsaKey() };
}

function rootBody(k: Keys, version = 1, expires: Date = future(10)): RootSigned {
  return newRoot(
    [k.root.pub, k.targets.pub, k.snapshot.pub, k.timestamp.pub],
    {
      root: { keyids: [k.root.pub.id], threshold: 1 },
      targets: { keyids: [k.targets.pub.id], threshold: 1 },
      snapshot: { keyids: [k.snapshot.pub.id], threshold: 1 },
      timestamp: { keyids: [k.timestamp.pub.id], threshold: 1 },
    },
    expires,
    version,
  );
}

async function targets(
  k: KeyPair,
  mutate: (t: TargetsSigned) => void = () => {},
  role = 'targets',
  expires = future(),
): Promise<Metadata> {
  const t = newTargets(expires, 1);
  mutate(t);
  return signMetadata(role, t, [k.signer]);
}

/** Makes targets delegate `targets/releases` to `d` for `paths`. */
function delegatingTo(d: KeyPair, paths: string[]): (t: TargetsSigned) => void {
  return (t) => {
    t.delegations = {
      keys: { [d.pub.id]: keyOf(d.pub) },
      roles: [{ keyids: [d.pub.id], name: 'targets/releases', paths, threshold: 1 }],
    };
  };
}

/** A version-1 snapshot listing `meta`, signed by the snapshot key of `k`. */
function signedSnapshot(k: Keys, meta: SnapshotSigned['meta']): Promise<Metadata> {
  return signMetadata('snapshot', { _type: 'Snapshot', expires: formatExpires(future()), meta, version: 1 }, [
    k.snapshot.signer,
  ]);
}

/** The root of `k` at version 1, signed by its root key. */
function signedRoot(k: Keys): Promise<Metadata> {
  return signMetadata('root', rootBody(k), [k.root.signer]);
}

/** An update of `uploaded` (in this order) over `stored`, now. */
function upload(
  stored: ValidateUpdateInput['stored'],
  uploaded: [string, Buffer][],
  serverHoldsSnapshotKey?: ValidateUpdateInput['serverHoldsSnapshotKey'],
): ValidateUpdateInput {
  return {
    gun: GUN,
    stored,
    uploaded: new Map(uploaded),
    now: NOW,
    ...(serverHoldsSnapshotKey !== undefined && { serverHoldsSnapshotKey }),
  };
}

function expectRejected(input: ValidateUpdateInput, name: string, msg?: string | RegExp): ValidationError {
  try {
    validateUpdate(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    const e = err as ValidationError;
    expect(e.notaryName).toBe(name);
    if (typeof msg === 'string') expect(e.msg).toBe(msg);
    else if (msg) expect(e.msg).toMatch(msg);
    return e;
  }
  throw new Error('expected a ValidationError');
}

describe('validateUpdate', () => {
  it('accepts a first publish (root, targets, snapshot) and plans only the timestamp', async () => {
    const k = await keys();
    const root = await signedRoot(k);
    const t = await targets(k.targets);
    const sn = await signedSnapshot(k, { root: fileMeta(root.bytes), targets: fileMeta(t.bytes) });
    const plan = validateUpdate(
      upload({}, [
        ['root', root.bytes],
        ['targets', t.bytes],
        ['snapshot', sn.bytes],
        ['timestamp', Buffer.from('ignored')],
      ]),
    );
    expect(plan.accepted.map((a) => a.role)).toEqual(['root', 'targets', 'snapshot']);
    expect(plan.snapshotToSign).toBeUndefined();
    expect(plan.snapshotBytes?.equals(sn.bytes)).toBe(true);
    expect(plan.previousTimestamp).toBeUndefined();
  });

  it('refuses an update with no root anywhere (ErrValidation)', async () => {
    const k = await keys();
    const t = await targets(k.targets);
    expectRejected(
      upload({}, [['targets', t.bytes]]),
      'ErrValidation',
      'no pre-existing root and no root provided in update.',
    );
  });

  it('plans a server snapshot listing root and every loaded targets role when none is uploaded', async () => {
    const k = await keys();
    const root = await signedRoot(k);
    const t = await targets(k.targets);
    const plan = validateUpdate(
      upload(
        {},
        [
          ['root', root.bytes],
          ['targets', t.bytes],
        ],
        true,
      ),
    );
    expect(plan.snapshotToSign?.version).toBe(1);
    expect(plan.snapshotToSign?.meta).toEqual({ root: fileMeta(root.bytes), targets: fileMeta(t.bytes) });
  });

  it('refuses a snapshot-less update when the server holds no snapshot key (ErrBadHierarchy)', async () => {
    const k = await keys();
    const root = await signedRoot(k);
    const t = await targets(k.targets);
    const e = expectRejected(
      upload(
        {},
        [
          ['root', root.bytes],
          ['targets', t.bytes],
        ],
        () => false,
      ),
      'ErrBadHierarchy',
    );
    expect(e.serializable()).toEqual({ Name: 'ErrBadHierarchy', Error: { Missing: 'snapshot', Msg: e.msg } });
  });

  it('refuses a root not signed by its own key (ErrBadRoot)', async () => {
    const k = await keys();
    const other = await rootKey(GUN);
    const root = await signMetadata('root', rootBody(k), [other.signer]);
    expectRejected(upload({}, [['root', root.bytes]]), 'ErrBadRoot', /could not validate the path to a trusted root/);
  });

  it('refuses an expired root (ErrBadRoot)', async () => {
    const k = await keys();
    const root = await signMetadata('root', rootBody(k, 1, new Date(NOW.getTime() - 1000)), [k.root.signer]);
    expectRejected(upload({}, [['root', root.bytes]]), 'ErrBadRoot', /expired/);
  });

  it('refuses a root with a plain ecdsa root key (no certificate)', async () => {
    const k = await keys();
    const plain = ecdsaKey();
    const body = rootBody(k);
    body.keys[plain.pub.id] = keyOf(plain.pub);
    body.roles.root = { keyids: [plain.pub.id], threshold: 1 };
    const root = await signMetadata('root', body, [plain.signer]);
    expectRejected(upload({}, [['root', root.bytes]]), 'ErrBadRoot', /unable to retrieve valid leaf certificates/);
  });

  it('refuses a root rotation not signed by the previous root key, accepts it when it is', async () => {
    const k = await keys();
    const v1 = await signedRoot(k);
    const k2 = { ...k, root: await rootKey(GUN) };
    const bad = await signMetadata('root', rootBody(k2, 2), [k2.root.signer]);
    expectRejected(upload({ root: v1.bytes }, [['root', bad.bytes]], true), 'ErrBadRoot', /rotate/);
    const good = await signMetadata('root', rootBody(k2, 2), [k2.root.signer, k.root.signer]);
    const t = await targets(k.targets);
    const plan = validateUpdate(
      upload(
        { root: v1.bytes },
        [
          ['root', good.bytes],
          ['targets', t.bytes],
        ],
        true,
      ),
    );
    expect(plan.rootChanged).toBe(true);
    expect(plan.root.signed.version).toBe(2);
  });

  it('refuses expired uploaded targets but accepts expired stored ancestors', async () => {
    const k = await keys();
    const root = await signedRoot(k);
    const old = await targets(k.targets, () => {}, 'targets', new Date(NOW.getTime() - 1000));
    expectRejected(upload({ root: root.bytes }, [['targets', old.bytes]], true), 'ErrBadTargets', /expired/);
    const d = ecdsaKey();
    const parent = await targets(k.targets, delegatingTo(d, ['']), 'targets', new Date(NOW.getTime() - 1000));
    const rel = await targets(d, (t) => (t.targets.v1 = fileMeta(Buffer.from('x'))), 'targets/releases');
    const plan = validateUpdate(
      upload(
        { root: root.bytes, targets: new Map([['targets', parent.bytes]]) },
        [['targets/releases', rel.bytes]],
        true,
      ),
    );
    expect(plan.loadedTargets).toEqual(['targets', 'targets/releases']);
    expect(Object.keys(plan.snapshotToSign?.meta ?? {}).sort()).toEqual(['root', 'targets', 'targets/releases']);
  });

  it('refuses a delegation whose parent does not delegate to it (ErrBadTargets)', async () => {
    const k = await keys();
    const root = await signedRoot(k);
    const parent = await targets(k.targets);
    const rel = await targets(ecdsaKey(), () => {}, 'targets/releases');
    expectRejected(
      upload({ root: root.bytes, targets: new Map([['targets', parent.bytes]]) }, [['targets/releases', rel.bytes]]),
      'ErrBadTargets',
      /delegation does not exist/,
    );
  });

  it('refuses a delegation target outside its paths, accepts one inside', async () => {
    const k = await keys();
    const root = await signedRoot(k);
    const d = ecdsaKey();
    const parent = await targets(k.targets, delegatingTo(d, ['prod/']));
    const stored = { root: root.bytes, targets: new Map([['targets', parent.bytes]]) };
    const inside = await targets(d, (t) => (t.targets['prod/x'] = fileMeta(Buffer.from('x'))), 'targets/releases');
    expect(() => validateUpdate(upload(stored, [['targets/releases', inside.bytes]], true))).not.toThrow();
    const outside = await targets(d, (t) => (t.targets['dev/x'] = fileMeta(Buffer.from('x'))), 'targets/releases');
    expectRejected(upload(stored, [['targets/releases', outside.bytes]], true), 'ErrBadTargets', /outside the paths/);
  });

  it('refuses a snapshot that does not list the stored root (ErrBadSnapshot)', async () => {
    const k = await keys();
    const root = await signedRoot(k);
    const t = await targets(k.targets);
    const sn = await signedSnapshot(k, { root: fileMeta(Buffer.from('other')), targets: fileMeta(t.bytes) });
    expectRejected(
      upload({ root: root.bytes }, [
        ['targets', t.bytes],
        ['snapshot', sn.bytes],
      ]),
      'ErrBadSnapshot',
    );
  });

  it('names the stored roles it needs: root, snapshot, timestamp and every ancestor of an uploaded delegation', () => {
    expect(requiredStoredRoles(['targets/a/b', 'root']).sort()).toEqual([
      'root',
      'snapshot',
      'targets',
      'targets/a',
      'timestamp',
    ]);
  });

  it('generates bodies with notary expiries and versions: snapshot +3 y, timestamp +14 d', () => {
    const sn = nextSnapshot(undefined, new Map([['root', Buffer.from('r')]]), NOW);
    expect(sn.version).toBe(1);
    expect(Date.parse(sn.expires) - NOW.getTime()).toBe(3 * YEAR);
    const ts = nextTimestamp(
      {
        _type: 'Timestamp',
        expires: '2000-01-01T00:00:00Z',
        meta: { snapshot: fileMeta(Buffer.from('a')) },
        version: 4,
      },
      Buffer.from('b'),
      NOW,
    );
    expect(ts.version).toBe(5);
    expect(ts.meta.snapshot).toEqual(fileMeta(Buffer.from('b')));
    expect(Date.parse(ts.expires) - NOW.getTime()).toBe(14 * 24 * 3600 * 1000);
  });
});
