/**
 * A certificate pin anchors the root chain and follows verified root rotations (src/updater/pin-walk.ts):
 * with a pinned root in the cache, and for a fresh verifier that only has the pin (walk from 1.root.json).
 * Every root not reached through a valid chain from a pinned root is still refused.
 */
import crypto from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { privateKeyFromKeyObject } from '../../src/keys/index.js';
import { NotaryRemote } from '../../src/remote/index.js';
import { certificatePublicKey, localSigner, parseGun } from '../../src/tuf/index.js';
import { TrustedSet, Updater, type PinSource, type ResolvedPin } from '../../src/updater/index.js';
import { makeTestCA } from '../harness/tls.js';
import { codeOf, thrownCode } from '../helpers/errors.js';
import { SimRepo } from '../simulator/repo.js';
import { startSimServer } from '../simulator/server.js';
import { simClient } from '../simulator/client.js';
import { simWorlds } from '../simulator/world.js';

const GUN = '127.0.0.1:5999/sim/pinned';
const DIGEST = 'cd'.repeat(32);
const { cleanup, world } = simWorlds({ gun: GUN, digest: DIGEST });

const certsPin = async (w: { client: { pins: { resolve(g: string): Promise<ResolvedPin> } } }): Promise<string[]> => {
  const p = await w.client.pins.resolve(GUN);
  return p.kind === 'certs' ? p.certs : [];
};

describe('a cert pin with the pinned root in the cache', () => {
  it('follows `key rotate root` (new root signed by the old root key and its own): verified, pin moved', async () => {
    const w = await world();
    const old = w.repo.rootKeys[0]!.pub.id;
    await w.client.pins.setCerts(GUN, [old]);
    await w.client.refresh({ tofu: false });
    const fresh = await w.repo.rotateRoot({ signWithOld: true });
    const repo = await w.client.refresh({ tofu: false });
    expect(repo.root.signed.version).toBe(2);
    expect(repo.pinFollowed).toEqual({ pattern: GUN, from: [old], to: [fresh.pub.id], rootVersion: 2, saved: true });
    expect(await certsPin(w)).toEqual([fresh.pub.id]);
    const said = w.client.warnings.filter((m) => m.includes('rotated'));
    expect(said).toEqual([
      `root of ${GUN} rotated from ${old} to ${fresh.pub.id} (root version 2, signed by the pinned root); pin updated`,
    ]);
    // the pins file records where the pin came from
    const file = JSON.parse(await readFile(w.client.pins.file, 'utf8')) as {
      pins: Record<string, { followed?: unknown }>;
    };
    expect(file.pins[GUN]?.followed).toEqual({ from: [old], rootVersion: 2 });
    // the next run has nothing to follow and is one request again
    w.server.requests.length = 0;
    expect((await w.client.refresh({ tofu: false })).pinFollowed).toBeUndefined();
    expect(w.server.requests).toEqual(['timestamp.json']);
    expect(w.client.warnings.filter((m) => m.includes('rotated'))).toHaveLength(1);
  });

  it('a prefix pin stays as it is; the GUN gets its own pin', async () => {
    const w = await world();
    await w.client.pins.setCerts('127.0.0.1:5999/sim/*', [w.repo.rootKeys[0]!.pub.id]);
    await w.client.refresh({ tofu: false });
    const fresh = await w.repo.rotateRoot({ signWithOld: true });
    await w.client.refresh({ tofu: false });
    const list = await w.client.pins.list();
    expect(list.map((p) => [p.pattern, p.pin.certs])).toEqual([
      ['127.0.0.1:5999/sim/*', [w.repo.retiredRootKeys[0]!.pub.id]],
      [GUN, [fresh.pub.id]],
    ]);
  });

  it('refuses a new root the pinned root did not sign (ROOT_ROTATION), and keeps the pin', async () => {
    const w = await world();
    const old = w.repo.rootKeys[0]!.pub.id;
    await w.client.pins.setCerts(GUN, [old]);
    await w.client.refresh({ tofu: false });
    await w.repo.rotateRoot({ signWithOld: false });
    expect(await codeOf(w.client.refresh({ tofu: false }))).toBe('ROOT_ROTATION');
    expect(await certsPin(w)).toEqual([old]);
  });
});

