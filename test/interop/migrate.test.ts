/**
 * `signet migrate`: a repository made by the real notary CLI on the real notary-server 0.7, whose
 * root key is in the trust dir, moves to Signet's server (a real `signet server` process). The
 * owner's trust dir and a pinned consumer's trust dir then verify it there under the unchanged pin,
 * the notary CLI reads and publishes there, and the notary deployment is gone.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRoot } from '../../src/tuf/index.js';
import { signetCli, type SignetCli } from '../cli/signet.js';
import { startClientPeers, startTrustServer, type ClientPeers, type TrustServer } from '../client/servers.js';
import { TEST_PASSPHRASES, notaryCli, type NotaryCli } from '../harness/notary-cli.js';
import { pushImage, type PushedImage } from '../harness/push-image.js';

type Result = { code: number | null; stdout: string; stderr: string };
const ok = (what: string, r: Result): Result => {
  expect(r.code, `${what}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);
  return r;
};

describe('signet migrate: notary-server → Signet with the owner root key', () => {
  let peers: ClientPeers | undefined; // registry + notary-server
  let dest: TrustServer | undefined;
  let img: PushedImage;
  let gun: string;
  let ownerTrust: string;
  let notary: NotaryCli;
  let owner: SignetCli;
  let consumer: SignetCli;
  let rootKeyId: string;
  const env = {
    DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: TEST_PASSPHRASES.root,
    NOTARY_ROOT_PASSPHRASE: TEST_PASSPHRASES.root,
  };

  beforeAll(async () => {
    peers = await startClientPeers('notary-server', 'signet-migrate-');
    dest = await startTrustServer('signet-server', peers.dir);
    img = await pushImage(peers.registry.host, 'migrate/app', 'v1');
    gun = img.gun;
    const src = peers.server;
    ownerTrust = path.join(peers.dir, 'owner-trust');
    notary = notaryCli({ server: src.url, caFile: src.caFile, trustDir: ownerTrust });
    const hex = img.digest.slice('sha256:'.length);
    ok('init', await notary.run(['init', gun]));
    ok('addhash v1', await notary.run(['addhash', gun, 'v1', String(img.size), '--sha256', hex]));
    ok('publish', await notary.run(['publish', gun]));
    ok('snapshot to the server', await notary.run(['key', 'rotate', gun, 'snapshot', '-r']));
    ok('addhash v2', await notary.run(['addhash', gun, 'v2', String(img.size), '--sha256', hex, '-p']));
    const rootJson = await notary.run(['list', gun]);
    ok('list', rootJson);
    rootKeyId = parseRoot(
      Buffer.from(
        await (await import('node:fs/promises')).readFile(path.join(ownerTrust, 'tuf', gun, 'metadata', 'root.json')),
      ),
    ).signed.roles['root']!.keyids[0]!;

    // the owner and a consumer (no keys, only a pin and a warm cache) verify on the source
    owner = signetCli({ server: src.url, caFile: src.caFile, trustDir: ownerTrust, env });
    consumer = signetCli({ server: src.url, caFile: src.caFile, trustDir: path.join(peers.dir, 'consumer-trust') });
    for (const c of [owner, consumer]) {
      await c.ok(['pin', gun, rootKeyId]);
      expect((await c.ok(['verify', '--digest-only', `${gun}:v2`])).stdout).toContain(img.digest);
    }
  }, 240_000);

  afterAll(async () => {
    await dest?.stop();
    await peers?.stop();
  });

  it('moves the repository, re-signing only the root with the same root key, and verifies it there', async () => {
    const src = peers!.server;
    const migrateArgs = [
      'migrate',
      gun,
      '--from',
      src.url,
      '--from-tls-ca',
      src.caFile,
      '--to',
      dest!.url,
      '--to-tls-ca',
      dest!.caFile,
      '--json',
    ];
    const r = await owner.ok(migrateArgs);
    const out = JSON.parse(r.stdout) as {
      rootVersion: { from: number; to: number };
      snapshot: string;
      uploaded: string[];
      publishes: number;
      verified: boolean;
    };
    expect(out.rootVersion.to).toBe(out.rootVersion.from + 1);
    expect(out.snapshot).toBe('server');
    expect(out.publishes).toBe(out.rootVersion.to);
    expect(out.uploaded).toEqual(['root', 'targets', 'root']);
    expect(out.verified).toBe(true);
    // a second run refuses: the destination holds it now
    const again = await owner.run(migrateArgs);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('CONFLICT');
  }, 120_000);

  it('verifies on Signet under the unchanged pin, and the notary CLI reads and publishes there', async () => {
    await peers!.server.stop(); // the source is gone
    const to = ['--server', dest!.url, '--tls-ca', dest!.caFile];
    expect((await owner.ok([...to, 'verify', '--digest-only', `${gun}:v2`])).stdout).toContain(img.digest);

    // the consumer drops its cached timestamp/snapshot (versions restart on the new server, docs/migrate.md)
    await rm(path.join(consumer.trustDir, 'tuf', gun, 'metadata', 'timestamp.json'), { force: true });
    await rm(path.join(consumer.trustDir, 'tuf', gun, 'metadata', 'snapshot.json'), { force: true });
    expect((await consumer.ok([...to, 'verify', '--digest-only', `${gun}:v1`])).stdout).toContain(img.digest);
    const pins = JSON.parse((await consumer.ok(['pin', '--list', '--json'])).stdout) as {
      pattern: string;
      certs?: string[];
    }[];
    expect(pins).toEqual([{ pattern: gun, certs: [rootKeyId] }]);

    const n = notaryCli({ server: dest!.url, caFile: dest!.caFile, trustDir: ownerTrust });
    const list = ok('notary list on Signet', await n.run(['list', gun]));
    expect(list.stdout).toContain('v2');
    ok(
      'publish on Signet',
      await n.run(['addhash', gun, 'v3', String(img.size), '--sha256', img.digest.slice(7), '-p']),
    );
    expect(ok('list v3', await n.run(['list', gun])).stdout).toContain('v3');
    expect((await consumer.ok([...to, 'verify', '--digest-only', `${gun}:v3`])).stdout).toContain(img.digest);
  }, 120_000);
});
