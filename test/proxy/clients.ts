// DCT-unaware clients pulling through the proxy: skopeo (raw manifest bytes, a full copy with blobs)
// and podman as root with the vfs storage driver (no daemon). Both are Debian packages.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { childEnv, requireBinary, run } from '../harness/proc.js';

export const PODMAN = '/usr/bin/podman';
export const SKOPEO = '/usr/bin/skopeo';

export interface PullResult {
  ok: boolean;
  /** sha256 of what was served (skopeo raw) or the digest podman recorded */
  digest?: string;
  output: string;
}

const env = (): NodeJS.ProcessEnv => childEnv({}, (k) => k.startsWith('REGISTRY_') || k.startsWith('CONTAINERS_'));

/** `skopeo inspect --raw`: the exact manifest bytes the proxy serves for `ref` (host/name:tag|@digest). */
export async function skopeoRaw(ref: string): Promise<PullResult & { bytes?: Buffer }> {
  await requireBinary(SKOPEO, 'skopeo');
  const r = await run(SKOPEO, ['inspect', '--raw', '--tls-verify=false', '--retry-times', '0', `docker://${ref}`], {
    env: env(),
    timeoutMs: 60_000,
  });
  if (r.code !== 0) return { ok: false, output: r.stderr + r.stdout };
  const bytes = Buffer.from(r.stdout, 'utf8');
  return { ok: true, bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, output: r.stderr };
}

/** `skopeo copy` of `ref` (manifests and every blob, the host platform of an index) to a `dir:` copy, which
 *  keeps the manifest bytes; the digest file names the manifest copied. */
export async function skopeoCopy(ref: string, dir: string): Promise<PullResult> {
  await requireBinary(SKOPEO, 'skopeo');
  await mkdir(dir, { recursive: true });
  const digestFile = path.join(dir, '..', `${path.basename(dir)}.digest`);
  const r = await run(
    SKOPEO,
    [
      'copy',
      '--quiet',
      '--insecure-policy',
      '--src-tls-verify=false',
      '--retry-times',
      '0',
      '--digestfile',
      digestFile,
      `docker://${ref}`,
      `dir:${dir}`,
    ],
    { env: env(), timeoutMs: 120_000 },
  );
  if (r.code !== 0) return { ok: false, output: r.stderr + r.stdout };
  return { ok: true, digest: (await readFile(digestFile, 'utf8')).trim(), output: r.stderr };
}

/** `podman pull` as root into its own vfs store under `dir`; the digest podman records for the image. */
export async function podmanPull(ref: string, dir: string): Promise<PullResult> {
  await requireBinary(PODMAN, 'podman');
  // podman refuses a runroot path longer than 50 characters: a short one in the system temp dir
  const runroot = await mkdtemp(path.join(os.tmpdir(), 'pr-'));
  const base = [
    '--root',
    path.join(dir, 'storage'),
    '--runroot',
    runroot,
    '--storage-driver',
    'vfs',
    '--events-backend',
    'none',
  ];
  try {
    const r = await run(PODMAN, [...base, 'pull', '--tls-verify=false', ref], { env: env(), timeoutMs: 180_000 });
    if (r.code !== 0) return { ok: false, output: r.stderr + r.stdout };
    const id = r.stdout.trim().split('\n').pop() ?? '';
    const i = await run(PODMAN, [...base, 'image', 'inspect', '--format', '{{.Digest}}', id], { env: env() });
    if (i.code !== 0) return { ok: false, output: i.stderr };
    return { ok: true, digest: i.stdout.trim(), output: r.stderr };
  } finally {
    await rm(runroot, { recursive: true, force: true });
  }
}
