/**
 * The proxy on its own, with a stand-in Enforcer that declares which tags and digests are signed:
 * the real docker-registry 2.8 behind it, real skopeo and podman in front. The same behaviour with
 * real trust data (notary CLI on notary-server 0.7, and Signet's server) is in
 * test/interop/proxy-trust.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Enforcer, Verdict } from '../../src/enforce/index.js';
import { ManifestCache } from '../../src/proxy/manifest-cache.js';
import { createObserver, startProxy, type RunningProxy } from '../../src/proxy/index.js';
import { MT, pushImage, pushMultiArchIndex, type PushedImage } from '../harness/push-image.js';
import { startRegistry, type TestRegistry } from '../harness/registry.js';
import { podmanPull, skopeoCopy, skopeoRaw } from './clients.js';

const OCI_MANIFEST = MT.ociManifest;

/** Signed: `tags` (tag → digest) and the children of signed indexes, found with fetchManifest. */
function standInEnforcer(tags: Map<string, string>): Enforcer {
  const verdict = (
    repository: string,
    reference: string,
    digest: string | undefined,
    extra: Partial<Verdict>,
  ): Verdict => ({
    reference,
    repository,
    mode: 'enforce',
    allowed: digest !== undefined,
    ...(digest !== undefined
      ? { digest }
      : { refusal: { code: 'NOT_SIGNED', message: `${reference} is not signed in ${repository}` } }),
    ...extra,
  });
  return {
    async checkTag(repository, tag) {
      return verdict(repository, tag, tags.get(`${repository}:${tag}`), { tag });
    },
    async checkDigest(repository, digest, opts) {
      const signed = [...tags].filter(([k]) => k.startsWith(`${repository}:`)).map(([, d]) => d);
      if (signed.includes(digest)) return verdict(repository, digest, digest, {});
      for (const d of signed) {
        const m = JSON.parse((await opts!.fetchManifest!(d)).toString('utf8')) as { manifests?: { digest: string }[] };
        if (m.manifests?.some((c) => c.digest === digest)) return verdict(repository, digest, digest, {});
      }
      return verdict(repository, digest, undefined, {});
    },
    async checkReference() {
      throw new Error('not used by the proxy');
    },
    async close() {},
  };
}

