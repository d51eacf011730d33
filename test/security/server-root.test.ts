/**
 * Attacks on the server's root checks (N:server/handlers/validation.go, N:trustpinning/certs.go): every forged root is refused
 * with 400 INVALID_UPDATE and notary's ErrBadRoot text, and no server-held key of another GUN or
 * another role can be borrowed.
 */
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  keyJson,
  localSigner,
  newTargets,
  publicKeyFromJson,
  serializeEnvelope,
  signMetadata,
  type RootSigned,
  type Signature,
} from '../../src/tuf/index.js';
import { issueCertificate } from '../../src/tuf/x509-issue.js';
import { MSG } from '../../src/validation/index.js';
import { TestRepo, ecdsaKey, expectInvalidUpdate, keyOf, rootKey, serverSuite, type KeyPair } from './helpers.js';
import { crlfCertKey, twinKey } from './keys.js';

const suite = serverSuite('example.com/sec-root/r');
const { fresh, initialised, published } = suite;

async function postRoot(
  repo: TestRepo,
  signed: RootSigned,
  signers: Parameters<typeof signMetadata>[2],
  keep: Signature[] = [],
) {
  const md = await signMetadata('root', signed, signers, keep);
  return repo.post([['root', md.bytes]]);
}

/** An initialised repository whose version-1 root body lists its root key `a` and a second one, threshold 2. */
async function twoKeyRoot(): Promise<{ repo: TestRepo; a: KeyPair; body: RootSigned }> {
  const repo = await initialised();
  const a = repo.rootKeys[0]!;
  const b = await rootKey(repo.gun);
  repo.rootKeys = [a, b];
  const body = repo.rootBody(1);
  body.roles.root = { keyids: [a.pub.id, b.pub.id], threshold: 2 };
  return { repo, a, body };
}

