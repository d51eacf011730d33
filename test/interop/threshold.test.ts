/**
 * Thresholds above 1 from start to finish against Signet's server (`signet server`, a child
 * process) and, for comparison, the real notary-server 0.7: an admin adds signers alice and bob with targets/releases at threshold 2; alice, in
 * her own trust dir, signs a tag into a proposal; one signature is neither published nor accepted by
 * `signet verify`; bob co-signs from his own trust dir and publishes; then `signet verify`, the real
 * notary client (`notary lookup`, `notary list`) and the Docker 28 CLI (`docker trust inspect`, DCT
 * pull through the engine stand-in) all accept it. A second repository shows a release left below a
 * raised threshold refused by every reader (docs/thresholds.md).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNET_PASSPHRASES, signetCli, type SignetCli } from '../cli/signet.js';
import { parseProposal } from '../../src/client/index.js';
import { isSignetError } from '../../src/errors.js';
import { NotaryRemote } from '../../src/remote/index.js';
import { TRUST_SERVERS, startClientPeers, type ClientPeers } from '../client/servers.js';
import { dockerCli, type DockerCli } from '../harness/docker-cli.js';
import { startFakeDockerd, type FakeDockerd } from '../harness/fake-dockerd.js';
import { notaryCli } from '../harness/notary-cli.js';
import { pushImage, type PushedImage } from '../harness/push-image.js';

interface RoleRow {
  Role: string;
  Threshold: number;
  Keys: string[];
  SignedBy: string[];
  Signers: string[];
  Valid: boolean;
}

const hex = (digest: string): string => digest.slice('sha256:'.length);

describe.each(TRUST_SERVERS)('a threshold-2 delegation co-signed by two holders, against %s', (serverName) => {
  let peers: ClientPeers | undefined;
  let dockerd: FakeDockerd | undefined;
  let img: PushedImage;
  let raised: PushedImage;
  let admin: SignetCli;
  let alice: SignetCli;
  let bob: SignetCli;
  let reader: SignetCli;
  let docker: DockerCli;
  let dir: string;
  let proposal: string;
  const keyIds: Record<string, string> = {};

  /** A signet CLI with its own trust dir (and home) under `dir/<who>`. */
  const cli = (who: string): SignetCli =>
    signetCli({ server: peers?.server.url, caFile: peers?.server.caFile, trustDir: path.join(dir, who, 'trust') });

  beforeAll(async () => {
    peers = await startClientPeers(serverName, `signet-threshold-${serverName}-`);
    dir = peers.dir;
    [img, raised] = await Promise.all([
      pushImage(peers.registry.host, 'thresh/app', 'v1'),
      pushImage(peers.registry.host, 'thresh/raised', 'v1'),
    ]);
    dockerd = await startFakeDockerd({
      dir: path.join(dir, 'dockerd'),
      resolvePush: async () => {
        throw new Error('this test never pushes through docker');
      },
    });
    docker = dockerCli({
      trustServer: peers.server.url,
      dir: path.join(dir, 'docker'),
      dockerHost: dockerd.dockerHost,
      rootPassphrase: SIGNET_PASSPHRASES.root,
      repositoryPassphrase: SIGNET_PASSPHRASES.repository,
    });
    admin = cli('admin');
    alice = cli('alice');
    bob = cli('bob');
    reader = cli('reader');
    proposal = path.join(dir, 'release-v1.proposal.json');
    for (const [who, c] of [
      ['alice', alice],
      ['bob', bob],
    ] as const) {
      const r = await c.ok(['key', 'generate', who, '--dir', dir, '--json']);
      keyIds[who] = (JSON.parse(r.stdout) as { id: string }).id;
    }
  }, 240_000);

  afterAll(async () => {
    await dockerd?.stop();
    await peers?.stop();
  });

  it('the admin adds alice and bob, targets/releases at threshold 2', async () => {
    await admin.ok(['signer', 'add', 'alice', img.gun, '--key', path.join(dir, 'alice.pub')]);
    const r = await admin.ok(['signer', 'add', 'bob', img.gun, '--key', path.join(dir, 'bob.pub'), '--threshold', '2']);
    expect(r.stdout).toContain('targets/releases of');
    const insp = JSON.parse((await admin.ok(['inspect', img.gun, '--roles'])).stdout) as { Roles: RoleRow[] }[];
    expect(insp[0]?.Roles.find((x) => x.Role === 'targets/releases')).toMatchObject({ Threshold: 2 });
    expect(insp[0]?.Roles.find((x) => x.Role === 'targets')).toMatchObject({ Threshold: 1, Valid: true });
  });

  it('alice alone: a plain sign is refused, a proposal holds 1 of 2 and is not published', async () => {
    const plain = await alice.run(['--tofu', 'sign', `${img.gun}:v1`]);
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toContain('need 2, have 1');
    expect(plain.stderr).toContain('--proposal');

    // a proposal changes published trust data: none yet is a clear error, and no file is written
    const none = await alice.run(['--tofu', 'sign', `${raised.gun}:v1`, '--proposal', `${proposal}.none`]);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain(`${raised.gun} has no trust data on the server`);
    expect(existsSync(`${proposal}.none`)).toBe(false);

    const made = await alice.ok(['--tofu', 'sign', `${img.gun}:v1`, '--proposal', proposal]);
    expect(made.stdout).toContain(`targets/releases: sign v1 → ${img.digest} (${img.size} bytes)`);
    expect(made.stdout).toContain('targets/releases: 1 of 2 required signatures');

    const pub = await alice.run(['proposal', 'publish', proposal]);
    expect(pub.code).toBe(4);
    expect(pub.stderr).toContain('targets/releases has 1 of 2 required signatures');
    expect(pub.stderr).toContain('proposal sign');

    // the 1-of-2 file uploaded directly: 400, and the server still has no targets/releases
    const peer = peers as ClientPeers;
    const remote = new NotaryRemote({ serverUrl: peer.server.url, ca: await readFile(peer.server.caFile), retries: 0 });
    try {
      const p = await parseProposal(await readFile(proposal, 'utf8'), proposal);
      const releases = p.roles.find((x) => x.role === 'targets/releases');
      const err = await remote
        .publish(img.gun, [{ role: 'targets/releases', bytes: Buffer.from(releases?.file ?? '', 'base64') }])
        .catch((e: unknown) => e);
      expect(isSignetError(err, 'SERVER_REJECTED')).toBe(true);
      expect((err as { details?: { status?: number } }).details?.status).toBe(400);
      const missing = await remote.getRole(img.gun, 'targets/releases', { maxBytes: 1 << 20 }).catch((e: unknown) => e);
      expect(isSignetError(missing, 'NOT_FOUND')).toBe(true);
    } finally {
      await remote.close();
    }

    const v = await reader.run(['--tofu', 'verify', `${img.gun}:v1`]);
    expect(v.code).not.toBe(0);
    expect(v.stderr).toMatch(/not signed/);
  });

  it('bob sees what he signs, co-signs from his own trust dir and publishes', async () => {
    const shown = await bob.ok(['--tofu', 'proposal', 'show', proposal]);
    expect(shown.stdout).toContain(`targets/releases: sign v1 → ${img.digest}`);
    expect(shown.stdout).toContain(`signed by ${keyIds.alice} (alice)`);
    const signed = await bob.ok(['proposal', 'sign', proposal]);
    expect(signed.stdout).toContain(`targets/releases with ${keyIds.bob}`);
    expect(signed.stdout).toContain('targets/releases: 2 of 2 required signatures — complete');
    const pub = await bob.ok(['proposal', 'publish', proposal, '--json']);
    expect((JSON.parse(pub.stdout) as { published: string[] }).published).toEqual([
      'targets/alice',
      'targets/releases',
    ]);
  });

  it('signet verify accepts it, and inspect names both signers of targets/releases', async () => {
    const v = await reader.ok(['--tofu', 'verify', `${img.gun}:v1`, '--json']);
    expect(JSON.parse(v.stdout)).toMatchObject({ verified: true, digest: img.digest, role: 'targets/releases' });
    const insp = JSON.parse((await reader.ok(['--tofu', 'inspect', img.gun, '--roles'])).stdout) as {
      Roles: RoleRow[];
    }[];
    const rel = insp[0]?.Roles.find((x) => x.Role === 'targets/releases');
    expect(rel).toMatchObject({ Threshold: 2, Valid: true });
    expect([...(rel?.SignedBy ?? [])].sort()).toEqual([keyIds.alice, keyIds.bob].sort());
    expect([...(rel?.Signers ?? [])].sort()).toEqual(['alice', 'bob']);
    const pretty = await reader.ok(['--tofu', 'inspect', img.gun, '--pretty']);
    expect(pretty.stdout).toMatch(/targets\/releases\s+2\s+2\/2/);
    // the published proposal is spent
    const again = await bob.run(['proposal', 'publish', proposal]);
    expect(again.stderr).toContain('this proposal is already published');
  });

  it('the real notary client looks it up and lists it', async () => {
    const peer = peers as ClientPeers;
    const notary = notaryCli({
      server: peer.server.url,
      caFile: peer.server.caFile,
      trustDir: path.join(dir, 'notary'),
    });
    const lookup = await notary.run(['lookup', img.gun, 'v1']);
    expect(lookup.code, lookup.stderr).toBe(0);
    expect(lookup.stdout).toContain(`v1 sha256:${hex(img.digest)} ${img.size}`);
    const list = await notary.run(['list', img.gun]);
    expect(list.code, list.stderr).toBe(0);
    // notary lists each name once, from the first role of its walk that has it
    expect(list.stdout).toMatch(new RegExp(`v1\\s+${hex(img.digest)}\\s+${img.size}\\s+targets/(alice|releases)`));
  });

  it('docker 28 inspects it and pulls it with content trust', async () => {
    const r = await docker.run(['trust', 'inspect', img.gun]);
    expect(r.code, r.stderr).toBe(0);
    const insp = JSON.parse(r.stdout) as { SignedTags: { SignedTag: string; Digest: string; Signers: string[] }[] }[];
    expect(insp[0]?.SignedTags).toEqual([{ SignedTag: 'v1', Digest: hex(img.digest), Signers: ['alice'] }]);
    const pull = await docker.run(['pull', `${img.gun}:v1`], { contentTrust: true });
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stdout).toContain(`@${img.digest}`);
  });

  it('staged changes become a proposal (proposal create), cleared from the changelist', async () => {
    const file = path.join(dir, 'release-v2.proposal.json');
    await alice.ok([
      'target',
      'add',
      img.gun,
      'v2',
      '--sha256',
      hex(img.digest),
      '--size',
      String(img.size),
      '-r',
      'targets/releases',
      '-r',
      'targets/alice',
    ]);
    const made = await alice.ok(['proposal', 'create', img.gun, '-o', file]);
    expect(made.stdout).toContain(`targets/releases: sign v2 → ${img.digest}`);
    expect(made.stdout).toContain('targets/releases: 1 of 2 required signatures');
    const status = await alice.ok(['status', img.gun, '--json']);
    expect(JSON.parse(status.stdout)).toEqual([]);
    await bob.ok(['proposal', 'sign', file]);
    await alice.ok(['proposal', 'publish', file]);
    const v = await reader.ok(['--tofu', 'verify', `${img.gun}:v2`, '--json']);
    expect(JSON.parse(v.stdout)).toMatchObject({ verified: true, role: 'targets/releases' });
  });

  it('a second repository key at threshold 2, co-signed through a proposal; docker and notary still read it', async () => {
    // admin2 makes their key in their own trust dir; only the public half goes to the admin
    const admin2 = cli('admin2');
    await admin2.ok(['key', 'generate', 'admin2', '--dir', dir]);
    const file = path.join(dir, 'keys.proposal.json');
    const alone = await admin.run([
      'repository-key',
      'add',
      img.gun,
      '--key',
      path.join(dir, 'admin2.pub'),
      '--threshold',
      '2',
    ]);
    expect(alone.code).not.toBe(0);
    expect(alone.stderr).toContain('need 2, have 1');
    const made = await admin.ok([
      'repository-key',
      'add',
      img.gun,
      '--key',
      path.join(dir, 'admin2.pub'),
      '--threshold',
      '2',
      '--proposal',
      file,
    ]);
    expect(made.stdout).toContain('root: targets role: +key');
    expect(made.stdout).toContain('threshold 1 → 2');
    await admin2.ok(['--tofu', 'proposal', 'sign', file]);
    await admin2.ok(['proposal', 'publish', file]);
    const insp = JSON.parse((await reader.ok(['--tofu', 'inspect', img.gun, '--roles'])).stdout) as {
      Roles: RoleRow[];
    }[];
    const targets = insp[0]?.Roles.find((x) => x.Role === 'targets');
    expect(targets).toMatchObject({ Threshold: 2, Valid: true });
    expect(targets?.SignedBy).toHaveLength(2);
    const d = await docker.run(['trust', 'inspect', img.gun]);
    expect(d.code, d.stderr).toBe(0);
    const repoKeys = (
      JSON.parse(d.stdout) as { AdministrativeKeys: { Name: string; Keys: unknown[] }[] }[]
    )[0]?.AdministrativeKeys.find((k) => k.Name === 'Repository');
    expect(repoKeys?.Keys).toHaveLength(2);
    const peer = peers as ClientPeers;
    const notary = notaryCli({
      server: peer.server.url,
      caFile: peer.server.caFile,
      trustDir: path.join(dir, 'notary2'),
    });
    const list = await notary.run(['list', img.gun]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('v2');
  });

  it('a release signed by one key stops verifying when the threshold goes up to 2, in every reader', async () => {
    const gun = raised.gun;
    await admin.ok(['signer', 'add', 'alice', gun, '--key', path.join(dir, 'alice.pub')]);
    await admin.ok(['signer', 'add', 'bob', gun, '--key', path.join(dir, 'bob.pub')]);
    await alice.ok(['--tofu', 'sign', `${gun}:v1`]);
    await reader.ok(['--tofu', 'verify', `${gun}:v1`]);
    const json = await reader.run(['--tofu', 'verify', `${gun}:v1`, '--json']);
    expect(json.code).toBe(0);
    const raise = await admin.ok(['signer', 'threshold', gun, '2']);
    expect(raise.stderr).toContain('targets/releases of');
    expect(raise.stderr).toContain('readers ignore it');

    const v = await reader.run(['--tofu', 'verify', `${gun}:v1`]);
    expect(v.code).toBe(4);
    expect(v.stderr).toContain('not signed in');
    expect(v.stderr).toContain('targets/releases: 1 valid signature(s) from distinct keys of the role, 2 required');
    const insp = await reader.ok(['--tofu', 'inspect', gun, '--pretty']);
    expect(insp.stdout).toMatch(/targets\/releases\s+2\s+0\/2 \(not trusted: no file meeting the threshold\)/);

    const pull = await docker.run(['pull', `${gun}:v1`], { contentTrust: true });
    expect(pull.code).not.toBe(0);
  });

  it('repository-key add --remove hands the targets role to another holder in one co-signed proposal', async () => {
    const gun = raised.gun;
    const rolesOf = async (): Promise<RoleRow[]> =>
      (JSON.parse((await reader.ok(['--tofu', 'inspect', gun, '--roles'])).stdout) as { Roles: RoleRow[] }[])[0]
        ?.Roles ?? [];
    const old = (await rolesOf()).find((x) => x.Role === 'targets')?.Keys ?? [];
    expect(old).toHaveLength(1);
    const file = path.join(dir, 'handover.proposal.json');
    const args = ['repository-key', 'add', gun, '--key', path.join(dir, 'admin2.pub'), '--remove', old[0] as string];
    await admin.ok([...args, '--proposal', file]);
    const admin2 = cli('admin2');
    await admin2.ok(['--tofu', 'proposal', 'sign', file]);
    await admin2.ok(['proposal', 'publish', file]);
    const targets = (await rolesOf()).find((x) => x.Role === 'targets');
    expect(targets).toMatchObject({ Threshold: 1, Valid: true });
    expect(targets?.Keys).toHaveLength(1);
    expect(targets?.Keys).not.toEqual(old);
    // the old repository key can no longer sign targets
    const later = await admin.run(['signer', 'threshold', gun, '1']);
    expect(later.code).not.toBe(0);
  });
});
