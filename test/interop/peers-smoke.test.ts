// Proves the peer harness: real notary-signer + notary-server, the real notary CLI, the real
// docker 28 CLI (trust inspect against the HTTPS server), and the fake Docker engine.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerCli } from '../harness/docker-cli.js';
import { startFakeDockerd, type FakeDockerd } from '../harness/fake-dockerd.js';
import { notaryCli } from '../harness/notary-cli.js';
import { startNotaryPeers, type NotaryPeers } from '../harness/notary-peers.js';
import { freePort } from '../harness/ports.js';
import { requireBinary, run } from '../harness/proc.js';

describe('reference peers harness', () => {
  let peers: NotaryPeers;
  let dockerd: FakeDockerd;
  let dir: string;
  let gun: string;
  const hex = createHash('sha256').update('signet smoke target').digest('hex');

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'signet-smoke-'));
    // A GUN on a loopback "registry" (nothing listens there: trust inspect only talks to notary).
    gun = `127.0.0.1:${await freePort()}/smoke/app`;
    [peers, dockerd] = await Promise.all([
      startNotaryPeers({ http: true }),
      startFakeDockerd({
        dir,
        resolvePush: async () => ({ digest: `sha256:${hex}`, size: 123 }),
      }),
    ]);
  });

  afterAll(async () => {
    await Promise.allSettled([peers?.stop(), dockerd?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('notary init/addhash/publish/list over HTTPS', async () => {
    const notary = notaryCli({ server: peers.url, caFile: peers.caFile, trustDir: path.join(dir, 'notary-trust') });
    const init = await notary.run(['init', gun]);
    expect(init.code, init.stderr).toBe(0);
    const add = await notary.run(['addhash', gun, 'v1', '123', '--sha256', hex]);
    expect(add.code, add.stderr).toBe(0);
    const pub = await notary.run(['publish', gun]);
    expect(pub.code, pub.stderr).toBe(0);
    const list = await notary.run(['list', gun]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`v1\\s+${hex}\\s+123\\s+targets`));
  });

  it('docker trust inspect reads what notary published', async () => {
    const docker = dockerCli({ trustServer: peers.url, dir: path.join(dir, 'docker') });
    const r = await docker.run(['trust', 'inspect', `${gun}:v1`]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Array<{
      Name: string;
      SignedTags: Array<{ SignedTag: string; Digest: string }>;
    }>;
    expect(out[0]?.Name).toBe(`${gun}:v1`);
    expect(out[0]?.SignedTags).toEqual([expect.objectContaining({ SignedTag: 'v1', Digest: hex })]);
  });

  it('docker verifies the trust server with installCA for a non-loopback GUN', async () => {
    const hubGun = 'docker.io/signet-smoke/app';
    const notary = notaryCli({ server: peers.url, caFile: peers.caFile, trustDir: path.join(dir, 'notary-hub') });
    for (const args of [
      ['init', hubGun],
      ['addhash', hubGun, 'v1', '123', '--sha256', hex],
      ['publish', hubGun],
    ]) {
      const r = await notary.run(args);
      expect(r.code, r.stderr).toBe(0);
    }
    const docker = dockerCli({ trustServer: peers.url, dir: path.join(dir, 'docker-hub') });
    const noCa = await docker.run(['trust', 'inspect', `${hubGun}:v1`]);
    expect(noCa.code).not.toBe(0);
    expect(noCa.stderr).toContain('cannot access'); // inspect hides the x509 error
    await docker.installCA(new URL(peers.url).host, peers.caFile);
    const withCa = await docker.run(['trust', 'inspect', `${hubGun}:v1`]);
    expect(withCa.code, withCa.stderr).toBe(0);
    expect(withCa.stdout).toContain(hex);
  });

  it('the plain-HTTP server works for the notary CLI', async () => {
    expect(peers.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const notary = notaryCli({ server: peers.httpUrl!, trustDir: path.join(dir, 'notary-http') });
    const init = await notary.run(['init', gun]);
    expect(init.code, init.stderr).toBe(0);
    const pub = await notary.run(['publish', gun]);
    expect(pub.code, pub.stderr).toBe(0);
    const list = await notary.run(['list', gun]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('No targets present');
  });

  it('the fake dockerd answers docker version through DOCKER_HOST', async () => {
    const docker = dockerCli({
      trustServer: peers.url,
      dockerHost: dockerd.dockerHost,
      dir: path.join(dir, 'docker-engine'),
    });
    const r = await docker.run(['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\S+ 1\.\d+$/);
    expect(dockerd.requests.some((l) => /^(HEAD|GET) \/_ping /.test(l))).toBe(true);
  });

  it('docker trust sign of a new tag pushes through the fake dockerd, and DCT pull resolves it', async () => {
    const docker = dockerCli({
      trustServer: peers.url,
      dockerHost: dockerd.dockerHost,
      dir: path.join(dir, 'docker-sign'),
    });
    const signGun = gun.replace(/app$/, 'signed');
    await docker.setAuth(signGun.split('/')[0]!, 'alice');
    const sign = await docker.run(['trust', 'sign', `${signGun}:v2`]);
    expect(sign.code, sign.stderr + sign.stdout).toBe(0);
    expect(dockerd.requests).toContain(`POST /v1.50/images/${signGun}/push?tag=v2 -> 200`);

    const inspect = await docker.run(['trust', 'inspect', `${signGun}:v2`]);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stdout).toContain(hex);
    expect(inspect.stdout).toContain('"alice"');

    const push = await docker.run(['push', `${signGun}:v3`], { contentTrust: true });
    expect(push.code, push.stderr + push.stdout).toBe(0);
    expect(push.stdout).toContain('Successfully signed');

    const pull = await docker.run(['pull', `${signGun}:v2`], { contentTrust: true });
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stdout).toContain(`@sha256:${hex}`);
    expect(dockerd.requests.some((l) => l.startsWith('POST /v1.50/images/create?fromImage='))).toBe(true);
    expect(dockerd.requests.some((l) => /\/tag\?repo=.* -> 201$/.test(l))).toBe(true);
  });
});

describe('harness helpers', () => {
  it('requireBinary names the package to install', async () => {
    await expect(requireBinary('/nonexistent/notary-x', 'notary')).rejects.toThrow(
      /install the Debian package "notary"/,
    );
  });

  it('run closes stdin and enforces its timeout', async () => {
    const cat = await run('/bin/cat', []);
    expect(cat.code).toBe(0);
    const slow = await run('/bin/sleep', ['5'], { timeoutMs: 200 });
    expect(slow.code).toBeNull();
    expect(slow.stderr).toContain('timeout');
    const echo = await run('/bin/cat', [], { input: 'hi' });
    expect(echo.stdout).toBe('hi');
  });
});
