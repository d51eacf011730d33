/**
 * `signet proxy` in front of a private registry: docker-registry 2.8 with token auth (a test token
 * service, test/server/auth-helpers.ts). The upstream's Bearer challenge reaches the client through the
 * proxy unchanged, the client gets its token from the realm itself, and its Authorization goes upstream.
 * Trust data: the real notary CLI on the real notary-server 0.7.
 */
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTrustServer, type TrustServer } from '../client/servers.js';
import { notaryCli } from '../harness/notary-cli.js';
import { MT, pushImage, type PushedImage } from '../harness/push-image.js';
import { startRegistry, type TestRegistry } from '../harness/registry.js';
import { run } from '../harness/proc.js';
import { tokenIssuer, tokenServer } from '../server/auth-helpers.js';
import { SKOPEO } from '../proxy/clients.js';
import { startSignetProxy, type SignetProxy } from '../proxy/signet-proxy.js';

describe('signet proxy in front of a registry with token auth', () => {
  let dir: string;
  let tokens: Server;
  let registry: TestRegistry;
  let trust: TrustServer;
  let proxy: SignetProxy;
  let signed: PushedImage;
  let unsigned: PushedImage;
  const tokenLog: string[] = [];

  const skopeoRaw = (ref: string, creds?: string) =>
    run(
      SKOPEO,
      ['inspect', '--raw', '--tls-verify=false', ...(creds ? ['--creds', creds] : ['--no-creds']), `docker://${ref}`],
      {
        timeoutMs: 60_000,
      },
    );

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'signet-proxy-auth-'));
    // images pushed while the registry is open, then the same storage served with token auth
    const open = await startRegistry({ dir: path.join(dir, 'registry') });
    const v1 = await pushImage(open.host, 'team/private', 'v1');
    const v2 = await pushImage(open.host, 'team/private', 'v2');
    await open.stop();
    // the realm is only in the registry's challenge (tokens do not carry it)
    const iss = tokenIssuer({ service: 'private-registry', issuer: 'test-issuer' });
    tokens = tokenServer(iss, tokenLog);
    tokens.listen(0, '127.0.0.1');
    await once(tokens, 'listening');
    const realm = `http://127.0.0.1:${(tokens.address() as AddressInfo).port}/token`;
    const bundle = path.join(dir, 'token-ca.pem');
    await writeFile(bundle, iss.caPem);
    registry = await startRegistry({
      dir: path.join(dir, 'registry'),
      auth: { realm, service: iss.service, issuer: iss.issuer, rootCertBundle: bundle },
    });
    const gun = `${registry.host}/team/private`;
    signed = { ...v1, gun };
    unsigned = { ...v2, gun };
    trust = await startTrustServer('notary-server', dir);
    const notary = notaryCli({ server: trust.url, caFile: trust.caFile, trustDir: path.join(dir, 'notary') });
    for (const args of [
      ['init', gun],
      ['addhash', gun, 'v1', String(signed.size), '--sha256', signed.digest.slice('sha256:'.length)],
      ['publish', gun],
    ]) {
      const r = await notary.run(args);
      expect(r.code, `notary ${args.join(' ')}\n${r.stderr}`).toBe(0);
    }
    proxy = await startSignetProxy({
      name: 'proxy-auth',
      upstream: `http://${registry.host}`,
      server: trust.url,
      caFile: trust.caFile,
      trustDir: path.join(dir, 'trust'),
      logDir: path.join(dir, 'logs'),
      globalArgs: ['--tofu'],
    });
  }, 240_000);

  afterAll(async () => {
    await Promise.allSettled([proxy?.stop(), trust?.stop(), registry?.stop()]);
    tokens?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("passes the upstream's Bearer challenge through unchanged, to anonymous clients of signed and unsigned tags alike", async () => {
    for (const tag of ['v1', 'v2']) {
      const res = await fetch(`${proxy.url}/v2/team/private/manifests/${tag}`, {
        headers: { accept: MT.dockerManifest },
      });
      expect(res.status).toBe(401);
      const challenge = res.headers.get('www-authenticate') ?? '';
      expect(challenge).toMatch(/^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token",service="private-registry"/);
      expect(challenge).toContain('scope="repository:team/private:pull"');
      await res.arrayBuffer();
    }
  });

  it('serves the signed tag to a client with credentials (token fetched from the realm by the client)', async () => {
    const r = await skopeoRaw(`${proxy.host}/team/private:v1`, 'reader:reader-pw');
    expect(r.code, r.stderr).toBe(0);
    const { createHash } = await import('node:crypto');
    expect(`sha256:${createHash('sha256').update(r.stdout).digest('hex')}`).toBe(signed.digest);
    expect(tokenLog).toContain('reader private-registry repository:team/private:pull');
  });

  it('refuses the unsigned tag to an authorised client with DENIED, and anonymous clients get no answer at all', async () => {
    const authed = await skopeoRaw(`${proxy.host}/team/private:v2`, 'reader:reader-pw');
    expect(authed.code).not.toBe(0);
    expect(authed.stderr).toContain('NOT_SIGNED');
    const anonymous = await skopeoRaw(`${proxy.host}/team/private:v2`);
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).not.toContain('NOT_SIGNED');
    expect(anonymous.stderr).toMatch(/unauthorized|authentication required/i);
    expect(unsigned.digest).not.toBe(signed.digest);
  });
});