describe('a cert pin and no cached root (a fresh verifier)', () => {
  it('walks from 1.root.json to the pinned root, then the chain to the current root (v3), and pins it', async () => {
    const w = await world();
    const old = w.repo.rootKeys[0]!.pub.id;
    await w.repo.rotateRoot({ signWithOld: true });
    const newest = await w.repo.rotateRoot({ signWithOld: true });
    await w.client.pins.setCerts(GUN, [old]);
    const repo = await w.client.refresh({ tofu: false });
    expect(repo.root.signed.version).toBe(3);
    expect(repo.pinFollowed?.to).toEqual([newest.pub.id]);
    expect(w.server.requests.slice(0, 3)).toEqual(['root.json', '1.root.json', '2.root.json']);
    expect(await certsPin(w)).toEqual([newest.pub.id]);
  });

  it('starts the chain at the first version the pin allows (a pin on v2 of three)', async () => {
    const w = await world();
    const middle = await w.repo.rotateRoot({ signWithOld: true });
    const newest = await w.repo.rotateRoot({ signWithOld: true });
    await w.client.pins.setCerts(GUN, [middle.pub.id]);
    expect((await w.client.refresh({ tofu: false })).pinFollowed?.to).toEqual([newest.pub.id]);
  });

  it('refuses a current root not chained to the pinned v1 (replayed v1, then a root only its own key signs): PIN_MISMATCH', async () => {
    const w = await world();
    const old = w.repo.rootKeys[0]!.pub.id;
    await w.repo.rotateRoot({ signWithOld: false });
    await w.client.pins.setCerts(GUN, [old]);
    const refused = await w.client.refresh({ tofu: false }).catch((e: unknown) => e as Error & { code: string });
    expect((refused as { code: string }).code).toBe('PIN_MISMATCH');
    expect((refused as Error).message).toContain('the chain from it to version 2 is broken');
    expect(await certsPin(w)).toEqual([old]);
  });

  it('refuses a server none of whose root versions the pin allows: PIN_MISMATCH', async () => {
    const w = await world();
    await w.repo.rotateRoot({ signWithOld: true });
    await w.client.pins.setCerts(GUN, [crypto.randomBytes(32).toString('hex')]);
    try {
      await w.client.refresh({ tofu: false });
      expect.unreachable();
    } catch (e) {
      expect((e as { code: string }).code).toBe('PIN_MISMATCH');
      expect((e as Error).message).toContain('no earlier root version (1 to 1)');
    }
  });

  it('does not look through more versions than maxRootRotations: PIN_MISMATCH', async () => {
    const w = await world();
    const old = w.repo.rootKeys[0]!.pub.id;
    await w.repo.rotateRoot();
    await w.repo.rotateRoot();
    await w.client.pins.setCerts(GUN, [old]);
    const u = w.client.updater({ tofu: false, limits: { maxRootRotations: 1 } });
    expect(await codeOf(u.refresh())).toBe('PIN_MISMATCH');
    expect(w.server.requests.filter((r) => /^\d+\.root\.json$/.test(r))).toEqual([]);
  });

  it('one signature budget for every past root tried, not one each (SIGNATURE_BUDGET)', async () => {
    const w = await world();
    let pinned = w.repo.rootKeys[0]!;
    for (let v = 2; v <= 12; v++) pinned = await w.repo.rotateRoot();
    await w.repo.rotateRoot(); // v13 is current; the pin names v12's key
    await w.client.pins.setCerts(GUN, [pinned.pub.id]);
    // versions 1 to 11 cost at least one self-signature check each before v12 is found: more than 10
    // together, though far under 10 each
    const tight = w.client.updater({ tofu: false, limits: { maxSignatureChecks: 10 } });
    expect(await codeOf(tight.refresh())).toBe('SIGNATURE_BUDGET');
    const roomy = w.client.updater({ tofu: false, limits: { maxSignatureChecks: 64 } });
    expect((await roomy.refresh()).root.signed.version).toBe(13);
  });

  it('a cached root swapped for an attacker root on a server that replays the pinned v1: PIN_MISMATCH', async () => {
    const w = await world();
    const old = w.repo.rootKeys[0]!.pub.id;
    await w.client.pins.setCerts(GUN, [old]);
    await w.client.refresh({ tofu: false });
    // the attacker's repository (its own v1 → v2 chain), the victim's real v1 replayed as 1.root.json,
    // and the attacker's v1 written over the victim's cached root
    const evil = await SimRepo.create(GUN);
    evil.setTarget('latest', 'ee'.repeat(32), 528);
    await evil.publish();
    await evil.rotateRoot({ signWithOld: true });
    const evilServer = await startSimServer(evil);
    cleanup.push(() => evilServer.close());
    evilServer.override('1.root.json', (_q, res) => res.end(w.repo.rootByVersion.get(1)));
    const victim = await simClient(evilServer.url, GUN);
    cleanup.push(() => victim.close());
    const { cp, writeFile } = await import('node:fs/promises');
    await cp(w.client.trustDir, victim.trustDir, { recursive: true });
    await writeFile(
      path.join(victim.trustDir, 'tuf', ...GUN.split('/'), 'metadata', 'root.json'),
      evil.rootByVersion.get(1)!,
    );
    const refused = await victim.refresh({ tofu: false }).catch((e: unknown) => e as Error & { code: string });
    expect((refused as { code: string }).code).toBe('PIN_MISMATCH');
    expect((refused as Error).message).toContain('root version 1 is one the pin allows, but the chain from it');
    expect(evilServer.requests).toContain('1.root.json');
    expect(await victim.pins.resolve(GUN)).toMatchObject({ certs: [old] });
  });
});

