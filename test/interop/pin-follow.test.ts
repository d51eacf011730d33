// A root key rotation does not break pinned verifiers (src/updater/pin-walk.ts): the owner runs
// `signet key rotate REPO root`; a verifier pinned with `signet pin` (old root cached) and a fresh one
// that only has the old pin (no cache: it walks `<v>.root.json` from 1) both `signet verify` the tag,
// and their pin then names the new certificate key ID. A pin to an unknown key is still refused.
// Run against the real notary-server 0.7 and against Signet's own server.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushImage } from '../harness/push-image.js';
import { signetCli, type SignetCli } from '../cli/signet.js';
import { TRUST_SERVERS, startClientPeers, type ClientPeers } from '../client/servers.js';

interface VerifyJson {
  verified: boolean;
  digest: string;
  pinFollowed?: { pattern: string; from: string[]; to: string[]; rootVersion: number; saved: boolean };
}

interface PinListJson {
  pattern: string;
  certs?: string[];
}

describe.each(TRUST_SERVERS)('pinned verifiers follow a root key rotation on %s', (serverName) => {
  let peers: ClientPeers | undefined;
  let gun: string;
  let digest: string;
  let owner: SignetCli;
  let oldRootId: string;
  const verifier = (name: string): SignetCli =>
    signetCli({
      server: peers!.server.url,
      caFile: peers!.server.caFile,
      trustDir: path.join(peers!.dir, name, 'trust'),
    });
  const pinsOf = async (cli: SignetCli): Promise<PinListJson[]> =>
    JSON.parse((await cli.ok(['pin', '--list', '--json'])).stdout) as PinListJson[];

  beforeAll(async () => {
    peers = await startClientPeers(serverName, 'signet-pin-follow-');
    gun = `${peers.registry.host}/signet/pinned`;
    digest = (await pushImage(peers.registry.host, 'signet/pinned', '1.0')).digest;
    owner = verifier('owner');
    const init = JSON.parse((await owner.ok(['init', gun, '--json'])).stdout) as { rootCertKeyId: string };
    oldRootId = init.rootCertKeyId;
    await owner.ok(['sign', `${gun}:1.0`]);
  });

  afterAll(async () => {
    await peers?.stop();
  });

  it('a verifier pinned with `signet pin` (old root cached) and a fresh one (pin only) verify after the rotation', async () => {
    const cached = verifier('cached');
    await cached.ok(['pin', gun, oldRootId]);
    expect((JSON.parse((await cached.ok(['verify', `${gun}:1.0`, '--json'])).stdout) as VerifyJson).digest).toBe(
      digest,
    );

    const rotated = JSON.parse((await owner.ok(['key', 'rotate', gun, 'root', '--json'])).stdout) as { keyId: string };
    expect(rotated.keyId).not.toBe(oldRootId);

    const r = await cached.ok(['verify', `${gun}:1.0`, '--json']);
    const v = JSON.parse(r.stdout) as VerifyJson;
    expect(v).toMatchObject({ verified: true, digest });
    expect(v.pinFollowed).toMatchObject({ pattern: gun, from: [oldRootId], to: [rotated.keyId], saved: true });
    expect(r.stderr).toContain(`root of ${gun} rotated from ${oldRootId} to ${rotated.keyId}`);
    expect(r.stderr).toContain('pin updated');
    expect(await pinsOf(cached)).toEqual([expect.objectContaining({ pattern: gun, certs: [rotated.keyId] })]);
    // said once: the next verification has nothing to follow
    const again = await cached.ok(['verify', `${gun}:1.0`, '--json']);
    expect((JSON.parse(again.stdout) as VerifyJson).pinFollowed).toBeUndefined();
    expect(again.stderr).not.toContain('rotated');

    const fresh = verifier('fresh');
    await fresh.ok(['pin', gun, oldRootId]);
    const f = JSON.parse((await fresh.ok(['verify', `${gun}:1.0`, '--json'])).stdout) as VerifyJson;
    expect(f).toMatchObject({ verified: true, digest, pinFollowed: { from: [oldRootId], to: [rotated.keyId] } });
    expect(await pinsOf(fresh)).toEqual([expect.objectContaining({ certs: [rotated.keyId] })]);
  });

  it('a fresh verifier pinned to a key that never was this repository root is still refused (exit 4, PIN_MISMATCH)', async () => {
    const stranger = verifier('stranger');
    await stranger.ok(['pin', gun, 'ab'.repeat(32)]);
    const r = await stranger.run(['verify', `${gun}:1.0`, '--json']);
    expect(r.code).toBe(4);
    expect(r.stdout + r.stderr).toContain('PIN_MISMATCH');
    expect(r.stdout + r.stderr).toContain('no earlier root version');
  });
});
