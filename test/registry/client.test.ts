import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient, parseImageReference } from '../../src/registry/index.js';
import { startRegistry, type TestRegistry } from '../harness/registry.js';
import { pushImage, pushImages, pushMultiArchIndex, type PushedImage } from '../harness/push-image.js';
import { expectCode } from '../helpers/errors.js';

const exec = promisify(execFile);

/** `skopeo inspect --raw | sha256sum`, independently of our client. */
async function skopeoRaw(host: string, ref: string): Promise<{ digest: string; size: number }> {
  const { stdout } = await exec(
    '/usr/bin/skopeo',
    ['inspect', '--raw', '--tls-verify=false', `docker://${host}/${ref}`],
    {
      encoding: 'buffer',
      maxBuffer: 8 << 20,
    },
  );
  return { digest: `sha256:${createHash('sha256').update(stdout).digest('hex')}`, size: stdout.length };
}

describe('RegistryClient against a real docker-registry', () => {
  let reg: TestRegistry;
  let client: RegistryClient;
  let v2s2: PushedImage;
  let oci: PushedImage;
  let index: PushedImage;
  let list: PushedImage;

  beforeAll(async () => {
    reg = await startRegistry();
    client = new RegistryClient({ timeoutMs: 10_000 });
    v2s2 = await pushImage(reg.host, 'library/hello', '1.0');
    oci = await pushImage(reg.host, 'team/oci-app', 'v1', { format: 'oci' });
    index = await pushMultiArchIndex(reg.host, 'team/multi', 'latest');
    list = await pushMultiArchIndex(reg.host, 'team/multi', 'list', {
      format: 'v2s2-list',
      platforms: ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7'],
    });
  });
  afterAll(async () => {
    await client?.close();
    await reg?.stop();
  });

  it('resolves a Docker schema 2 image by tag', async () => {
    const m = await client.resolve(`${reg.host}/library/hello:1.0`);
    expect(m.digest).toBe(v2s2.digest);
    expect(m.size).toBe(v2s2.size);
    expect(m.bytes.length).toBe(m.size);
    expect(m.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(await skopeoRaw(reg.host, 'library/hello:1.0')).toEqual({ digest: m.digest, size: m.size });
  });

  it('resolves an OCI image', async () => {
    const m = await client.resolve(parseImageReference(`${reg.host}/team/oci-app:v1`));
    expect(m.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(m.digest).toBe(oci.digest);
    expect((await skopeoRaw(reg.host, 'team/oci-app:v1')).digest).toBe(m.digest);
  });

  it('resolves an OCI image index to the index digest', async () => {
    const m = await client.resolve(`${reg.host}/team/multi`); // no tag → latest
    expect(m.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(m.digest).toBe(index.digest);
    expect((await skopeoRaw(reg.host, 'team/multi:latest')).digest).toBe(m.digest);
    const parsed = JSON.parse(m.bytes.toString()) as { manifests: unknown[] };
    expect(parsed.manifests).toHaveLength(2);
  });

  it('resolves a Docker manifest list to the list digest', async () => {
    const m = await client.resolve(`${reg.host}/team/multi:list`);
    expect(m.mediaType).toBe('application/vnd.docker.distribution.manifest.list.v2+json');
    expect(m.digest).toBe(list.digest);
    expect((await skopeoRaw(reg.host, 'team/multi:list')).digest).toBe(m.digest);
  });

  it('resolves digest references and fetchByDigest', async () => {
    const byDigest = await client.resolve(`${reg.host}/library/hello@${v2s2.digest}`);
    expect(byDigest.digest).toBe(v2s2.digest);
    const withBoth = await client.resolve(`${reg.host}/library/hello:ignored@${v2s2.digest}`);
    expect(withBoth.digest).toBe(v2s2.digest);
    const f = await client.fetchByDigest(`${reg.host}/team/multi`, list.digest);
    expect(f.mediaType).toBe('application/vnd.docker.distribution.manifest.list.v2+json');
    // a per-platform child of the index, by digest
    const idx = await client.resolve(`${reg.host}/team/multi:latest`);
    const child = (JSON.parse(idx.bytes.toString()) as { manifests: { digest: string }[] }).manifests[0]!.digest;
    const c = await client.fetchByDigest(parseImageReference(`${reg.host}/team/multi`), child);
    expect(c.digest).toBe(child);
    expect(c.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
  });

  it('unknown tag → NOT_FOUND naming the reference and registry', async () => {
    const err = await expectCode(client.resolve(`${reg.host}/library/hello:nope`), 'NOT_FOUND');
    expect(err.message).toBe(`manifest unknown: ${reg.host}/library/hello:nope is not in ${reg.host}`);
  });

  it('unknown repository and unknown digest → NOT_FOUND', async () => {
    const e1 = await expectCode(client.resolve(`${reg.host}/no/such-repo:1`), 'NOT_FOUND');
    expect(e1.message).toMatch(/no\/such-repo/);
    const missing = 'sha256:' + '0'.repeat(64);
    const e2 = await expectCode(client.fetchByDigest(`${reg.host}/library/hello`, missing), 'NOT_FOUND');
    expect(e2.message).toContain(missing);
  });

  it('bad digest argument → USAGE', async () => {
    await expectCode(client.fetchByDigest(`${reg.host}/library/hello`, 'sha256:xyz'), 'USAGE');
    await expectCode(client.resolve('Bad/Ref:'), 'USAGE');
  });

  it('a registry that is not running → NETWORK', async () => {
    const c = new RegistryClient({ retries: 0, timeoutMs: 3000 });
    try {
      // the registry's port after it stops is free; use a fresh stopped registry
      const r2 = await startRegistry();
      const host = r2.host;
      await r2.stop();
      await expectCode(c.resolve(`${host}/library/hello:1.0`), 'NETWORK');
    } finally {
      await c.close();
    }
  });

  it('resolves many tags pushed by pushImages, concurrently', async () => {
    const tags = Array.from({ length: 40 }, (_, i) => `v${i}`);
    const pushed = await pushImages(reg.host, 'bench/app', tags);
    const got = await Promise.all(pushed.map((p) => client.resolve(`${reg.host}/bench/app:${p.tag}`)));
    expect(got.map((g) => g.digest)).toEqual(pushed.map((p) => p.digest));
    expect(got.map((g) => g.size)).toEqual(pushed.map((p) => p.size));
  });
});
