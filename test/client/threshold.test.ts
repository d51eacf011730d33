// Thresholds above 1, in-process against Signet's own server (plain HTTP on 127.0.0.1, free port):
// a threshold-2 targets/releases co-signed through a proposal by two holders with separate trust
// dirs, the server's refusal of a 1-of-2 upload, stale proposals, a threshold-2 targets role, and
// verification of a role left below its threshold (docs/thresholds.md).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Repository,
  addSigner,
  createProposal,
  describeProposal,
  formatProposal,
  parseProposal,
  proposalSignatures,
  publishProposal,
  removeSigner,
  roleSignatureRows,
  signProposal,
  signTags,
  tagSignChanges,
  targetsKeyChange,
  thresholdChange,
  type InitResult,
  type Proposal,
} from '../../src/client/index.js';
import { isSignetError } from '../../src/errors.js';
import { TrustDirKeyStore, constantPassphraseRetriever, generatePrivateKey } from '../../src/keys/index.js';
import { NotaryRemote } from '../../src/remote/index.js';
import { PinStore, Updater, requireSignedTag, resolveTag } from '../../src/updater/index.js';
import { startTestServer, type StartedServer } from '../server/start-helper.js';

const digestOf = (fill: number): string => `sha256:${Buffer.alloc(32, fill).toString('hex')}`;

let server: StartedServer;
let tmp: string;
const remotes: NotaryRemote[] = [];

beforeAll(async () => {
  server = await startTestServer({ insecureHttp: true });
  tmp = await mkdtemp(path.join(os.tmpdir(), 'signet-client-threshold-'));
});

afterAll(async () => {
  await Promise.allSettled(remotes.map((r) => r.close()));
  await server?.dispose();
  if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
});

interface Client {
  keyStore: TrustDirKeyStore;
  pins: PinStore;
  repo: Repository;
  updater: Updater;
  remote: NotaryRemote;
}

let clients = 0;
/** A client with its own trust dir on the test server; pinned to `init`'s root when given. */
async function client(gun: string, init?: InitResult): Promise<Client> {
  const trustDir = path.join(tmp, `c${clients++}`);
  const remote = new NotaryRemote({ serverUrl: server.url, retries: 0 });
  remotes.push(remote);
  const keyStore = new TrustDirKeyStore(trustDir, constantPassphraseRetriever('threshold-test-passphrase'));
  const pins = new PinStore(trustDir);
  if (init !== undefined) await pins.setCerts(gun, [init.rootCertKeyId]);
  const updater = new Updater({ gun, remote, trustDir, pins });
  const repo = new Repository({ gun, trustDir, remote, keyStore, reader: updater, pins });
  return { keyStore, pins, repo, updater, remote };
}

/** A holder with a fresh signer key named `name` in their own trust dir. */
async function holder(gun: string, init: InitResult, name: string) {
  const c = await client(gun, init);
  const key = generatePrivateKey('ecdsa');
  await c.keyStore.add(key, { role: name });
  return { ...c, key };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return isSignetError(e) ? e.code : String(e);
  }
}

/** A proposal goes from holder to holder as a file: through its text, as the CLI writes it. */
const viaFile = (p: Proposal): Promise<Proposal> => parseProposal(formatProposal(p), 'proposal.json');

/** The repository with signers alice and bob, targets/releases at threshold 2. */
async function twoOfTwo(gun: string) {
  const admin = await client(gun);
  const init = await admin.repo.init();
  await admin.repo.publish();
  const alice = await holder(gun, init, 'alice');
  const bob = await holder(gun, init, 'bob');
  await addSigner(admin.repo, 'alice', [alice.key.publicKey]);
  await addSigner(admin.repo, 'bob', [bob.key.publicKey], { releasesThreshold: 2 });
  return { admin, init, alice, bob };
}