describe('a read-only pin source (a policy rule)', () => {
  it('is not rewritten: the updater follows the chain in memory and says the pin should be updated', async () => {
    const w = await world();
    const old = w.repo.rootKeys[0]!.pub.id;
    const fresh = await w.repo.rotateRoot({ signWithOld: true });
    const pins: PinSource = { resolve: () => Promise.resolve({ kind: 'certs', pattern: GUN, certs: [old] }) };
    const remote = new NotaryRemote({ serverUrl: w.server.url, retries: 0 });
    cleanup.push(() => remote.close());
    const warnings: string[] = [];
    const u = new Updater({ gun: GUN, remote, trustDir: w.client.trustDir, pins, onWarning: (m) => warnings.push(m) });
    const first = await u.refresh();
    expect(first.pinFollowed).toMatchObject({ to: [fresh.pub.id], saved: false });
    expect(warnings.join('\n')).toContain(`update the pin to ${fresh.pub.id}`);
    w.server.requests.length = 0;
    expect((await u.refresh()).pinFollowed).toBeUndefined();
    expect(w.server.requests).toEqual(['timestamp.json']);
  });
});

describe('a pin store that cannot be written (read-only trust dir)', () => {
  it('does not fail the verification: the pin is followed in memory, with a warning', async () => {
    const w = await world();
    const old = w.repo.rootKeys[0]!.pub.id;
    const fresh = await w.repo.rotateRoot({ signWithOld: true });
    const pins: PinSource = {
      resolve: () => Promise.resolve({ kind: 'certs', pattern: GUN, certs: [old] }),
      follow: () => Promise.reject(new Error('EROFS: read-only file system')),
    };
    const remote = new NotaryRemote({ serverUrl: w.server.url, retries: 0 });
    cleanup.push(() => remote.close());
    const warnings: string[] = [];
    const u = new Updater({ gun: GUN, remote, trustDir: w.client.trustDir, pins, onWarning: (m) => warnings.push(m) });
    expect((await u.refresh()).pinFollowed).toMatchObject({ to: [fresh.pub.id], saved: false });
    expect(warnings.join('\n')).toContain('could not save it: EROFS');
  });
});