describe('root attacks on the server', () => {
  it.each([
    ['new', 'ErrBadRoot rotation', MSG.rotation],
    ['old', 'ErrBadRoot (not signed by its own root key)', MSG.selfSigned],
  ] as const)('root rotation signed only by the %s key: %s', async (signedBy, _label, msg) => {
    const repo = await published();
    const old = repo.rootKeys[0]!;
    const next = await rootKey(repo.gun);
    repo.rootKeys = [next];
    const body = repo.rootBody(2);
    expectInvalidUpdate(await postRoot(repo, body, [(signedBy === 'new' ? next : old).signer]), 'ErrBadRoot', msg);
  });

  it('root whose root role lists a bare ecdsa key (no certificate): ErrBadRoot leaf certificates', async () => {
    const repo = await initialised();
    const bare = ecdsaKey();
    repo.rootKeys = [bare];
    const body = repo.rootBody(1);
    expectInvalidUpdate(await postRoot(repo, body, [bare.signer]), 'ErrBadRoot', MSG.leafCerts);
  });

  it('a bare ecdsa key next to the certificate does not count towards the root threshold: ErrBadRoot', async () => {
    const repo = await published();
    const cert = repo.rootKeys[0]!;
    const bare = ecdsaKey();
    repo.rootKeys = [cert, bare];
    const body = repo.rootBody(2);
    body.roles.root = { keyids: [cert.pub.id, bare.pub.id], threshold: 2 };
    const forged = await signMetadata('root', body, [cert.signer, bare.signer]);
    expectInvalidUpdate(await repo.post([['root', forged.bytes]]), 'ErrBadRoot', MSG.selfSigned);
  });

  it('root version jump (+2): ErrBadRoot', async () => {
    const repo = await published();
    const body = repo.rootBody(3);
    expectInvalidUpdate(
      await postRoot(repo, body, [repo.rootKeys[0]!.signer]),
      'ErrBadRoot',
      'Root modifications must increment the version. Current 1, new 3',
    );
  });

  it('root with threshold 2 but one signature: ErrBadRoot', async () => {
    const { repo, a, body } = await twoKeyRoot();
    expectInvalidUpdate(await postRoot(repo, body, [a.signer]), 'ErrBadRoot', MSG.selfSigned);
  });

  it('duplicate signatures by one key are counted once: ErrBadRoot', async () => {
    const { repo, a, body } = await twoKeyRoot();
    const once = await signMetadata('root', body, [a.signer]);
    const sig = once.signatures[0]!;
    // signMetadata drops repeated signatures; build the envelope by hand
    const env = JSON.parse(once.bytes.toString()) as { signed: unknown };
    const bytes = Buffer.from(
      JSON.stringify({ signed: env.signed, signatures: [sig, sig, { ...sig, method: 'ECDSA' }] }),
    );
    expectInvalidUpdate(await repo.post([['root', bytes]]), 'ErrBadRoot', MSG.selfSigned);
  });

  it('one root certificate listed under two key IDs (CRLF re-encoding) does not make threshold 2: ErrBadRoot', async () => {
    const repo = await initialised();
    const a = repo.rootKeys[0]!;
    const alias = crlfCertKey(a.pub);
    expect(alias.id).not.toBe(a.pub.id);
    const body = repo.rootBody(1);
    body.keys[alias.id] = keyOf(alias);
    body.roles.root = { keyids: [a.pub.id, alias.id], threshold: 2 };
    const md = await signMetadata('root', body, [a.signer, localSigner(a.priv, alias)]);
    expect(md.signatures.map((s) => s.keyid)).toEqual([a.pub.id, alias.id]);
    expectInvalidUpdate(await repo.post([['root', md.bytes]]), 'ErrBadRoot', MSG.selfSigned);
  });

  it('a signature whose keyid names a key with other content: ErrBadTargets INVALID_KEY_ID', async () => {
    const repo = await initialised();
    const body = repo.rootBody(1);
    const impostor = ecdsaKey();
    // targets role lists the real targets key ID, but keys[that ID] holds the impostor's key
    body.keys[repo.targetsKey.pub.id] = keyJson('ecdsa', impostor.pub.public);
    const root = await signMetadata('root', body, [repo.rootKeys[0]!.signer]);
    const t = newTargets(new Date(Date.now() + 86400_000 * 365), 1);
    const targets = await signMetadata('targets', t, [
      localSigner(impostor.priv, { ...impostor.pub, id: repo.targetsKey.pub.id }),
    ]);
    const r = await repo.post([
      ['root', root.bytes],
      ['targets', targets.bytes],
    ]);
    expectInvalidUpdate(r, 'ErrBadTargets', /actually has ID/);
  });

  it.each([
    ['timestamp', 'ErrBadRoot no timestamp keys', 'ErrBadRoot', MSG.noTimestampKey],
    ['snapshot', 'ErrBadHierarchy', 'ErrBadHierarchy', MSG.noSnapshotKey],
  ] as const)("a root listing another GUN's server %s key: %s", async (borrowed, _label, name, msg) => {
    const victim = await published();
    const evil = new TestRepo(suite.srv, fresh());
    evil.rootKeys = [await rootKey(evil.gun)];
    // borrow the victim's server-held key
    evil.timestampPub = borrowed === 'timestamp' ? victim.timestampPub : await evil.fetchKey('timestamp');
    evil.serverSnapshotPub = borrowed === 'snapshot' ? victim.serverSnapshotPub : await evil.fetchKey('snapshot');
    evil.snapshotKey = undefined;
    await evil.signRoot();
    evil.dirty.add('targets');
    expectInvalidUpdate(await evil.publish(), name, msg);
  });

  it('a root naming its own server snapshot key as the timestamp key: ErrBadRoot no timestamp keys', async () => {
    const repo = new TestRepo(suite.srv, fresh());
    repo.rootKeys = [await rootKey(repo.gun)];
    repo.serverSnapshotPub = await repo.fetchKey('snapshot');
    repo.snapshotKey = undefined;
    repo.timestampPub = repo.serverSnapshotPub;
    await repo.signRoot();
    repo.dirty.add('targets');
    expectInvalidUpdate(await repo.publish(), 'ErrBadRoot', MSG.noTimestampKey);
  });

  it('targets with threshold 2 cannot be met by one private key listed twice (compressed-point twin)', async () => {
    const repo = await initialised();
    const twin = twinKey(repo.targetsKey.priv, repo.targetsKey.pub);
    const body = repo.rootBody(1);
    body.keys[twin.pub.id] = keyOf(twin.pub);
    body.roles.targets = { keyids: [repo.targetsKey.pub.id, twin.pub.id], threshold: 2 };
    const root = await signMetadata('root', body, [repo.rootKeys[0]!.signer]);
    const targets = await signMetadata('targets', newTargets(new Date(Date.now() + 86400_000 * 365), 1), [
      repo.targetsKey.signer,
      twin.signer,
    ]);
    const r = await repo.post([
      ['root', root.bytes],
      ['targets', targets.bytes],
    ]);
    expectInvalidUpdate(r, 'ErrBadTargets', 'valid signatures did not meet threshold for targets');
  });
});

