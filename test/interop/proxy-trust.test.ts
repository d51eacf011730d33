/**
 * `signet proxy` end to end: trust data made by the real notary 0.7 CLI on the real notary-server 0.7,
 * and again on Signet's own server; the real docker-registry 2.8 upstream; the proxy as the real CLI
 * child process; DCT-unaware clients (skopeo, podman as root with vfs storage) pulling through it.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRUST_SERVERS, startClientPeers, type ClientPeers } from '../client/servers.js';
import { notaryCli, type NotaryCli } from '../harness/notary-cli.js';
import { MT, pushImage, pushMultiArchIndex, type PushedImage } from '../harness/push-image.js';
import { podmanPull, skopeoCopy, skopeoRaw } from '../proxy/clients.js';
import { startSignetProxy, type SignetProxy } from '../proxy/signet-proxy.js';

async function sign(notary: NotaryCli, img: PushedImage, tag = img.tag): Promise<void> {
  for (const args of [
    ['init', img.gun],
    ['addhash', img.gun, tag, String(img.size), '--sha256', img.digest.slice('sha256:'.length)],
    ['publish', img.gun],
  ]) {
    const r = await notary.run(args);
    expect(r.code, `notary ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  }
}

const deniedCode = async (res: Response): Promise<{ status: number; code?: string; message?: string }> => {
  const body = (await res.json()) as { errors?: { code: string; message: string }[] };
  return { status: res.status, ...body.errors?.[0] };
};

describe.each(TRUST_SERVERS)('signet proxy with trust data from the notary CLI on %s', (serverName) => {
  let peers: ClientPeers;
  let signed: PushedImage;
  let unsigned: PushedImage;
  let index: PushedImage;
  let movedSigned: PushedImage;
  let moved: PushedImage;
  let proxy: SignetProxy;
  let report: SignetProxy;
  let stale: SignetProxy;

  const start = (name: string, proxyArgs: string[] = []): Promise<SignetProxy> =>
    startSignetProxy({
      name,
      upstream: `http://${peers.registry.host}`,
      server: peers.server.url,
      caFile: peers.server.caFile,
      trustDir: path.join(peers.dir, `trust-${name}`),
      logDir: path.join(peers.dir, 'logs'),
      globalArgs: ['--tofu'],
      proxyArgs,
    });

  beforeAll(async () => {
    peers = await startClientPeers(serverName, `signet-proxy-${serverName}-`);
    const reg = peers.registry.host;
    const notary = notaryCli({
      server: peers.server.url,
      caFile: peers.server.caFile,
      trustDir: path.join(peers.dir, 'notary'),
    });
    signed = await pushImage(reg, 'team/app', 'v1');
    unsigned = await pushImage(reg, 'team/app', 'v2');
    index = await pushMultiArchIndex(reg, 'team/multi', 'v1');
    movedSigned = await pushImage(reg, 'team/moved', 'v1');
    await sign(notary, signed);
    await sign(notary, index);
    await sign(notary, movedSigned);
    // re-pointed after signing: the registry now serves other bytes for team/moved:v1
    moved = await pushImage(reg, 'team/moved', 'v1', { format: 'oci' });
    expect(moved.digest).not.toBe(movedSigned.digest);
    // every request re-checks the trust server (--cache-ttl 1); unreachable, trust data confirmed up to
    // 10 s ago still counts (the policy's maxStale)
    const policy = path.join(peers.dir, 'policy.json');
    await writeFile(policy, JSON.stringify({ version: 1, rules: [{ repository: '**', maxStale: '10s' }] }));
    [proxy, report, stale] = await Promise.all([
      start('proxy'),
      start('proxy-report', ['--report-only']),
      start('proxy-stale', ['--policy', policy, '--cache-ttl', '1']),
    ]);
  }, 240_000);

  afterAll(async () => {
    await Promise.allSettled([proxy?.stop(), report?.stop(), stale?.stop()]);
    await peers?.stop();
  });

  it('serves a signed tag with the signed digest to skopeo and podman', async () => {
    const raw = await skopeoRaw(`${proxy.host}/team/app:v1`);
    expect(raw.ok, raw.output).toBe(true);
    expect(raw.digest).toBe(signed.digest);
    const head = await fetch(`${proxy.url}/v2/team/app/manifests/v1`, {
      method: 'HEAD',
      headers: { accept: MT.dockerManifest },
    });
    expect(head.headers.get('docker-content-digest')).toBe(signed.digest);
    const pulled = await podmanPull(`${proxy.host}/team/app:v1`, path.join(peers.dir, 'podman-app'));
    expect(pulled.ok, pulled.output).toBe(true);
    expect(pulled.digest).toBe(signed.digest);
  }, 240_000);

  it('refuses an unsigned tag with the OCI DENIED error naming the image and the reason', async () => {
    const d = await deniedCode(
      await fetch(`${proxy.url}/v2/team/app/manifests/v2`, { headers: { accept: MT.dockerManifest } }),
    );
    expect(d.status).toBe(403);
    expect(d.code).toBe('DENIED');
    expect(d.message).toContain(`${signed.gun}:v2`);
    expect(d.message).toContain('NOT_SIGNED');
    const pulled = await podmanPull(`${proxy.host}/team/app:v2`, path.join(peers.dir, 'podman-v2'));
    expect(pulled.ok).toBe(false);
    expect(pulled.output).toContain('NOT_SIGNED');
  }, 240_000);

  it('serves a signed digest and refuses an unsigned one', async () => {
    const ok = await skopeoRaw(`${proxy.host}/team/app@${signed.digest}`);
    expect(ok.ok, ok.output).toBe(true);
    expect(ok.digest).toBe(signed.digest);
    const bad = await skopeoRaw(`${proxy.host}/team/app@${unsigned.digest}`);
    expect(bad.ok).toBe(false);
    expect(bad.output).toMatch(/denied/i);
  });

  it('serves a signed multi-arch index and its platform child (skopeo copy, podman pull)', async () => {
    const raw = await skopeoRaw(`${proxy.host}/team/multi:v1`);
    expect(raw.digest).toBe(index.digest);
    const children = (JSON.parse(raw.bytes!.toString('utf8')) as { manifests: { digest: string }[] }).manifests;
    const arm = await skopeoRaw(`${proxy.host}/team/multi@${children[1]!.digest}`);
    expect(arm.ok, arm.output).toBe(true);
    expect(arm.digest).toBe(children[1]!.digest);
    const copy = await skopeoCopy(`${proxy.host}/team/multi:v1`, path.join(peers.dir, 'copy-multi'));
    expect(copy.ok, copy.output).toBe(true);
    const pulled = await podmanPull(`${proxy.host}/team/multi:v1`, path.join(peers.dir, 'podman-multi'));
    expect(pulled.ok, pulled.output).toBe(true);
    expect(pulled.digest).toBe(index.digest);
  }, 240_000);

  it('never serves a tag re-pointed in the registry after signing as the new bytes', async () => {
    const raw = await skopeoRaw(`${proxy.host}/team/moved:v1`);
    expect(raw.digest).toBe(movedSigned.digest);
    const pulled = await podmanPull(`${proxy.host}/team/moved:v1`, path.join(peers.dir, 'podman-moved'));
    expect(pulled.ok, pulled.output).toBe(true);
    expect(pulled.digest).toBe(movedSigned.digest);
    const byDigest = await fetch(`${proxy.url}/v2/team/moved/manifests/${moved.digest}`, {
      headers: { accept: MT.ociManifest },
    });
    expect((await deniedCode(byDigest)).code).toBe('DENIED');
  }, 240_000);

  it('--report-only serves everything and logs and counts what enforcement would refuse', async () => {
    const pulled = await podmanPull(`${report.host}/team/app:v2`, path.join(peers.dir, 'podman-report'));
    expect(pulled.ok, pulled.output).toBe(true);
    expect(pulled.digest).toBe(unsigned.digest);
    const movedRaw = await skopeoRaw(`${report.host}/team/moved:v1`);
    expect(movedRaw.digest).toBe(moved.digest);
    const decisions = (await report.records()).filter((r) => r.event === 'decision');
    expect(decisions).toContainEqual(
      expect.objectContaining({
        decision: 'would-refuse',
        code: 'NOT_SIGNED',
        repository: signed.gun,
        reference: 'v2',
      }),
    );
    expect(decisions).toContainEqual(
      expect.objectContaining({
        decision: 'would-pin',
        code: 'TAG_MOVED',
        digest: movedSigned.digest,
        upstreamDigest: moved.digest,
      }),
    );
    const metrics = await (await fetch(`${report.url}/metrics`)).text();
    expect(metrics).toMatch(/signet_proxy_decisions_total\{decision="would-refuse",code="NOT_SIGNED"\} [1-9]/);
  }, 240_000);

  // last: it stops the trust server
  it('trust server unreachable: serves within the staleness allowance, refuses with TRUST_STALE past it', async () => {
    const fresh = await skopeoRaw(`${stale.host}/team/app:v1`);
    expect(fresh.digest, fresh.output).toBe(signed.digest);
    const confirmedAt = Date.now();
    await peers.server.stop();
    const within = await skopeoRaw(`${stale.host}/team/app:v1`);
    expect(within.ok, within.output).toBe(true);
    expect(within.digest).toBe(signed.digest);
    expect((await stale.records()).filter((r) => r.event === 'decision')).toContainEqual(
      expect.objectContaining({
        decision: 'served',
        reference: 'v1',
        trust: expect.objectContaining({ source: 'cached' }),
      }),
    );
    await new Promise((r) => setTimeout(r, Math.max(0, confirmedAt + 11_000 - Date.now())));
    const past = await deniedCode(
      await fetch(`${stale.url}/v2/team/app/manifests/v1`, { headers: { accept: MT.dockerManifest } }),
    );
    expect(past.status).toBe(403);
    expect(past.code).toBe('DENIED');
    expect(past.message).toContain('TRUST_STALE');
    const pulled = await podmanPull(`${stale.host}/team/app:v1`, path.join(peers.dir, 'podman-stale'));
    expect(pulled.ok).toBe(false);
    expect(pulled.output).toContain('TRUST_STALE');
  }, 240_000);
});
