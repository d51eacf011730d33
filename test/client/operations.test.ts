// Client operations in-process (Repository.publish, signTags, addSigner/removeSigner, rotateKey)
// against Signet's own server (startServer, plain HTTP on 127.0.0.1 and a free port), each with a
// throwaway trust dir: a failure here points at the function, not at a CLI process.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Repository,
  addSigner,
  delegationRoles,
  removeSigner,
  rotateKey,
  signTags,
  type InitResult,
} from '../../src/client/index.js';
import { isSignetError } from '../../src/errors.js';
import { TrustDirKeyStore, constantPassphraseRetriever, generatePrivateKey } from '../../src/keys/index.js';
import { NotaryRemote } from '../../src/remote/index.js';
import { PinStore, Updater, listSignedTags, resolveTag } from '../../src/updater/index.js';
import { startTestServer, type StartedServer } from '../server/start-helper.js';

const digestOf = (fill: number): string => `sha256:${Buffer.alloc(32, fill).toString('hex')}`;

let server: StartedServer;
let tmp: string;
const remotes: NotaryRemote[] = [];

beforeAll(async () => {
  server = await startTestServer({ insecureHttp: true });
  tmp = await mkdtemp(path.join(os.tmpdir(), 'signet-client-ops-'));
});

afterAll(async () => {
  await Promise.allSettled(remotes.map((r) => r.close()));
  await server?.dispose();
  if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
});

interface Client {
  trustDir: string;
  keyStore: TrustDirKeyStore;
  pins: PinStore;
  repo: Repository;
  updater: Updater;
}

let clients = 0;
/** A client with its own trust dir, for `gun`, on the test server. */
function client(gun: string, opts: { tofu?: boolean } = {}): Client {
  const trustDir = path.join(tmp, `c${clients++}`);
  const remote = new NotaryRemote({ serverUrl: server.url, retries: 0 });
  remotes.push(remote);
  const keyStore = new TrustDirKeyStore(trustDir, constantPassphraseRetriever('operations-test-passphrase'));
  const pins = new PinStore(trustDir);
  const updater = new Updater({ gun, remote, trustDir, pins, tofu: opts.tofu === true });
  const repo = new Repository({ gun, trustDir, remote, keyStore, reader: updater, pins });
  return { trustDir, keyStore, pins, repo, updater };
}

/** A second, read-only client pinned to the repository's root certificate. */
async function reader(gun: string, init: InitResult): Promise<Updater> {
  const c = client(gun);
  await c.pins.setCerts(gun, [init.rootCertKeyId]);
  return c.updater;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return isSignetError(e) ? e.code : String(e);
  }
}

describe('Repository.publish', () => {
  it('uploads the first root and targets, and a staged target is what other clients verify', async () => {
    const gun = 'registry.test/ops/publish';
    const c = client(gun);
    const init = await c.repo.init();
    const meta = { hashes: { sha256: Buffer.alloc(32, 7).toString('base64') }, length: 321 };
    await c.repo.stageTarget('v1', meta);
    expect(await c.repo.pending()).toHaveLength(1);

    const first = await c.repo.publish();
    expect(first.initial).toBe(true);
    expect(first.roles).toEqual(['root', 'targets']);
    expect(first.changes).toBe(1);
    expect(await c.repo.pending()).toEqual([]);

    const other = await reader(gun, init);
    const seen = await other.refresh();
    expect(resolveTag(seen, 'v1', ['targets'])).toMatchObject({ digest: digestOf(7), size: 321, role: 'targets' });

    // nothing staged: nothing uploaded
    expect(await c.repo.publish()).toEqual({ roles: [], initial: false, changes: 0 });
    // a staged removal is published as a new targets version
    await c.repo.stageRemoveTarget('v1');
    const second = await c.repo.publish();
    expect(second.roles).toEqual(['targets']);
    expect(resolveTag(await other.refresh(), 'v1', ['targets'])).toBeNull();
  });

  it('refuses to publish a repository that was never initialised: NOT_INITIALIZED', async () => {
    const c = client('registry.test/ops/never');
    await c.repo.stageTarget('v1', { hashes: { sha256: Buffer.alloc(32, 1).toString('base64') }, length: 1 });
    expect(await codeOf(c.repo.publish())).toBe('NOT_INITIALIZED');
  });
});