describe('a threshold-2 targets/releases', () => {
  it('is published only once two holders with separate trust dirs have signed the proposal', async () => {
    const gun = 'registry.test/threshold/releases';
    const { admin, init, alice, bob } = await twoOfTwo(gun);
    const rows = roleSignatureRows(await admin.repo.read());
    expect(rows.find((r) => r.Role === 'targets/releases')).toMatchObject({ Threshold: 2 });

    // alice alone: a plain sign is refused before anything is uploaded
    expect(await codeOf(signTags(alice.repo, [{ tag: 'v1', digest: digestOf(1), size: 10 }]))).toBe('KEY_NOT_FOUND');

    const view = await alice.repo.read({ forWrite: true });
    const { changes } = tagSignChanges(view, await alice.repo.localKeyIds(), [
      { tag: 'v1', digest: digestOf(1), size: 10 },
    ]);
    const made = await createProposal(alice.repo, changes);
    const p1 = await viaFile(made.proposal);
    expect(made.signatures.find((s) => s.role === 'targets/releases')).toMatchObject({
      threshold: 2,
      signedBy: [alice.key.publicKey.canonicalId],
      signerNames: ['alice'],
      complete: false,
    });
    expect(made.signatures.find((s) => s.role === 'targets/alice')?.complete).toBe(true);
    expect(describeProposal(view, p1)).toContain(`  targets/releases: sign v1 → ${digestOf(1)} (10 bytes)`);

    // one signature: publish refused by the client, and nothing changed on the server
    const err = await publishProposal(alice.repo, p1).catch((e: unknown) => e);
    expect(isSignetError(err, 'THRESHOLD')).toBe(true);
    expect((err as Error).message).toContain('targets/releases has 1 of 2 required signatures');
    const reader = await client(gun, init);
    expect(resolveTag(await reader.updater.refresh(), 'v1')).toBeNull();

    // bob adds his signature in his own trust dir; then anyone with the file may publish
    const signed = await signProposal(bob.repo, p1);
    expect(signed.added).toEqual([{ role: 'targets/releases', keyId: bob.key.publicKey.canonicalId }]);
    const p2 = await viaFile(signed.proposal);
    expect(proposalSignatures(await bob.repo.read(), p2).every((s) => s.complete)).toBe(true);
    // signing twice adds nothing
    expect(await codeOf(signProposal(bob.repo, p2))).toBe('KEY_NOT_FOUND');
    const pub = await publishProposal(admin.repo, p2);
    expect(pub.roles).toEqual(['targets/alice', 'targets/releases']);

    const seen = await reader.updater.refresh();
    expect(resolveTag(seen, 'v1')).toMatchObject({ role: 'targets/releases', digest: digestOf(1) });
    const releases = roleSignatureRows(seen).find((r) => r.Role === 'targets/releases');
    expect(releases).toMatchObject({ Threshold: 2, Valid: true });
    expect([...(releases?.SignedBy ?? [])].sort()).toEqual(
      [alice.key.publicKey.canonicalId, bob.key.publicKey.canonicalId].sort(),
    );
    expect([...(releases?.Signers ?? [])].sort()).toEqual(['alice', 'bob']);

    // the published proposal is spent
    const again = await publishProposal(admin.repo, p2).catch((e: unknown) => e);
    expect(isSignetError(again, 'CONFLICT')).toBe(true);
    expect((again as Error).message).toContain('already published');
  });

  it('the server refuses a direct upload of 1-of-2 metadata with a 4xx and keeps the current data', async () => {
    const gun = 'registry.test/threshold/direct';
    const { alice, init } = await twoOfTwo(gun);
    const view = await alice.repo.read({ forWrite: true });
    const { changes } = tagSignChanges(view, await alice.repo.localKeyIds(), [
      { tag: 'v1', digest: digestOf(2), size: 20 },
    ]);
    const { proposal } = await createProposal(alice.repo, changes);
    const releases = proposal.roles.find((r) => r.role === 'targets/releases');
    expect(releases).toBeDefined();
    const before = await alice.remote.getRole(gun, 'targets', { maxBytes: 1 << 20 });
    const res = await fetch(`${server.url}/v2/${gun}/_trust/tuf/`, {
      method: 'POST',
      body: (() => {
        const form = new FormData();
        form.append('files', new Blob([Buffer.from(releases?.file ?? '', 'base64')]), 'targets/releases');
        return form;
      })(),
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await res.text()).toContain('threshold');
    // nothing changed: no releases file, targets the same, the tag not signed
    expect(await codeOf(alice.remote.getRole(gun, 'targets/releases', { maxBytes: 1 << 20 }))).toBe('NOT_FOUND');
    expect((await alice.remote.getRole(gun, 'targets', { maxBytes: 1 << 20 })).equals(before)).toBe(true);
    const reader = await client(gun, init);
    expect(resolveTag(await reader.updater.refresh(), 'v1')).toBeNull();
  });

  it('refuses to sign or publish a proposal whose base moved on (CONFLICT)', async () => {
    const gun = 'registry.test/threshold/stale';
    const { admin, alice, bob } = await twoOfTwo(gun);
    const view = await alice.repo.read({ forWrite: true });
    const { changes } = tagSignChanges(view, await alice.repo.localKeyIds(), [
      { tag: 'v1', digest: digestOf(3), size: 30 },
    ]);
    const { proposal } = await createProposal(alice.repo, changes);
    // the admin changes targets (the delegator of targets/releases) meanwhile
    await admin.repo.publish({ extra: [thresholdChange('targets/alice', 1)], includeStaged: false });
    const err = await signProposal(bob.repo, proposal).catch((e: unknown) => e);
    expect(isSignetError(err, 'CONFLICT')).toBe(true);
    expect((err as Error).message).toMatch(/moved on since the proposal was made: targets is now version \d+/);
  });

  it('a release signed by one key before the threshold went up to 2 is refused by readers, naming role, threshold and count', async () => {
    const gun = 'registry.test/threshold/raised';
    const admin = await client(gun);
    const init = await admin.repo.init();
    await admin.repo.publish();
    const alice = await holder(gun, init, 'alice');
    const bob = await holder(gun, init, 'bob');
    await addSigner(admin.repo, 'alice', [alice.key.publicKey]);
    await addSigner(admin.repo, 'bob', [bob.key.publicKey]);
    await signTags(alice.repo, [{ tag: 'v1', digest: digestOf(5), size: 50 }]);
    await admin.repo.publish({ extra: [thresholdChange('targets/releases', 2)], includeStaged: false });

    const reader = await client(gun, init);
    const warnings: string[] = [];
    const updater = new Updater({
      gun,
      remote: reader.remote,
      trustDir: path.join(tmp, `c${clients++}`),
      pins: reader.pins,
      onWarning: (m) => warnings.push(m),
    });
    const seen = await updater.refresh();
    expect(seen.delegations.has('targets/releases')).toBe(false);
    const err = (() => {
      try {
        requireSignedTag(seen, 'v1', gun);
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(isSignetError(err, 'THRESHOLD')).toBe(true);
    expect((err as Error).message).toContain(
      'targets/releases: 1 valid signature(s) from distinct keys of the role, 2 required',
    );
    expect(warnings.join('\n')).toContain('ignoring delegation targets/releases');
    const row = roleSignatureRows({ root: seen.root, targets: seen.targets, delegations: seen.delegations }).find(
      (r) => r.Role === 'targets/releases',
    );
    expect(row).toMatchObject({ Threshold: 2, Valid: false });
  });

  it('refuses a threshold above the number of keys of the role, and a removal that would leave too few', async () => {
    const gun = 'registry.test/threshold/unreachable';
    const admin = await client(gun);
    const init = await admin.repo.init();
    await admin.repo.publish();
    const alice = await holder(gun, init, 'alice');
    const bob = await holder(gun, init, 'bob');
    const err = await addSigner(admin.repo, 'alice', [alice.key.publicKey], { releasesThreshold: 2 }).catch(
      (e: unknown) => e,
    );
    expect(isSignetError(err, 'USAGE')).toBe(true);
    expect((err as Error).message).toBe('targets/releases would need 2 signatures but lists only 1 key(s)');
    // nothing was published
    expect((await admin.repo.read()).targets.signed.delegations?.roles ?? []).toEqual([]);

    await addSigner(admin.repo, 'alice', [alice.key.publicKey]);
    await addSigner(admin.repo, 'bob', [bob.key.publicKey], { releasesThreshold: 2 });
    expect(await codeOf(removeSigner(admin.repo, 'bob'))).toBe('USAGE');
    await admin.repo.publish({ extra: [thresholdChange('targets/releases', 1)], includeStaged: false });
    await removeSigner(admin.repo, 'bob');
    const rows = roleSignatureRows(await admin.repo.read());
    expect(rows.find((r) => r.Role === 'targets/releases')).toMatchObject({
      Threshold: 1,
      Keys: [alice.key.publicKey.canonicalId],
    });
  });

  it("a base-role threshold cannot be staged in notary's changelist (it has no field for it)", async () => {
    const gun = 'registry.test/threshold/staged';
    const admin = await client(gun);
    await admin.repo.init();
    await admin.repo.publish();
    const change = targetsKeyChange(await admin.repo.read(), {
      add: [generatePrivateKey('ecdsa').publicKey],
      threshold: 2,
    });
    expect(await codeOf(admin.repo.stage([change]))).toBe('USAGE');
    expect(await admin.repo.pending()).toEqual([]);
  });
});

describe('a proposal in a repository whose snapshot key is local', () => {
  it('is published with a snapshot signed by the publisher over the co-signed files', async () => {
    const gun = 'registry.test/threshold/local-snapshot';
    const admin = await client(gun);
    const init = await admin.repo.init({ serverManagedSnapshot: false });
    await admin.repo.publish();
    const alice = await holder(gun, init, 'alice');
    const bob = await holder(gun, init, 'bob');
    await addSigner(admin.repo, 'alice', [alice.key.publicKey]);
    await addSigner(admin.repo, 'bob', [bob.key.publicKey], { releasesThreshold: 2 });
    const view = await alice.repo.read({ forWrite: true });
    const tags = [{ tag: 'v1', digest: digestOf(8), size: 80 }];
    const made = await createProposal(alice.repo, tagSignChanges(view, await alice.repo.localKeyIds(), tags).changes);
    expect(made.proposal.roles.map((r) => r.role)).not.toContain('snapshot');
    const signed = await signProposal(bob.repo, await viaFile(made.proposal));
    // bob holds no snapshot key: the server, which does not hold it either, refuses the upload
    const refused = await publishProposal(bob.repo, await viaFile(signed.proposal)).catch((e: unknown) => e);
    expect(isSignetError(refused, 'SERVER_REJECTED')).toBe(true);
    expect((refused as Error).message).toContain('does not hold current snapshot key');
    const pub = await publishProposal(admin.repo, await viaFile(signed.proposal));
    expect(pub.roles).toEqual(['targets/alice', 'targets/releases', 'snapshot']);
    const reader = await client(gun, init);
    const seen = await reader.updater.refresh();
    expect(resolveTag(seen, 'v1')).toMatchObject({ role: 'targets/releases' });
    expect(seen.snapshot.signed.meta['targets/alice']).toBeDefined();

    // a proposal that deletes a delegation: the snapshot signed at publish no longer lists it
    const drop = await createProposal(admin.repo, [
      { type: 'delegation', action: 'delete', role: 'targets/alice', path: '' },
    ]);
    expect((await viaFile(drop.proposal)).deleted).toEqual(['targets/alice']);
    await publishProposal(admin.repo, await viaFile(drop.proposal));
    const after = await reader.updater.refresh();
    expect(after.snapshot.signed.meta['targets/alice']).toBeUndefined();
    expect(after.delegations.has('targets/alice')).toBe(false);
  });
});

describe('a proposal that hands the targets role to other keys', () => {
  it('is signed by the root holder only, then by the new targets key holder, and published', async () => {
    const gun = 'registry.test/threshold/handover';
    const admin = await client(gun);
    const init = await admin.repo.init();
    await admin.repo.publish();
    const next = await holder(gun, init, 'targets');
    const view = await admin.repo.read({ forWrite: true });
    const old = roleSignatureRows(view).find((r) => r.Role === 'targets')?.Keys ?? [];
    const change = targetsKeyChange(view, { add: [next.key.publicKey], remove: old });
    const made = await createProposal(admin.repo, [change]);
    expect(made.signatures.map((s) => [s.role, s.signedBy.length, s.complete])).toEqual([
      ['root', 1, true],
      ['targets', 0, false],
    ]);
    const signed = await signProposal(next.repo, await viaFile(made.proposal));
    await publishProposal(next.repo, await viaFile(signed.proposal));
    const reader = await client(gun, init);
    const rows = roleSignatureRows(await reader.updater.refresh());
    expect(rows.find((r) => r.Role === 'targets')).toMatchObject({
      Keys: [next.key.publicKey.canonicalId],
      SignedBy: [next.key.publicKey.canonicalId],
      Valid: true,
    });
  });
});

describe('a threshold-2 targets role', () => {
  it('takes a second repository key by a root change, and then needs both holders for every targets change', async () => {
    const gun = 'registry.test/threshold/targets';
    const admin = await client(gun);
    const init = await admin.repo.init();
    await admin.repo.publish();
    const second = await holder(gun, init, 'targets');
    const view = await admin.repo.read({ forWrite: true });
    const change = targetsKeyChange(view, { add: [second.key.publicKey], threshold: 2 });
    // alone, the admin cannot publish it: the new targets file needs both keys
    expect(await codeOf(admin.repo.publish({ extra: [change], includeStaged: false }))).toBe('KEY_NOT_FOUND');
    const made = await createProposal(admin.repo, [change]);
    expect(made.proposal.roles.map((r) => r.role)).toEqual(['root', 'targets']);
    expect(made.signatures.map((s) => [s.role, s.complete])).toEqual([
      ['root', true],
      ['targets', false],
    ]);
    expect(describeProposal(view, made.proposal).join('\n')).toContain('threshold 1 → 2');
    expect(await codeOf(publishProposal(admin.repo, made.proposal))).toBe('THRESHOLD');
    const signed = await signProposal(second.repo, await viaFile(made.proposal));
    await publishProposal(second.repo, await viaFile(signed.proposal));

    const reader = await client(gun, init);
    const seen = await reader.updater.refresh();
    expect(seen.root.signed.roles.targets).toMatchObject({ threshold: 2 });
    expect(roleSignatureRows(seen).find((r) => r.Role === 'targets')).toMatchObject({ Threshold: 2, Valid: true });

    // a tag signed into targets: one holder proposes, the other co-signs
    expect(await codeOf(signTags(admin.repo, [{ tag: 'v1', digest: digestOf(6), size: 60 }]))).toBe('KEY_NOT_FOUND');
    const v = await admin.repo.read({ forWrite: true });
    const tag = await createProposal(
      admin.repo,
      tagSignChanges(v, await admin.repo.localKeyIds(), [{ tag: 'v1', digest: digestOf(6), size: 60 }]).changes,
    );
    const cosigned = await signProposal(second.repo, await viaFile(tag.proposal));
    await publishProposal(admin.repo, await viaFile(cosigned.proposal));
    expect(resolveTag(await reader.updater.refresh(), 'v1')).toMatchObject({ role: 'targets', digest: digestOf(6) });
  });
});
