import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRegistry, type TestRegistry } from '../harness/registry.js';
import { pushImage, pushImages, pushMultiArchIndex, ustar } from '../harness/push-image.js';

const exec = promisify(execFile);

async function skopeoRawDigest(host: string, ref: string): Promise<string> {
  const { stdout } = await exec(
    '/usr/bin/skopeo',
    ['inspect', '--raw', '--tls-verify=false', `docker://${host}/${ref}`],
    {
      encoding: 'buffer',
      maxBuffer: 1 << 20,
    },
  );
  return `sha256:${createHash('sha256').update(stdout).digest('hex')}`;
}

describe('test harness: registry + push', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it('starts on a loopback port', () => {
    expect(reg.host).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('ustar is deterministic and well-formed', () => {
    const a = ustar([{ name: 'a.txt', content: Buffer.from('x') }]);
    const b = ustar([{ name: 'a.txt', content: Buffer.from('x') }]);
    expect(a.equals(b)).toBe(true);
    expect(a.length % 512).toBe(0);
  });

  it('pushImage v2s2 is deterministic and matches skopeo inspect --raw', async () => {
    const a = await pushImage(reg.host, 'library/hello', '1.0');
    expect(a.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(a.gun).toBe(`${reg.host}/library/hello`);
    expect(await skopeoRawDigest(reg.host, 'library/hello:1.0')).toBe(a.digest);
    const again = await pushImage(reg.host, 'library/hello', '1.0');
    expect(again.digest).toBe(a.digest);
    const other = await pushImage(reg.host, 'library/hello', '2.0');
    expect(other.digest).not.toBe(a.digest);
  });

  it('pushImage oci', async () => {
    const a = await pushImage(reg.host, 'oci/img', 'v1', { format: 'oci' });
    expect(a.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(await skopeoRawDigest(reg.host, 'oci/img:v1')).toBe(a.digest);
  });

  it('pushMultiArchIndex oci and v2s2-list', async () => {
    const a = await pushMultiArchIndex(reg.host, 'multi/idx', 'oci');
    expect(a.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(await skopeoRawDigest(reg.host, 'multi/idx:oci')).toBe(a.digest);
    const b = await pushMultiArchIndex(reg.host, 'multi/idx', 'list', {
      format: 'v2s2-list',
      platforms: ['linux/amd64', 'linux/arm/v7'],
    });
    expect(b.mediaType).toBe('application/vnd.docker.distribution.manifest.list.v2+json');
    expect(await skopeoRawDigest(reg.host, 'multi/idx:list')).toBe(b.digest);
  });

  it('pushImages pushes many tags', async () => {
    const tags = Array.from({ length: 50 }, (_, i) => `t${i}`);
    const t0 = Date.now();
    const out = await pushImages(reg.host, 'bulk/many', tags);
    expect(out).toHaveLength(50);
    expect(new Set(out.map((o) => o.digest)).size).toBe(50);
    expect(await skopeoRawDigest(reg.host, 'bulk/many:t17')).toBe(out[17]!.digest);
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it('keeps data across restarts in a caller-owned dir, and ignores REGISTRY_* env vars', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'signet-reg-keep-'));
    vi.stubEnv('REGISTRY_HTTP_ADDR', '127.0.0.1:1'); // would move the registry if it leaked through
    vi.stubEnv('REGISTRY_STORAGE_DELETE_ENABLED', 'false');
    try {
      const a = await startRegistry({ dir });
      const pushed = await pushImage(a.host, 'keep/me', 'v1');
      await a.stop();
      const b = await startRegistry({ dir });
      try {
        expect(await skopeoRawDigest(b.host, 'keep/me:v1')).toBe(pushed.digest);
        const del = await fetch(`http://${b.host}/v2/keep/me/manifests/${pushed.digest}`, { method: 'DELETE' });
        expect(del.status).toBe(202); // delete enabled
      } finally {
        await b.stop();
      }
    } finally {
      vi.unstubAllEnvs();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
