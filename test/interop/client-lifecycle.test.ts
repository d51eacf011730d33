// Issue 4 acceptance 1: images pushed into the real docker-registry (skopeo), then the whole
// `signet` CLI lifecycle — init, sign three tags in one call, inspect, revoke, signer add/remove,
// targets and snapshot key rotation — checked after every step by the REAL notary client
// (`notary list`) and docker 28 (`docker trust inspect`). Run against the real notary-server 0.7
// and against Signet's own server.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerCli, type DockerCli } from '../harness/docker-cli.js';
import { startFakeDockerd, type FakeDockerd } from '../harness/fake-dockerd.js';
import { notaryCli, type NotaryCli } from '../harness/notary-cli.js';
import { pushImage, pushMultiArchIndex, type PushedImage } from '../harness/push-image.js';
import type { TestRegistry } from '../harness/registry.js';
import { SIGNET_PASSPHRASES, signetCli, type SignetCli } from '../cli/signet.js';
import { TRUST_SERVERS, startClientPeers, type ClientPeers, type TrustServer } from '../client/servers.js';

interface InspectJson {
  Name: string;
  SignedTags: { SignedTag: string; Digest: string; Signers: string[] }[];
  Signers: { Name: string; Keys: { ID: string }[] }[];
  AdministrativeKeys: { Name: string; Keys: { ID: string }[] }[];
}

const hex = (digest: string): string => digest.replace(/^sha256:/, '');

/** `notary list` rows: NAME DIGEST SIZE ROLE. */
function parseNotaryList(stdout: string): Map<string, { digest: string; size: number; role: string }> {
  const out = new Map<string, { digest: string; size: number; role: string }>();
  for (const line of stdout.split('\n')) {
    const m = /^\s*(\S+)\s+([0-9a-f]{64})\s+(\d+)\s+(\S+)\s*$/.exec(line);
    if (m) out.set(m[1] as string, { digest: m[2] as string, size: Number(m[3]), role: m[4] as string });
  }
  return out;
}