describe('signature floods', () => {
  it('a root padded with 20,000 bogus signatures for its key is refused fast (the event loop is not held): ErrBadRoot', async () => {
    const repo = await initialised();
    const md = await signMetadata('root', repo.rootBody(1), [repo.rootKeys[0]!.signer]);
    const env = JSON.parse(md.bytes.toString()) as { signed: unknown; signatures: Signature[] };
    const bogus: Signature = {
      keyid: repo.rootKeys[0]!.pub.id,
      method: 'ecdsa',
      sig: Buffer.alloc(64, 1).toString('base64'),
    };
    const flooded = Buffer.from(
      JSON.stringify({ signed: env.signed, signatures: [...Array<Signature>(20_000).fill(bogus), ...env.signatures] }),
    );
    await repo.signDirty();
    const t0 = Date.now();
    const r = await repo.post([
      ['root', flooded],
      ['targets', repo.files.get('targets') as Buffer],
    ]);
    const ms = Date.now() - t0;
    expectInvalidUpdate(r, 'ErrBadRoot', MSG.selfSigned);
    expect(ms).toBeLessThan(3000); // 7.6 s before the fix
  });
});

describe('certificate bundle floods', () => {
  async function bundleRoot(repo: TestRepo, copies: number) {
    const rk = repo.rootKeys[0]!;
    const now = new Date();
    const ca = issueCertificate({
      subjectCN: 'ca',
      subjectKey: crypto.createPublicKey(rk.priv),
      issuer: { key: rk.priv, cn: 'ca' },
      notBefore: now,
      notAfter: new Date(now.getTime() + 86400_000 * 365),
      ca: true,
      keyUsage: ['keyCertSign'],
    } as never);
    const leafPem = Buffer.from(rk.pub.public, 'base64').toString();
    const fat = publicKeyFromJson(
      keyJson('ecdsa-x509', Buffer.from(leafPem + ca.pem.repeat(copies)).toString('base64')),
    );
    repo.rootKeys = [{ ...rk, pub: fat, signer: localSigner(rk.priv, fat) }];
    const body = repo.rootBody(1);
    return signMetadata('root', body, [localSigner(rk.priv, fat)]).catch(async () => {
      // signMetadata refuses what the structure check refuses; write the envelope by hand
      const { method, sig } = await localSigner(rk.priv, fat).sign(canonicalJson(body as never));
      return { bytes: serializeEnvelope(body, [{ keyid: fat.id, method, sig: sig.toString('base64') }]) };
    });
  }

  it('a root key whose PEM bundle holds 11 certificates is refused: ErrBadRoot', async () => {
    const repo = await initialised();
    const md = await bundleRoot(repo, 10);
    await repo.signDirty();
    const r = await repo.post([
      ['root', md.bytes],
      ['targets', repo.files.get('targets') as Buffer],
    ]);
    expectInvalidUpdate(r, 'ErrBadRoot', /holds 11 PEM BEGIN lines; ecdsa-x509 keys have at most 10/);
  });

  it('a root key bundle of 10,000 CA certificates (5 MB) is refused fast', async () => {
    const repo = await initialised();
    const md = await bundleRoot(repo, 10_000);
    await repo.signDirty();
    const t0 = Date.now();
    const r = await repo.post([
      ['root', md.bytes],
      ['targets', repo.files.get('targets') as Buffer],
    ]);
    const ms = Date.now() - t0;
    expect(r.statusCode, r.body.slice(0, 300)).toBe(400);
    expect(ms).toBeLessThan(1500);
  });
});