describe('signet proxy (stand-in enforcer, real registry, skopeo and podman)', () => {
  let registry: TestRegistry;
  let tmp: string;
  let signed: PushedImage;
  let unsigned: PushedImage;
  let index: PushedImage;
  let moved: PushedImage;
  let movedSigned: string;
  const tags = new Map<string, string>();
  const log = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  log.on('data', (b: Buffer) =>
    b
      .toString()
      .split('\n')
      .filter(Boolean)
      .forEach((l) => lines.push(JSON.parse(l) as Record<string, unknown>)),
  );
  let proxy: RunningProxy;
  let report: RunningProxy;
  const host = (p: RunningProxy): string => new URL(p.url).host;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'signet-proxy-'));
    registry = await startRegistry();
    signed = await pushImage(registry.host, 'team/app', 'v1');
    unsigned = await pushImage(registry.host, 'team/app', 'v2');
    index = await pushMultiArchIndex(registry.host, 'team/multi', 'v1');
    movedSigned = (await pushImage(registry.host, 'team/moved', 'v1')).digest;
    for (const d of [signed, index]) tags.set(`${d.gun}:${d.tag}`, d.digest);
    tags.set(`${registry.host}/team/moved:v1`, movedSigned);
    // the tag is re-pointed after signing: the registry now serves other bytes for team/moved:v1
    moved = await pushImage(registry.host, 'team/moved', 'v1', { format: 'oci' });
    expect(moved.digest).not.toBe(movedSigned);
    const common = { upstream: `http://${registry.host}`, enforcer: standInEnforcer(tags), allowPush: false };
    proxy = await startProxy({ ...common, listen: '127.0.0.1:0', observer: createObserver(log), reportOnly: false });
    report = await startProxy({
      ...common,
      allowPush: true,
      listen: '127.0.0.1:0',
      observer: createObserver(log),
      reportOnly: true,
    });
  }, 120_000);

  afterAll(async () => {
    await proxy?.close();
    await report?.close();
    await registry?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('serves a signed tag with the signed digest (skopeo raw bytes, skopeo copy, podman pull)', async () => {
    const raw = await skopeoRaw(`${host(proxy)}/team/app:v1`);
    expect(raw.ok, raw.output).toBe(true);
    expect(raw.digest).toBe(signed.digest);
    const res = await fetch(`${proxy.url}/v2/team/app/manifests/v1`, { method: 'HEAD' });
    expect(res.headers.get('docker-content-digest')).toBe(signed.digest);
    expect(res.headers.get('content-type')).toBe(signed.mediaType);
    const copy = await skopeoCopy(`${host(proxy)}/team/app:v1`, path.join(tmp, 'copy-v1'));
    expect(copy.ok, copy.output).toBe(true);
    expect(copy.digest).toBe(signed.digest);
    const pulled = await podmanPull(`${host(proxy)}/team/app:v1`, path.join(tmp, 'podman-v1'));
    expect(pulled.ok, pulled.output).toBe(true);
    expect(pulled.digest).toBe(signed.digest);
  }, 240_000);

  it('refuses an unsigned tag and an unsigned digest with a DENIED OCI error naming the image and why', async () => {
    const res = await fetch(`${proxy.url}/v2/team/app/manifests/v2`);
    expect(res.status).toBe(403);
    const body = (await res.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0]!.code).toBe('DENIED');
    expect(body.errors[0]!.message).toContain(`${registry.host}/team/app:v2`);
    expect(body.errors[0]!.message).toContain('NOT_SIGNED');
    const byDigest = await fetch(`${proxy.url}/v2/team/app/manifests/${unsigned.digest}`);
    expect(byDigest.status).toBe(403);
    expect(((await byDigest.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('DENIED');
    const raw = await skopeoRaw(`${host(proxy)}/team/app:v2`);
    expect(raw.ok).toBe(false);
    expect(raw.output).toMatch(/denied/i);
    const pulled = await podmanPull(`${host(proxy)}/team/app:v2`, path.join(tmp, 'podman-v2'));
    expect(pulled.ok).toBe(false);
    expect(pulled.output).toContain('NOT_SIGNED');
  }, 240_000);

  it('serves a signed digest', async () => {
    const raw = await skopeoRaw(`${host(proxy)}/team/app@${signed.digest}`);
    expect(raw.ok, raw.output).toBe(true);
    expect(raw.digest).toBe(signed.digest);
  });

  it('serves a signed multi-arch index and its platform child by digest (skopeo copy, podman pull)', async () => {
    const raw = await skopeoRaw(`${host(proxy)}/team/multi:v1`);
    expect(raw.digest).toBe(index.digest);
    const children = (JSON.parse(raw.bytes!.toString('utf8')) as { manifests: { digest: string }[] }).manifests;
    const child = await skopeoRaw(`${host(proxy)}/team/multi@${children[1]!.digest}`);
    expect(child.ok, child.output).toBe(true);
    expect(child.digest).toBe(children[1]!.digest);
    const copy = await skopeoCopy(`${host(proxy)}/team/multi:v1`, path.join(tmp, 'copy-multi'));
    expect(copy.ok, copy.output).toBe(true);
    const pulled = await podmanPull(`${host(proxy)}/team/multi:v1`, path.join(tmp, 'podman-multi'));
    expect(pulled.ok, pulled.output).toBe(true);
    expect(pulled.digest).toBe(index.digest);
  }, 240_000);

  it('never serves a tag re-pointed after signing as the new bytes', async () => {
    const raw = await skopeoRaw(`${host(proxy)}/team/moved:v1`);
    expect(raw.ok, raw.output).toBe(true);
    expect(raw.digest).toBe(movedSigned);
    const byDigest = await fetch(`${proxy.url}/v2/team/moved/manifests/${moved.digest}`, {
      headers: { accept: OCI_MANIFEST },
    });
    expect(byDigest.status).toBe(403);
    await byDigest.arrayBuffer();
    const pulled = await podmanPull(`${host(proxy)}/team/moved:v1`, path.join(tmp, 'podman-moved'));
    expect(pulled.ok, pulled.output).toBe(true);
    expect(pulled.digest).toBe(movedSigned);
  }, 240_000);

  it('--report-only serves everything, logs what enforcement would refuse and counts it', async () => {
    lines.length = 0;
    const raw = await skopeoRaw(`${host(report)}/team/app:v2`);
    expect(raw.ok, raw.output).toBe(true);
    expect(raw.digest).toBe(unsigned.digest);
    const movedRaw = await skopeoRaw(`${host(report)}/team/moved:v1`);
    expect(movedRaw.digest).toBe(moved.digest);
    const decisions = lines.filter((l) => l.event === 'decision');
    expect(decisions).toContainEqual(
      expect.objectContaining({
        decision: 'would-refuse',
        code: 'NOT_SIGNED',
        repository: `${registry.host}/team/app`,
        reference: 'v2',
      }),
    );
    expect(decisions).toContainEqual(
      expect.objectContaining({
        decision: 'would-pin',
        code: 'TAG_MOVED',
        digest: movedSigned,
        upstreamDigest: moved.digest,
      }),
    );
    const metrics = await (await fetch(`${report.url}/metrics`)).text();
    expect(metrics).toMatch(/signet_proxy_decisions_total\{decision="would-refuse",code="NOT_SIGNED"\} [1-9]/);
  }, 120_000);

  it('refuses pushes with DENIED, passes /v2/ and tags/list through, and answers readiness', async () => {
    const push = await fetch(`${proxy.url}/v2/team/app/blobs/uploads/`, { method: 'POST' });
    expect(push.status).toBe(403);
    expect(((await push.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('DENIED');
    const put = await fetch(`${proxy.url}/v2/team/app/manifests/v9`, { method: 'PUT', body: '{}' });
    expect(put.status).toBe(403);
    await put.arrayBuffer();
    const base = await fetch(`${proxy.url}/v2/`);
    expect(base.status).toBe(200);
    expect(base.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    await base.arrayBuffer();
    const list = (await (await fetch(`${proxy.url}/v2/team/app/tags/list`)).json()) as { tags: string[] };
    expect(list.tags.sort()).toEqual(['v1', 'v2']);
    expect((await fetch(`${proxy.url}/readyz`)).status).toBe(200);
    for (const sneaky of [
      '/v2/team/app/manifest%73/v2',
      '/v2/team%2Fapp/manifests/v2',
      '/v2/team/app/manifests/v2%00',
    ]) {
      const res = await fetch(`${proxy.url}${sneaky}`, { headers: { accept: MT.dockerManifest } });
      expect(res.status, sneaky).toBe(404);
      expect(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('NAME_INVALID');
    }
    const big = await fetch(`${proxy.url}/v2/`, { headers: { 'x-padding': 'a'.repeat(20_000) } });
    expect(big.status).toBe(431);
  });

  it('--allow-push passes a skopeo push through (upload locations stay on the proxy)', async () => {
    const pushed = await pushImage(host(report), 'team/pushed', 'v1');
    const direct = await fetch(`http://${registry.host}/v2/team/pushed/manifests/v1`, {
      method: 'HEAD',
      headers: { accept: MT.dockerManifest },
    });
    expect(direct.headers.get('docker-content-digest')).toBe(pushed.digest);
  }, 120_000);
});

describe('ManifestCache', () => {
  const m = { bytes: Buffer.from('{}'), contentType: MT.dockerManifest };
  it('serves an anonymously fetched manifest to anyone, an authorised one only to the same credentials', () => {
    const c = new ManifestCache(60_000, 10);
    c.put('a', 'sha256:1', undefined, m);
    c.put('b', 'sha256:2', 'Bearer alice', m);
    expect(c.get('a', 'sha256:1', 'Bearer bob', undefined)?.bytes).toEqual(m.bytes);
    expect(c.get('a', 'sha256:1', undefined, undefined)?.bytes).toEqual(m.bytes);
    expect(c.get('b', 'sha256:2', 'Bearer alice', undefined)?.bytes).toEqual(m.bytes);
    expect(c.get('b', 'sha256:2', 'Bearer bob', undefined)).toBeUndefined();
    expect(c.get('b', 'sha256:2', undefined, undefined)).toBeUndefined();
    expect(c.get('a', 'sha256:1', undefined, MT.ociManifest)).toBeUndefined();
    expect(c.get('a', 'sha256:1', undefined, `${MT.ociManifest}, ${MT.dockerManifest}`)).toBeDefined();
  });
  it('keeps at most maxEntries, and nothing with a zero TTL', () => {
    const c = new ManifestCache(60_000, 2);
    for (const d of ['sha256:1', 'sha256:2', 'sha256:3']) c.put('a', d, undefined, m);
    expect(c.get('a', 'sha256:1', undefined, undefined)).toBeUndefined();
    expect(c.get('a', 'sha256:3', undefined, undefined)).toBeDefined();
    const none = new ManifestCache(0, 2);
    none.put('a', 'sha256:1', undefined, m);
    expect(none.get('a', 'sha256:1', undefined, undefined)).toBeUndefined();
  });
});
