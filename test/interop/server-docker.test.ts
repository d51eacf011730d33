/**
 * The Docker CLI 28 against Signet's server: `docker trust` without a daemon, and with the fake
 * dockerd `trust sign` of a new tag, DCT push and DCT pull. GUNs on a loopback registry (docker
 * then skips TLS verification of the trust server, NOTES gotcha 10), plus one docker.io GUN that
 * needs the server's CA installed in $DOCKER_CONFIG/tls/<host:port>/.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerCli, type DockerCli } from '../harness/docker-cli.js';
import { startFakeDockerd, type FakeDockerd } from '../harness/fake-dockerd.js';
import { pushImage } from '../harness/push-image.js';
import { startRegistry, type TestRegistry } from '../harness/registry.js';
import { startTestServer, type StartedServer } from '../server/start-helper.js';

interface Inspect {
  Name: string;
  SignedTags: { SignedTag: string; Digest: string; Signers: string[] }[];
  Signers: { Name: string; Keys: { ID: string }[] }[];
  AdministrativeKeys: { Name: string; Keys: { ID: string }[] }[];
}

async function ok(d: DockerCli, args: string[], opts: Parameters<DockerCli['run']>[1] = {}): Promise<string> {
  const r = await d.run(args, opts);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} → ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

async function inspect(d: DockerCli, ref: string): Promise<Inspect> {
  const out = JSON.parse(await ok(d, ['trust', 'inspect', ref])) as Inspect[];
  return out[0] as Inspect;
}

describe('docker CLI 28 against Signet', () => {
  let srv: StartedServer;
  let reg: TestRegistry;
  let dockerd: FakeDockerd;
  let dir: string;
  let docker: DockerCli;
  let daemonless: DockerCli;
  let gun: string;
  const pushed = new Map<string, { digest: string; size: number }>();

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'signet-docker-'));
    [srv, reg] = await Promise.all([startTestServer(), startRegistry()]);
    gun = `${reg.host}/library/signet-app`;
    dockerd = await startFakeDockerd({
      dir: path.join(dir, 'dockerd'),
      resolvePush: async (name, tag) => {
        const img = await pushImage(reg.host, name.slice(reg.host.length + 1), tag);
        pushed.set(tag, { digest: img.digest, size: img.size });
        return { digest: img.digest, size: img.size };
      },
    });
    // same DOCKER_CONFIG (trust dir), with and without an engine
    docker = dockerCli({ trustServer: srv.url, dockerHost: dockerd.dockerHost, dir: path.join(dir, 'd') });
    daemonless = dockerCli({ trustServer: srv.url, dir: path.join(dir, 'd') });
  });
  afterAll(async () => {
    await dockerd?.stop();
    await reg?.stop();
    await srv?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('trust key generate + trust signer add initialise the repository (server-managed snapshot)', async () => {
    await ok(daemonless, ['trust', 'key', 'generate', 'alice', '--dir', dir]);
    await ok(daemonless, ['trust', 'signer', 'add', '--key', path.join(dir, 'alice.pub'), 'alice', gun]);
    const i = await inspect(daemonless, gun);
    expect(i.Name).toBe(gun);
    expect(i.SignedTags).toEqual([]);
    expect(i.Signers.map((s) => s.Name)).toEqual(['alice']);
    expect(i.AdministrativeKeys.map((k) => k.Name)).toEqual(['Root', 'Repository']);
  });

  it('trust sign of a new tag through the (fake) daemon', async () => {
    await ok(docker, ['trust', 'sign', `${gun}:1.0`]);
    const i = await inspect(daemonless, gun);
    expect(i.SignedTags).toEqual([
      { SignedTag: '1.0', Digest: pushed.get('1.0')?.digest.slice(7), Signers: ['alice'] },
    ]);
  });

  it('trust sign of an already-signed tag works without a daemon, and inspect has the reference shape', async () => {
    await ok(daemonless, ['trust', 'key', 'generate', 'bob', '--dir', dir]);
    await ok(daemonless, ['trust', 'signer', 'add', '--key', path.join(dir, 'bob.pub'), 'bob', gun]);
    await ok(daemonless, ['trust', 'sign', `${gun}:1.0`]);
    const i = await inspect(daemonless, gun);
    const ref = (
      JSON.parse(
        readFileSync(path.join(import.meta.dirname, '../fixtures/vectors/docker/cli/trust-inspect.json'), 'utf8'),
      ) as Inspect[]
    )[0] as Inspect;
    // same keys at every level as the reference output
    expect(Object.keys(i)).toEqual(Object.keys(ref));
    expect(Object.keys(i.SignedTags[0] ?? {})).toEqual(Object.keys(ref.SignedTags[0] ?? {}));
    expect(Object.keys(i.Signers[0] ?? {})).toEqual(Object.keys(ref.Signers[0] ?? {}));
    expect(i.SignedTags[0]?.Signers).toEqual(['alice', 'bob']);
    expect(i.Signers.map((s) => s.Name).sort()).toEqual(['alice', 'bob']);
    for (const s of i.Signers) expect(s.Keys[0]?.ID).toMatch(/^[0-9a-f]{64}$/);
  });

  it('DOCKER_CONTENT_TRUST=1 docker push signs the pushed digest', async () => {
    await ok(docker, ['push', `${gun}:2.0`], { contentTrust: true });
    const i = await inspect(daemonless, gun);
    const t = i.SignedTags.find((s) => s.SignedTag === '2.0');
    expect(t?.Digest).toBe(pushed.get('2.0')?.digest.slice(7));
  });

  it('DOCKER_CONTENT_TRUST=1 docker pull resolves a signed tag through Signet and refuses an unsigned one', async () => {
    const out = await ok(docker, ['pull', `${gun}:2.0`], { contentTrust: true });
    expect(out).toContain(pushed.get('2.0')?.digest as string);
    const r = await docker.run(['pull', `${gun}:4.0`], { contentTrust: true });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/No valid trust data for 4\.0|does not have trust data/);
  });

  it('trust revoke removes the tag', async () => {
    await ok(daemonless, ['trust', 'revoke', '--yes', `${gun}:1.0`]);
    const i = await inspect(daemonless, gun);
    expect(i.SignedTags.map((t) => t.SignedTag)).toEqual(['2.0']);
  });

  it('a docker.io GUN (TLS verified) fails without the CA and works with it installed in DOCKER_CONFIG/tls', async () => {
    const other = dockerCli({ trustServer: srv.url, dir: path.join(dir, 'hub') });
    await ok(other, ['trust', 'key', 'generate', 'carol', '--dir', dir]);
    const hubGun = 'docker.io/signet/ca-test';
    const no = await other.run(['trust', 'signer', 'add', '--key', path.join(dir, 'carol.pub'), 'carol', hubGun]);
    expect(no.code).not.toBe(0);
    expect(no.stderr).toMatch(/x509|certificate/);
    await other.installCA(new URL(srv.url).host, srv.caFile as string);
    await ok(other, ['trust', 'signer', 'add', '--key', path.join(dir, 'carol.pub'), 'carol', hubGun]);
    const i = await inspect(other, hubGun);
    expect(i.Signers.map((s) => s.Name)).toEqual(['carol']);
  });
});
