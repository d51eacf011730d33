// Issue 4 acceptance 2 and 3: keys move between docker, notary and signet through the trust-dir key
// format, and `signet key backup` / `key restore` gives a working signer in an empty trust dir.
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerCli, type DockerCli } from '../harness/docker-cli.js';
import { notaryCli, type NotaryCli } from '../harness/notary-cli.js';
import { pushImages, type PushedImage } from '../harness/push-image.js';
import type { TestRegistry } from '../harness/registry.js';
import { SIGNET_PASSPHRASES, signetCli, type SignetCli } from '../cli/signet.js';
import { startClientPeers, type ClientPeers, type TrustServer } from '../client/servers.js';

interface InspectJson {
  SignedTags: { SignedTag: string; Digest: string; Signers: string[] }[];
  Signers: { Name: string; Keys: { ID: string }[] }[];
}

const hex = (d: string): string => d.replace(/^sha256:/, '');

describe('keys shared between docker, notary and signet', () => {
  let registry: TestRegistry;
  let server: TrustServer;
  let peers: ClientPeers | undefined;
  let dir: string;
  let gun: string;
  let images: PushedImage[];
  let signet: SignetCli;
  let docker: DockerCli;
  let notary: NotaryCli;

  beforeAll(async () => {
    peers = await startClientPeers('notary-server', 'signet-client-keys-');
    ({ dir, registry, server } = peers);
    gun = `${registry.host}/keys/app`;
    images = await pushImages(registry.host, 'keys/app', ['1.0', '2.0', '3.0']);
    signet = signetCli({ server: server.url, caFile: server.caFile, trustDir: path.join(dir, 'signet', 'trust') });
    docker = dockerCli({
      trustServer: server.url,
      dir: path.join(dir, 'docker'),
      rootPassphrase: SIGNET_PASSPHRASES.root,
      repositoryPassphrase: SIGNET_PASSPHRASES.repository,
    });
    // notary shares signet's trust dir; its passphrase variables match signet's keys
    notary = notaryCli({
      server: server.url,
      caFile: server.caFile,
      trustDir: signet.trustDir,
      passphrases: {
        root: SIGNET_PASSPHRASES.root,
        targets: SIGNET_PASSPHRASES.repository,
        snapshot: SIGNET_PASSPHRASES.repository,
        delegation: SIGNET_PASSPHRASES.repository,
      },
    });
    await signet.ok(['init', gun]);
  });

  afterAll(async () => {
    await peers?.stop();
  });

  const digestOf = (tag: string): string => hex(images.find((i) => i.tag === tag)!.digest);

  it('uses a key made by `docker trust key generate` after `signet key load`', async () => {
    const pubDir = path.join(dir, 'docker-pub');
    await mkdir(pubDir, { recursive: true });
    const gen = await docker.run(['trust', 'key', 'generate', 'bob', '--dir', pubDir]);
    expect(gen.code, gen.stderr).toBe(0);
    const privDir = path.join(docker.trustDir, 'private');
    const files = await readdir(privDir);
    let keyFile: string | undefined;
    for (const f of files)
      if ((await readFile(path.join(privDir, f), 'utf8')).includes('role: bob')) keyFile = path.join(privDir, f);
    expect(keyFile).toBeDefined();

    const load = await signet.ok(['key', 'load', keyFile as string, '--name', 'bob', '--json']);
    const loaded = JSON.parse(load.stdout) as { id: string; role: string };
    expect(loaded.role).toBe('bob');
    expect(`${loaded.id}.key`).toBe(path.basename(keyFile as string));

    await signet.ok(['signer', 'add', 'bob', gun, '--key', path.join(pubDir, 'bob.pub')]);
    await signet.ok(['sign', `${gun}:1.0`]);
    const insp = await docker.run(['trust', 'inspect', gun]);
    expect(insp.code, insp.stderr).toBe(0);
    const parsed = (JSON.parse(insp.stdout) as InspectJson[])[0]!;
    expect(parsed.SignedTags).toEqual([{ SignedTag: '1.0', Digest: digestOf('1.0'), Signers: ['bob'] }]);
    expect(parsed.Signers).toEqual([{ Name: 'bob', Keys: [{ ID: loaded.id }] }]);
    const list = await notary.run(['list', gun, '--roles', 'targets/bob']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(digestOf('1.0'));
  });

  it('fails loudly when `signet key load` gets a file it cannot use', async () => {
    const bad = path.join(dir, 'bad.pem');
    await writeFile(bad, 'this is not a key\n', { mode: 0o600 });
    const r1 = await signet.run(['key', 'load', bad, '--name', 'mallory']);
    expect(r1.code).not.toBe(0);
    expect(r1.stderr).toMatch(/not a private key/);

    // an encrypted key whose passphrase is wrong: exit 7 and the variable named, nothing imported
    const pubDir = path.join(dir, 'docker-pub2');
    await mkdir(pubDir, { recursive: true });
    expect((await docker.run(['trust', 'key', 'generate', 'dave', '--dir', pubDir])).code).toBe(0);
    const privDir = path.join(docker.trustDir, 'private');
    let daveFile = '';
    for (const f of await readdir(privDir))
      if ((await readFile(path.join(privDir, f), 'utf8')).includes('role: dave')) daveFile = path.join(privDir, f);
    const r2 = await signet.run(['key', 'load', daveFile, '--name', 'dave'], {
      env: { DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: 'not-the-passphrase' },
    });
    expect(r2.code).toBe(7);
    expect(r2.stderr).toMatch(/DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE/);
    const keys = JSON.parse((await signet.ok(['key', 'list', '--json'])).stdout) as { role: string }[];
    expect(keys.map((k) => k.role)).not.toContain('dave');

    // a key file others can read is refused, as docker does
    const open = path.join(dir, 'open.key');
    await writeFile(open, await readFile(daveFile));
    await chmod(open, 0o644);
    const r3 = await signet.run(['key', 'load', open, '--name', 'dave']);
    expect(r3.code).not.toBe(0);
    expect(r3.stderr).toMatch(/group or others/);
  });

  it('makes keys the real notary client uses (delegation add + publish with the key file)', async () => {
    const pubDir = path.join(dir, 'signet-pub');
    const gen = JSON.parse((await signet.ok(['key', 'generate', 'carol', '--dir', pubDir, '--json'])).stdout) as {
      id: string;
    };
    const add = await notary.run([
      'delegation',
      'add',
      gun,
      'targets/carol',
      path.join(pubDir, 'carol.pub'),
      '--all-paths',
    ]);
    expect(add.code, add.stderr).toBe(0);
    const pub = await notary.run(['publish', gun]);
    expect(pub.code, `${pub.stdout}\n${pub.stderr}`).toBe(0);

    // notary signs a target into targets/carol with the signet-generated private key
    const file = path.join(dir, 'payload.bin');
    await writeFile(file, 'carol was here\n');
    expect((await notary.run(['add', gun, 'carol-file', file, '--roles', 'targets/carol'])).code).toBe(0);
    const pub2 = await notary.run(['publish', gun]);
    expect(pub2.code, `${pub2.stdout}\n${pub2.stderr}`).toBe(0);
    const list = await notary.run(['list', gun, '--roles', 'targets/carol']);
    expect(list.stdout).toContain('carol-file');

    const insp = JSON.parse((await signet.ok(['inspect', gun])).stdout) as InspectJson[];
    expect(insp[0]!.Signers.find((s) => s.Name === 'carol')?.Keys).toEqual([{ ID: gen.id }]);
  });

  it('publishes a change the notary CLI staged in the shared changelist', async () => {
    const file = path.join(dir, 'payload2.bin');
    await writeFile(file, 'staged by notary\n');
    expect((await notary.run(['add', gun, 'from-notary', file])).code).toBe(0);
    const status = JSON.parse((await signet.ok(['status', gun, '--json'])).stdout) as {
      action: string;
      path: string;
    }[];
    expect(status).toEqual([expect.objectContaining({ action: 'create', path: 'from-notary' })]);
    await signet.ok(['publish', gun]);
    const list = await notary.run(['list', gun]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('from-notary');
    expect(JSON.parse((await signet.ok(['status', gun, '--json'])).stdout)).toEqual([]);
  });

  it('restores a key backup into an empty trust dir as a working signer', async () => {
    const archive = path.join(dir, 'keys.backup');
    const env = { SIGNET_BACKUP_PASSPHRASE: 'backup-pass-123' };
    await signet.ok(['key', 'backup', archive], { env });
    const fresh = signetCli({
      server: server.url,
      caFile: server.caFile,
      trustDir: path.join(dir, 'restored', 'trust'),
    });
    await fresh.ok(['key', 'restore', archive], { env });
    const before = (JSON.parse((await signet.ok(['key', 'list', '--json'])).stdout) as { id: string }[])
      .map((k) => k.id)
      .sort();
    const after = (JSON.parse((await fresh.ok(['key', 'list', '--json'])).stdout) as { id: string }[])
      .map((k) => k.id)
      .sort();
    expect(after).toEqual(before);

    // a wrong backup passphrase is refused (exit 7)
    const wrong = signetCli({ server: server.url, caFile: server.caFile, trustDir: path.join(dir, 'wrong', 'trust') });
    const bad = await wrong.run(['key', 'restore', archive], { env: { SIGNET_BACKUP_PASSPHRASE: 'nope-nope-nope' } });
    expect(bad.code).not.toBe(0);

    // the restored trust dir signs a new tag (first contact with the server: --tofu)
    await fresh.ok(['--tofu', 'sign', `${gun}:3.0`]);
    const list = await notary.run(['list', gun, '--roles', 'targets/releases']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(digestOf('3.0'));
    const insp = (JSON.parse((await fresh.ok(['--tofu', 'inspect', `${gun}:3.0`])).stdout) as InspectJson[])[0]!;
    expect(insp.SignedTags).toEqual([{ SignedTag: '3.0', Digest: digestOf('3.0'), Signers: ['bob', 'carol'] }]);
  });

  it('initialises with a client-held snapshot key and publishes snapshots it signs itself', async () => {
    const local = `${registry.host}/keys/local`;
    await pushImages(registry.host, 'keys/local', ['1.0']);
    const init = JSON.parse((await signet.ok(['init', local, '--local-snapshot', '--json'])).stdout) as {
      snapshotKeyId: string | null;
    };
    expect(init.snapshotKeyId).toMatch(/^[0-9a-f]{64}$/);
    await signet.ok(['sign', `${local}:1.0`]);
    const list = await notary.run(['list', local]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/1\.0\s+[0-9a-f]{64}/);
  });

  it('exports keys notary imports, and imports keys notary exports', async () => {
    const exported = path.join(dir, 'signet-export.pem');
    await signet.ok(['key', 'export', '-o', exported]);
    const ours = (JSON.parse((await signet.ok(['key', 'list', '--json'])).stdout) as { id: string }[])
      .map((k) => k.id)
      .sort();
    const other = notaryCli({
      server: server.url,
      caFile: server.caFile,
      trustDir: path.join(dir, 'notary-import'),
      passphrases: {
        root: SIGNET_PASSPHRASES.root,
        targets: SIGNET_PASSPHRASES.repository,
        snapshot: SIGNET_PASSPHRASES.repository,
        delegation: SIGNET_PASSPHRASES.repository,
      },
    });
    const imp = await other.run(['key', 'import', exported]);
    expect(imp.code, `${imp.stdout}\n${imp.stderr}`).toBe(0);
    const listed = await other.run(['key', 'list']);
    for (const id of ours) expect(listed.stdout).toContain(id);

    const back = path.join(dir, 'notary-export.pem');
    const exp = await other.run(['key', 'export', '-o', back]);
    expect(exp.code, exp.stderr).toBe(0);
    const again = signetCli({
      server: server.url,
      caFile: server.caFile,
      trustDir: path.join(dir, 'reimport', 'trust'),
    });
    await again.ok(['key', 'import', back]);
    const theirs = (JSON.parse((await again.ok(['key', 'list', '--json'])).stdout) as { id: string }[])
      .map((k) => k.id)
      .sort();
    expect(theirs).toEqual(ours);
  });
});