describe('signTags', () => {
  it('initialises a new repository and signs the tag into targets with the registry digest', async () => {
    const gun = 'registry.test/ops/sign';
    const c = client(gun);
    const res = await signTags(c.repo, [{ tag: 'v1', digest: digestOf(1), size: 100 }]);
    expect(res.initial).toBe(true);
    expect(res.signedInto).toEqual({ v1: ['targets'] });
    const seen = await c.repo.read();
    expect(listSignedTags(seen)).toEqual([expect.objectContaining({ tag: 'v1', digest: digestOf(1) })]);

    // re-signing moves the tag
    const again = await signTags(c.repo, [{ tag: 'v1', digest: digestOf(2), size: 200 }]);
    expect(again.initial).toBe(false);
    expect(resolveTag(await c.repo.read(), 'v1')).toMatchObject({ digest: digestOf(2), size: 200 });
  });

  it('refuses a digest that is not sha256 before anything is uploaded', async () => {
    const c = client('registry.test/ops/sign-bad');
    expect(await codeOf(signTags(c.repo, [{ tag: 'v1', digest: 'sha512:abc', size: 1 }]))).toBe('USAGE');
  });
});

describe('signers', () => {
  it('add: the signer’s key signs into targets/releases; remove: its role goes and its tags no longer resolve', async () => {
    const gun = 'registry.test/ops/signers';
    const admin = client(gun);
    const init = await admin.repo.init();
    await admin.repo.publish();

    // alice's key lives in her own trust dir; the admin only has her public key
    const alice = client(gun);
    const aliceKey = generatePrivateKey('ecdsa');
    await alice.keyStore.add(aliceKey, { role: 'alice' });
    await alice.pins.setCerts(gun, [init.rootCertKeyId]);

    const added = await addSigner(admin.repo, 'alice', [aliceKey.publicKey]);
    expect(added.created).toBe(false);
    expect(added.roles).toEqual(['targets']);
    const roles = delegationRoles(await admin.repo.read());
    expect(roles.map((r) => r.name).sort()).toEqual(['targets/alice', 'targets/releases']);
    for (const r of roles) expect(r.keyIds).toEqual([aliceKey.publicKey.canonicalId]);

    const signed = await signTags(alice.repo, [{ tag: 'v1', digest: digestOf(3), size: 30 }]);
    expect(signed.signedInto.v1?.sort()).toEqual(['targets/alice', 'targets/releases']);
    const other = await reader(gun, init);
    expect(resolveTag(await other.refresh(), 'v1')).toMatchObject({ digest: digestOf(3), role: 'targets/releases' });

    const removed = await removeSigner(admin.repo, 'alice');
    expect(removed.removedKeyIds).toEqual([aliceKey.publicKey.canonicalId]);
    expect(removed.tagChanges).toEqual([{ tag: 'v1', before: digestOf(3), after: null }]);
    const after = await other.refresh();
    expect(delegationRoles(after)).toEqual([]);
    expect(resolveTag(after, 'v1')).toBeNull();
    // and alice can no longer sign
    expect(await codeOf(signTags(alice.repo, [{ tag: 'v2', digest: digestOf(4), size: 40 }]))).toBe('KEY_NOT_FOUND');
  });

  it('remove of an unknown signer: NOT_FOUND, nothing published', async () => {
    const gun = 'registry.test/ops/signers-unknown';
    const admin = client(gun);
    await admin.repo.init();
    await admin.repo.publish();
    const before = (await admin.repo.read()).targets.signed.version;
    expect(await codeOf(removeSigner(admin.repo, 'bob'))).toBe('NOT_FOUND');
    expect((await admin.repo.read()).targets.signed.version).toBe(before);
  });
});

