/**
 * Real data from the real docker 28 CLI: `docker trust signer add` creates targets/releases and
 * targets/alice, the tag is signed into `targets` (notary addhash on docker's trust dir) and then
 * `docker trust sign` re-signs it into every delegation alice holds. Signet must resolve it through
 * targets/releases (Docker's order) and agree with `docker trust inspect`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/index.js';
import { NotaryRemote } from '../../src/remote/index.js';
import { verifyImage } from '../../src/client/index.js';
import { PinStore, Updater, listSignedTags, resolveTag } from '../../src/updater/index.js';
import { TRUST_SERVERS, startClientPeers, type ClientPeers, type TrustServer } from '../client/servers.js';
import { dockerCli, type DockerCli } from '../harness/docker-cli.js';
import { notaryCli } from '../harness/notary-cli.js';
import { pushImage, type PushedImage } from '../harness/push-image.js';
import type { TestRegistry } from '../harness/registry.js';

describe.each(TRUST_SERVERS)('signet verify of docker trust data on %s', (serverName) => {
  let tmp: string;
  let server: TrustServer;
  let peers: ClientPeers | undefined;
  let registry: TestRegistry;
  let img: PushedImage;
  let docker: DockerCli;

  beforeAll(async () => {
    peers = await startClientPeers(serverName, `signet-verify-docker-${serverName}-`);
    ({ dir: tmp, registry, server } = peers);
    img = await pushImage(registry.host, 'verify/dockerapp', 'v1');
    docker = dockerCli({ trustServer: server.url, dir: path.join(tmp, 'docker') });
    const step = async (
      what: string,
      p: Promise<{ code: number | null; stdout: string; stderr: string }>,
    ): Promise<void> => {
      const r = await p;
      expect(r.code, `${what}\n${r.stdout}\n${r.stderr}`).toBe(0);
    };
    await step('key generate', docker.run(['trust', 'key', 'generate', 'alice', '--dir', tmp]));
    await step(
      'signer add',
      docker.run(['trust', 'signer', 'add', '--key', path.join(tmp, 'alice.pub'), 'alice', img.gun]),
    );
    const notary = notaryCli({ server: server.url, caFile: server.caFile, trustDir: docker.trustDir });
    await step(
      'notary addhash',
      notary.run(['addhash', img.gun, 'v1', String(img.size), '--sha256', img.digest.slice('sha256:'.length), '-p']),
    );
    await step('docker trust sign', docker.run(['trust', 'sign', `${img.gun}:v1`]));
  }, 240_000);

  afterAll(async () => {
    await peers?.stop();
  });

  it('resolves the tag through targets/releases and verifies the registry manifest', async () => {
    const trustDir = path.join(tmp, 'signet');
    const remote = new NotaryRemote({ serverUrl: server.url, ca: await readFile(server.caFile) });
    const reg = new RegistryClient({ retries: 0 });
    try {
      const updater = new Updater({ gun: img.gun, remote, trustDir, pins: new PinStore(trustDir), tofu: true });
      const v = await verifyImage({
        ref: `${img.gun}:v1`,
        updater,
        registry: reg,
      });
      expect(v.role).toBe('targets/releases');
      expect(v.digest).toBe(img.digest);
      expect(resolveTag(v.repo, 'v1', ['targets'])?.digest).toBe(img.digest);
      expect(v.repo.delegations.has('targets/alice')).toBe(true);

      const inspect = await docker.run(['trust', 'inspect', img.gun]);
      expect(inspect.code, inspect.stderr).toBe(0);
      const want = (
        JSON.parse(inspect.stdout) as Array<{
          SignedTags: Array<{ SignedTag: string; Digest: string; Signers: string[] }>;
        }>
      )[0]?.SignedTags;
      expect(
        listSignedTags(v.repo).map((t) => ({ SignedTag: t.tag, Digest: t.digest.slice(7), Signers: t.signers })),
      ).toEqual(want);
    } finally {
      await remote.close();
      await reg.close();
    }
  });
});