describe.each(TRUST_SERVERS)('signet client lifecycle against %s', (serverName) => {
  let registry: TestRegistry;
  let server: TrustServer;
  let peers: ClientPeers | undefined;
  let dir: string;
  let gun: string;
  let images: Record<string, PushedImage>;
  let signet: SignetCli;
  let notary: NotaryCli;
  let docker: DockerCli;
  let dockerd: FakeDockerd;

  beforeAll(async () => {
    peers = await startClientPeers(serverName, 'signet-client-life-');
    ({ dir, registry, server } = peers);
    dockerd = await startFakeDockerd({
      dir: path.join(dir, 'dockerd'),
      resolvePush: async () => {
        throw new Error('signet tests never push through docker');
      },
    });
    gun = `${registry.host}/signet/app`;
    const [a, b, c] = await Promise.all([
      pushImage(registry.host, 'signet/app', '1.0'),
      pushImage(registry.host, 'signet/app', '2.0', { format: 'oci' }),
      pushMultiArchIndex(registry.host, 'signet/app', 'multi'),
    ]);
    images = { '1.0': a, '2.0': b, multi: c };
    signet = signetCli({ server: server.url, caFile: server.caFile, trustDir: path.join(dir, 'signet', 'trust') });
    notary = notaryCli({ server: server.url, caFile: server.caFile, trustDir: path.join(dir, 'notary-trust') });
    docker = dockerCli({
      trustServer: server.url,
      dir: path.join(dir, 'docker'),
      dockerHost: dockerd.dockerHost,
      rootPassphrase: SIGNET_PASSPHRASES.root,
      repositoryPassphrase: SIGNET_PASSPHRASES.repository,
    });
  });

  afterAll(async () => {
    await dockerd?.stop();
    await peers?.stop();
  });

  async function signetInspect(): Promise<InspectJson> {
    const r = await signet.ok(['inspect', gun]);
    const parsed = JSON.parse(r.stdout) as InspectJson[];
    expect(parsed).toHaveLength(1);
    return parsed[0] as InspectJson;
  }

  async function dockerInspect(): Promise<InspectJson> {
    const r = await docker.run(['trust', 'inspect', gun]);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as InspectJson[])[0] as InspectJson;
  }

  /** The real notary client (fresh trust dir the first time, then a stale cache) still verifies. */
  async function notaryList(): Promise<Map<string, { digest: string; size: number; role: string }>> {
    const r = await notary.run(['list', gun]);
    expect(r.code, `notary list failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
    return parseNotaryList(r.stdout);
  }

  it('init creates and publishes the repository (server-managed snapshot)', async () => {
    const r = await signet.ok(['init', gun, '--json']);
    const res = JSON.parse(r.stdout) as { serverManagedSnapshot: boolean; published: string[] };
    expect(res.serverManagedSnapshot).toBe(true);
    expect(res.published).toEqual(['root', 'targets']);
    expect((await notaryList()).size).toBe(0);
  });

  it('signs three tags in one call with the digests and sizes the registry serves', async () => {
    await signet.ok(['sign', `${gun}:1.0`, `${gun}:2.0`, `${gun}:multi`]);
    const insp = await signetInspect();
    expect(insp.Name).toBe(gun);
    expect(insp.SignedTags.map((t) => [t.SignedTag, t.Digest, t.Signers])).toEqual([
      ['1.0', hex(images['1.0']!.digest), ['Repo Admin']],
      ['2.0', hex(images['2.0']!.digest), ['Repo Admin']],
      ['multi', hex(images.multi!.digest), ['Repo Admin']],
    ]);
    const list = await notaryList();
    for (const [tag, img] of Object.entries(images)) {
      expect(list.get(tag)).toEqual({ digest: hex(img.digest), size: img.size, role: 'targets' });
    }
    // docker trust inspect shows exactly what signet shows
    expect(await dockerInspect()).toEqual(insp);
  });

  it('docker 28 with DOCKER_CONTENT_TRUST=1 pulls the signed digest', async () => {
    const pull = await docker.run(['pull', `${gun}:multi`], { contentTrust: true });
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stdout).toContain(`@${images.multi!.digest}`);
  });

  it('revokes one tag', async () => {
    await signet.ok(['revoke', `${gun}:2.0`]);
    const list = await notaryList();
    expect([...list.keys()].sort()).toEqual(['1.0', 'multi']);
    const insp = await signetInspect();
    expect(insp.SignedTags.map((t) => t.SignedTag)).toEqual(['1.0', 'multi']);
    expect(await dockerInspect()).toEqual(insp);
    const pull = await docker.run(['pull', `${gun}:2.0`], { contentTrust: true });
    expect(pull.code).not.toBe(0);
    expect(pull.stderr).toMatch(/No valid trust data for 2\.0/);
    const again = await signet.run(['revoke', `${gun}:2.0`]);
    expect(again.code).toBe(3);
  });

  it('adds a signer, signs as that signer, and removes the signer', async () => {
    const keyDir = path.join(dir, 'keys');
    await signet.ok(['key', 'generate', 'alice', '--dir', keyDir]);
    await signet.ok(['signer', 'add', 'alice', gun, '--key', path.join(keyDir, 'alice.pub')]);
    let insp = await signetInspect();
    expect(insp.Signers.map((s) => s.Name)).toEqual(['alice']);
    expect(await dockerInspect()).toEqual(insp);
    await notaryList();

    // now alice holds a key: signing goes into targets/releases + targets/alice
    await signet.ok(['sign', `${gun}:2.0`]);
    insp = await signetInspect();
    expect(insp.SignedTags.find((t) => t.SignedTag === '2.0')).toEqual({
      SignedTag: '2.0',
      Digest: hex(images['2.0']!.digest),
      Signers: ['alice'],
    });
    expect(await dockerInspect()).toEqual(insp);
    const rel = await notary.run(['list', gun, '--roles', 'targets/releases']);
    expect(rel.code, rel.stderr).toBe(0);
    expect(parseNotaryList(rel.stdout).get('2.0')?.digest).toBe(hex(images['2.0']!.digest));

    await signet.ok(['signer', 'remove', 'alice', gun]);
    insp = await signetInspect();
    expect(insp.Signers).toEqual([]);
    expect(await dockerInspect()).toEqual(insp);
    const list = await notaryList();
    expect(list.has('1.0')).toBe(true);
  });

  it('rotates the targets key, then the snapshot key to the client and back to the server', async () => {
    const before = await signetInspect();
    await signet.ok(['key', 'rotate', gun, 'targets']);
    const after = await signetInspect();
    expect(after.AdministrativeKeys.find((k) => k.Name === 'Repository')?.Keys).not.toEqual(
      before.AdministrativeKeys.find((k) => k.Name === 'Repository')?.Keys,
    );
    expect(after.SignedTags.map((t) => t.SignedTag)).toEqual(before.SignedTags.map((t) => t.SignedTag));
    expect(await dockerInspect()).toEqual(after);
    expect((await notaryList()).has('1.0')).toBe(true);

    await signet.ok(['key', 'rotate', gun, 'snapshot']);
    expect((await notaryList()).has('multi')).toBe(true);
    // a publish with the client-held snapshot key
    await signet.ok(['revoke', `${gun}:multi`]);
    expect((await notaryList()).has('multi')).toBe(false);

    await signet.ok(['key', 'rotate', gun, 'snapshot', '--server-managed']);
    expect((await notaryList()).has('1.0')).toBe(true);
    await signet.ok(['key', 'rotate', gun, 'timestamp']);
    expect((await notaryList()).has('1.0')).toBe(true);
    await signet.ok(['sign', `${gun}:multi`]);
    expect((await notaryList()).get('multi')?.digest).toBe(hex(images.multi!.digest));
    expect(await dockerInspect()).toEqual(await signetInspect());
  });

  it('rotates the root key (new root signed by old and new keys) and the clients follow', async () => {
    const before = await signetInspect();
    const r = JSON.parse((await signet.ok(['key', 'rotate', gun, 'root', '--json'])).stdout) as { keyId: string };
    const after = await signetInspect();
    expect(after.AdministrativeKeys.find((k) => k.Name === 'Root')?.Keys).toEqual([{ ID: r.keyId }]);
    expect(after.SignedTags).toEqual(before.SignedTags);
    expect((await notaryList()).has('1.0')).toBe(true);
    expect(await dockerInspect()).toEqual(after);
    // a fresh signet trust dir, pinned to the new root, verifies from scratch
    const fresh = signetCli({ server: server.url, caFile: server.caFile, trustDir: path.join(dir, 'fresh', 'trust') });
    const untrusted = await fresh.run(['inspect', gun]);
    expect(untrusted.code).toBe(4);
    expect(untrusted.stderr).toContain(r.keyId);
    await fresh.ok(['pin', gun, r.keyId]);
    expect(JSON.parse((await fresh.ok(['inspect', gun])).stdout)).toEqual([after]);
  });

  it('deletes the repository on the server', async () => {
    await signet.ok(['delete', gun, '--remote']);
    const r = await signet.run(['inspect', gun]);
    expect(r.code).toBe(3);
    // (a notary client with a cache keeps using it when timestamp.json 404s; a fresh one finds nothing)
    const freshNotary = notaryCli({
      server: server.url,
      caFile: server.caFile,
      trustDir: path.join(dir, 'notary-fresh'),
    });
    expect((await freshNotary.run(['list', gun])).code).not.toBe(0);
  });
});
