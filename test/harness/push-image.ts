/**
 * Test harness: build tiny deterministic images by hand (no Docker daemon) and push them to a
 * registry started with `startRegistry()`.
 *
 * - pushImage: a 1-layer image in an OCI layout (hand-written ustar tar + node:zlib gzip), copied
 *   with `skopeo copy --dest-tls-verify=false` as Docker schema 2 (default, like `docker push`) or OCI.
 * - pushMultiArchIndex: per-platform images under an OCI image index, `skopeo copy --all`
 *   (optionally converted to a Docker manifest list).
 * - pushImages: many tags fast, straight over the registry HTTP API (shared layer, one config per tag).
 *
 * Images are built by ./image-build.ts. Every function checks the digest of the bytes the registry
 * serves, and reports it.
 * A missing skopeo binary throws (the calling test fails); it never skips.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { envWithoutRegistryVars } from './registry.js';
import {
  MT,
  blob,
  buildImage,
  jsonBlob,
  parsePlatform,
  sha256hex,
  ustar,
  writeLayout,
  type Blob,
} from './image-build.js';

export interface PushedImage {
  gun: string; // host/name
  name: string;
  tag: string;
  digest: string; // sha256:… as served
  size: number;
  mediaType: string;
}

export const SKOPEO_BINARY = '/usr/bin/skopeo';

export { MT, ustar } from './image-build.js';

const ACCEPT_ALL = [MT.dockerManifest, MT.dockerList, MT.ociManifest, MT.ociIndex].join(', ');

function run(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: envWithoutRegistryVars(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', (e) => reject(new Error(`cannot run ${cmd}: ${e.message}`)));
    child.once('close', (code) => {
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${stderr}${stdout}`));
    });
  });
}

function checkSkopeo(): void {
  if (!existsSync(SKOPEO_BINARY)) {
    throw new Error(`${SKOPEO_BINARY} is missing: install the Debian package skopeo (apt-get install skopeo)`);
  }
}

function checkRef(name: string, tag: string): void {
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(name)) {
    throw new Error(`pushImage: invalid repository name ${JSON.stringify(name)}`);
  }
  if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw new Error(`pushImage: invalid tag ${JSON.stringify(tag)}`);
}

/** GET what the registry serves for name:ref and check its digest against `expected` (if given). */
export async function servedManifest(
  registryHost: string,
  name: string,
  ref: string,
  expected?: string,
): Promise<{ digest: string; size: number; mediaType: string; bytes: Buffer }> {
  const res = await fetch(`http://${registryHost}/v2/${name}/manifests/${ref}`, { headers: { Accept: ACCEPT_ALL } });
  const bytes = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) {
    throw new Error(`GET ${registryHost}/${name}:${ref} → ${res.status}: ${bytes.toString('utf8').slice(0, 300)}`);
  }
  const digest = `sha256:${sha256hex(bytes)}`;
  const header = res.headers.get('docker-content-digest');
  if (header && header !== digest) throw new Error(`registry header digest ${header} != body digest ${digest}`);
  if (expected && expected !== digest) {
    throw new Error(`registry serves ${digest} for ${name}:${ref}, expected ${expected}`);
  }
  const parsed = JSON.parse(bytes.toString('utf8')) as { mediaType?: string };
  const mediaType = parsed.mediaType ?? res.headers.get('content-type') ?? '';
  return { digest, size: bytes.length, mediaType, bytes };
}

async function skopeoCopy(
  layout: string,
  registryHost: string,
  name: string,
  tag: string,
  extra: string[],
): Promise<string> {
  const digestFile = join(layout, '..', 'pushed.digest');
  await run(SKOPEO_BINARY, [
    'copy',
    '--quiet',
    '--insecure-policy',
    '--dest-tls-verify=false',
    '--retry-times',
    '2',
    ...extra,
    '--digestfile',
    digestFile,
    `oci:${layout}:${tag}`,
    `docker://${registryHost}/${name}:${tag}`,
  ]);
  return (await readFile(digestFile, 'utf8')).trim();
}

/** skopeo-copies the layout's `tag` to the registry and describes what the registry then serves for it. */
async function copyLayout(
  layout: string,
  registryHost: string,
  name: string,
  tag: string,
  extra: string[],
): Promise<PushedImage> {
  const pushed = await skopeoCopy(layout, registryHost, name, tag, extra);
  const served = await servedManifest(registryHost, name, tag, pushed);
  return {
    gun: `${registryHost}/${name}`,
    name,
    tag,
    digest: served.digest,
    size: served.size,
    mediaType: served.mediaType,
  };
}

// ------------------------------------------------------------------ public API