describe('TrustedSet: the pin anchors the chain (pure)', () => {
  const gun = parseGun(GUN);

  it('a pinned anchor takes the next root whatever its certificates and names them in followedPin', async () => {
    const repo = await SimRepo.create(GUN);
    const old = repo.rootKeys[0]!.pub.id;
    const fresh = await repo.rotateRoot({ signWithOld: true });
    const pin: ResolvedPin = { kind: 'certs', pattern: GUN, certs: [old] };
    const set = TrustedSet.fromTrustedRoot(repo.rootByVersion.get(1)!, { gun, now: new Date(), pin });
    expect(set.followedPin).toBeUndefined();
    set.updateRoot(repo.rootByVersion.get(2)!, { final: true });
    expect(set.followedPin).toEqual([fresh.pub.id]);
  });

  it('a past root starts a walk only when the pin allows it', async () => {
    const repo = await SimRepo.create(GUN);
    const old = repo.rootKeys[0]!.pub.id;
    await repo.rotateRoot({ signWithOld: true });
    const v1 = repo.rootByVersion.get(1)!;
    const v2 = repo.rootByVersion.get(2)!;
    const pinned: ResolvedPin = { kind: 'certs', pattern: GUN, certs: [old] };
    expect(TrustedSet.fromPinnedPastRoot(v1, { gun, now: new Date(), pin: pinned }).root.signed.version).toBe(1);
    expect(thrownCode(() => TrustedSet.fromPinnedPastRoot(v2, { gun, now: new Date(), pin: pinned }))).toBe(
      'PIN_MISMATCH',
    );
  });

  it('a CA pin is applied to every root: a rotation to a certificate outside the CA is refused, even signed by the CA-issued root', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'signet-pin-follow-ca-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const ca = await makeTestCA(dir);
    const leaf = await ca.issue('root', { cn: GUN.replaceAll('/', '\\/') }); // openssl -subj escapes "/"
    const certPem = await readFile(leaf.cert, 'utf8');
    const priv = privateKeyFromKeyObject(crypto.createPrivateKey(await readFile(leaf.key, 'utf8')));
    const pub = certificatePublicKey(certPem);
    const caIssued = { priv, pub, signer: localSigner(priv.keyObject, pub) };
    const repo = await SimRepo.create(GUN);
    // v2: the root moves to the CA-issued certificate (signed by the v1 key too)
    const v1Keys = repo.rootKeys;
    repo.retiredRootKeys.push(...v1Keys);
    repo.rootKeys = [caIssued];
    await repo.signRoot({ extraSigners: v1Keys });
    // v3: a self-signed certificate, signed by the CA-issued root key as a legitimate rotation is
    await repo.rotateRoot({ signWithOld: true });
    const v2 = repo.rootByVersion.get(2)!;
    const v3 = repo.rootByVersion.get(3)!;
    const caPin: ResolvedPin = { kind: 'ca', pattern: GUN, caPem: await readFile(ca.caCert, 'utf8') };
    const byCa = TrustedSet.fromTrustedRoot(v2, { gun, now: new Date(), pin: caPin });
    expect(byCa.needsPinnedRoot).toBe(false);
    expect(thrownCode(() => byCa.updateRoot(v3, { final: true }))).toBe('PIN_MISMATCH');
    // the same chain under a certificate pin on the CA-issued key is followed
    const certPin: ResolvedPin = { kind: 'certs', pattern: GUN, certs: [pub.id] };
    const byCert = TrustedSet.fromTrustedRoot(v2, { gun, now: new Date(), pin: certPin });
    expect(byCert.updateRoot(v3, { final: true }).signed.version).toBe(3);
    expect(byCert.followedPin).toEqual([repo.rootKeys[0]!.pub.id]);
  });
});
