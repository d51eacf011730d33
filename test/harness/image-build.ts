/**
 * Test harness: build tiny deterministic images by hand (no Docker daemon): a hand-written ustar
 * tar + node:zlib gzip layer, its config and OCI manifest, written out as an OCI layout.
 * Pushing them is test/harness/push-image.ts.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const MT = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export function sha256hex(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

// ------------------------------------------------------------------ deterministic tar + gzip

function octal(n: number, width: number): string {
  // width includes the trailing NUL
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

/** A ustar archive of regular files: owner 0:0, mode 0644, mtime 0, sorted by name. */
export function ustar(files: { name: string; content: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const f of sorted) {
    if (Buffer.byteLength(f.name) > 100) throw new Error(`tar member name too long: ${f.name}`);
    const h = Buffer.alloc(512, 0);
    h.write(f.name, 0, 100, 'utf8');
    h.write(octal(0o644, 8), 100, 8, 'ascii');
    h.write(octal(0, 8), 108, 8, 'ascii');
    h.write(octal(0, 8), 116, 8, 'ascii');
    h.write(octal(f.content.length, 12), 124, 12, 'ascii');
    h.write(octal(0, 12), 136, 12, 'ascii');
    h.write('        ', 148, 8, 'ascii'); // checksum placeholder: 8 spaces
    h.write('0', 156, 1, 'ascii'); // regular file
    h.write('ustar\0', 257, 6, 'ascii');
    h.write('00', 263, 2, 'ascii');
    h.write('root', 265, 32, 'ascii');
    h.write('root', 297, 32, 'ascii');
    let sum = 0;
    for (const byte of h) sum += byte;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
    parts.push(h, f.content);
    const pad = (512 - (f.content.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(1024, 0)); // two zero blocks end the archive
  return Buffer.concat(parts);
}

export interface Blob {
  digest: string;
  size: number;
  bytes: Buffer;
}
export function blob(bytes: Buffer): Blob {
  return { digest: `sha256:${sha256hex(bytes)}`, size: bytes.length, bytes };
}

/** A blob of `value` as compact JSON (manifests, configs, indexes). */
export const jsonBlob = (value: unknown): Blob => blob(Buffer.from(JSON.stringify(value)));

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}
export function parsePlatform(p: string): Platform {
  const [os, architecture, variant] = p.split('/');
  if (!os || !architecture) throw new Error(`platform must be os/arch[/variant], got ${JSON.stringify(p)}`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

export interface BuiltImage {
  layer: Blob;
  config: Blob;
  manifest: Blob; // OCI manifest
  platform: Platform;
}

export function buildImage(label: string, platform: Platform, layerText?: string): BuiltImage {
  const tar = ustar([{ name: 'hello.txt', content: Buffer.from(layerText ?? `hello from ${label}\n`) }]);
  const diffId = `sha256:${sha256hex(tar)}`;
  const layer = blob(gzipSync(tar, { level: 9 }));
  const cfg: Record<string, unknown> = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    created: '1970-01-01T00:00:00Z',
    config: { Cmd: ['/hello'], Labels: { 'signet.test.ref': label } },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created: '1970-01-01T00:00:00Z', created_by: `signet test harness ${label}` }],
  };
  const config = jsonBlob(cfg);
  const manifest = jsonBlob({
    schemaVersion: 2,
    mediaType: MT.ociManifest,
    config: { mediaType: MT.ociConfig, digest: config.digest, size: config.size },
    layers: [{ mediaType: MT.ociLayer, digest: layer.digest, size: layer.size }],
  });
  return { layer, config, manifest, platform };
}

export async function writeLayout(
  dir: string,
  blobs: Blob[],
  top: { mediaType: string; blob: Blob; tag: string },
): Promise<void> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const b of blobs) await writeFile(join(dir, 'blobs', 'sha256', b.digest.slice(7)), b.bytes);
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}\n');
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: top.mediaType,
          digest: top.blob.digest,
          size: top.blob.size,
          annotations: { 'org.opencontainers.image.ref.name': top.tag },
        },
      ],
    }),
  );
}

// ------------------------------------------------------------------ processes and HTTP