export async function pushImage(
  registryHost: string,
  name: string,
  tag: string,
  opts: { format?: 'v2s2' | 'oci' } = {},
): Promise<PushedImage> {
  checkSkopeo();
  checkRef(name, tag);
  const format = opts.format ?? 'v2s2';
  const work = await mkdtemp(join(tmpdir(), 'signet-img-'));
  try {
    const img = buildImage(`${name}:${tag}`, { os: 'linux', architecture: 'amd64' });
    const layout = join(work, 'oci');
    await writeLayout(layout, [img.layer, img.config, img.manifest], {
      mediaType: MT.ociManifest,
      blob: img.manifest,
      tag,
    });
    return await copyLayout(layout, registryHost, name, tag, ['--format', format]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export async function pushMultiArchIndex(
  registryHost: string,
  name: string,
  tag: string,
  opts: { platforms?: string[]; format?: 'oci' | 'v2s2-list' } = {},
): Promise<PushedImage> {
  checkSkopeo();
  checkRef(name, tag);
  const platforms = (opts.platforms ?? ['linux/amd64', 'linux/arm64']).map(parsePlatform);
  if (platforms.length === 0) throw new Error('pushMultiArchIndex: at least one platform is needed');
  const format = opts.format ?? 'oci';
  const work = await mkdtemp(join(tmpdir(), 'signet-idx-'));
  try {
    const images = platforms.map((p) =>
      buildImage(`${name}:${tag} ${p.os}/${p.architecture}${p.variant ? '/' + p.variant : ''}`, p),
    );
    const index = jsonBlob({
      schemaVersion: 2,
      mediaType: MT.ociIndex,
      manifests: images.map((i) => ({
        mediaType: MT.ociManifest,
        digest: i.manifest.digest,
        size: i.manifest.size,
        platform: i.platform,
      })),
    });
    const layout = join(work, 'oci');
    await writeLayout(layout, [...images.flatMap((i) => [i.layer, i.config, i.manifest]), index], {
      mediaType: MT.ociIndex,
      blob: index,
      tag,
    });
    const extra = ['--all', ...(format === 'v2s2-list' ? ['--format', 'v2s2'] : [])];
    const pushed = await copyLayout(layout, registryHost, name, tag, extra);
    const want = format === 'oci' ? MT.ociIndex : MT.dockerList;
    if (pushed.mediaType !== want) {
      throw new Error(`pushMultiArchIndex: registry serves ${pushed.mediaType} for ${name}:${tag}, expected ${want}`);
    }
    return pushed;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function ensureBlob(registryHost: string, name: string, b: Blob, checkFirst = true): Promise<void> {
  const base = `http://${registryHost}/v2/${name}/blobs/`;
  if (checkFirst) {
    const head = await fetch(base + b.digest, { method: 'HEAD' });
    await head.arrayBuffer();
    if (head.status === 200) return;
  }
  const start = await fetch(`${base}uploads/`, { method: 'POST', body: '' });
  await start.arrayBuffer();
  const location = start.headers.get('location');
  if (start.status !== 202 || !location) throw new Error(`blob upload start for ${name} → ${start.status}`);
  const url = new URL(location, `http://${registryHost}/`);
  url.searchParams.set('digest', b.digest);
  const put = await fetch(url, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: b.bytes,
  });
  const text = await put.text();
  if (put.status !== 201) throw new Error(`blob upload ${b.digest} to ${name} → ${put.status}: ${text.slice(0, 300)}`);
}

async function putManifest(registryHost: string, name: string, tag: string, m: Blob, mediaType: string): Promise<void> {
  const res = await fetch(`http://${registryHost}/v2/${name}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'Content-Type': mediaType },
    body: m.bytes,
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`manifest PUT ${name}:${tag} → ${res.status}: ${text.slice(0, 300)}`);
  const header = res.headers.get('docker-content-digest');
  if (header !== m.digest) throw new Error(`registry stored ${name}:${tag} as ${header}, expected ${m.digest}`);
}

/**
 * Many tags, fast: one shared layer, one small config per tag (so every tag has its own manifest
 * digest), Docker schema 2 manifests PUT straight to the registry. The first and last tags are read
 * back to check that the registry serves exactly those bytes.
 */
export async function pushImages(registryHost: string, name: string, tags: string[]): Promise<PushedImage[]> {
  for (const t of tags) checkRef(name, t);
  const tar = ustar([{ name: 'hello.txt', content: Buffer.from(`hello from ${name}\n`) }]);
  const diffId = `sha256:${sha256hex(tar)}`;
  const layer = blob(gzipSync(tar, { level: 9 }));
  await ensureBlob(registryHost, name, layer);

  const results: PushedImage[] = new Array(tags.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= tags.length) return;
      const tag = tags[i]!;
      const config = jsonBlob({
        architecture: 'amd64',
        os: 'linux',
        created: '1970-01-01T00:00:00Z',
        config: { Cmd: ['/hello'], Labels: { 'signet.test.ref': `${name}:${tag}` } },
        rootfs: { type: 'layers', diff_ids: [diffId] },
      });
      await ensureBlob(registryHost, name, config, false); // unique per tag: skip the HEAD
      const manifest = jsonBlob({
        schemaVersion: 2,
        mediaType: MT.dockerManifest,
        config: { mediaType: MT.dockerConfig, size: config.size, digest: config.digest },
        layers: [{ mediaType: MT.dockerLayer, size: layer.size, digest: layer.digest }],
      });
      await putManifest(registryHost, name, tag, manifest, MT.dockerManifest);
      results[i] = {
        gun: `${registryHost}/${name}`,
        name,
        tag,
        digest: manifest.digest,
        size: manifest.size,
        mediaType: MT.dockerManifest,
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(12, tags.length) }, worker));
  for (const r of [results[0], results[results.length - 1]]) {
    if (r) await servedManifest(registryHost, name, r.tag, r.digest);
  }
  return results;
}