describe('rotateKey', () => {
  it('targets: a new key ID in root; a client that trusted the old root still verifies the tags', async () => {
    const gun = 'registry.test/ops/rotate-targets';
    const admin = client(gun);
    const init = await admin.repo.init();
    await signTags(admin.repo, [{ tag: 'v1', digest: digestOf(5), size: 50 }]);
    const old = await reader(gun, init);
    const before = await old.refresh();
    const oldTargetsIds = before.root.signed.roles.targets?.keyids;

    const rotated = await rotateKey(admin.repo, 'targets');
    expect(rotated.roles).toEqual(['root', 'targets']);
    expect(oldTargetsIds).not.toContain(rotated.keyId);
    expect((await admin.keyStore.list()).map((k) => k.id)).toContain(rotated.canonicalId);

    const after = await old.refresh();
    expect(after.root.signed.roles.targets?.keyids).toEqual([rotated.keyId]);
    expect(after.root.signed.version).toBe(before.root.signed.version + 1);
    expect(resolveTag(after, 'v1')).toMatchObject({ digest: digestOf(5) });
    // the new key signs the next tag
    await signTags(admin.repo, [{ tag: 'v2', digest: digestOf(6), size: 60 }]);
    expect(resolveTag(await old.refresh(), 'v2')).toMatchObject({ digest: digestOf(6) });
  });

  it('root: the new root is signed by the old and new root keys, so a client that trusted the old root follows', async () => {
    const gun = 'registry.test/ops/rotate-root';
    const admin = client(gun);
    const init = await admin.repo.init();
    await signTags(admin.repo, [{ tag: 'v1', digest: digestOf(8), size: 80 }]);
    const old = client(gun, { tofu: true }).updater;
    await old.refresh();
    const pinned = await reader(gun, init);
    await pinned.refresh();

    const rotated = await rotateKey(admin.repo, 'root');
    expect(rotated.keyId).not.toBe(init.rootCertKeyId);
    const after = await old.refresh();
    expect(after.root.signed.roles.root?.keyids).toEqual([rotated.keyId]);
    expect(after.root.signatures.map((s) => s.keyid).sort()).toEqual([init.rootCertKeyId, rotated.keyId].sort());
    expect(resolveTag(after, 'v1')).toMatchObject({ digest: digestOf(8) });
    // a client pinned to the old certificate ID follows the chain from its pinned root, and its pin
    // now names the new certificate (src/updater/pin-walk.ts)
    const followed = await pinned.refresh();
    expect(followed.pinFollowed).toMatchObject({ from: [init.rootCertKeyId], to: [rotated.keyId], saved: true });
    expect(resolveTag(followed, 'v1')).toMatchObject({ digest: digestOf(8) });
    // the admin's own pin now names both certificates, so its reads still verify
    expect(resolveTag(await admin.repo.read(), 'v1')).toMatchObject({ digest: digestOf(8) });
  });

  it('snapshot to the server and timestamp: the server key changes and reads still verify', async () => {
    const gun = 'registry.test/ops/rotate-server';
    const admin = client(gun);
    const init = await admin.repo.init({ serverManagedSnapshot: false });
    await signTags(admin.repo, [{ tag: 'v1', digest: digestOf(9), size: 90 }]);
    const old = await reader(gun, init);
    const before = (await old.refresh()).root.signed.roles;

    const snap = await rotateKey(admin.repo, 'snapshot', { serverManaged: true });
    expect(snap.serverManaged).toBe(true);
    expect(before.snapshot?.keyids).not.toContain(snap.keyId);
    const ts = await rotateKey(admin.repo, 'timestamp');
    expect(before.timestamp?.keyids).not.toContain(ts.keyId);

    const after = await old.refresh();
    expect(after.root.signed.roles.snapshot?.keyids).toEqual([snap.keyId]);
    expect(after.root.signed.roles.timestamp?.keyids).toEqual([ts.keyId]);
    expect(resolveTag(after, 'v1')).toMatchObject({ digest: digestOf(9) });
  });

  it('refuses a delegation role: USAGE, with the signer commands as the fix', async () => {
    const c = client('registry.test/ops/rotate-bad');
    await expect(rotateKey(c.repo, 'targets/releases')).rejects.toMatchObject({
      code: 'USAGE',
      fix: expect.stringMatching(/signer remove/),
    });
  });
});
