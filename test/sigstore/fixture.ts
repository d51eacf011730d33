// Loads the cosign-made vectors in test/fixtures/sigstore (see its README).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'sigstore');

export interface CosignArtifact {
  pubFile: string;
  pub: string;
  payload: Buffer;
  manifest: Buffer;
  config: Buffer;
  /** the signed image manifest digest */
  subject: string;
  signature: string;
}

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function cosignFixture(): Promise<CosignArtifact> {
  const pubFile = path.join(FIXTURES, 'cosign-v3-artifact.pub');
  const payload = await readFile(path.join(FIXTURES, 'cosign-v3-artifact.payload.json'));
  const manifest = await readFile(path.join(FIXTURES, 'cosign-v3-artifact.manifest.json'));
  const m = JSON.parse(manifest.toString('utf8')) as {
    config: { digest: string; size: number };
    layers: { digest: string; annotations: Record<string, string> }[];
  };
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: [{ created: '0001-01-01T00:00:00Z' }],
      os: '',
      rootfs: { type: 'layers', diff_ids: [sha(payload)] },
      config: {},
    }),
  );
  if (sha(config) !== m.config.digest || config.length !== m.config.size) throw new Error('fixture config drifted');
  if (sha(payload) !== m.layers[0]?.digest) throw new Error('fixture payload drifted');
  const doc = JSON.parse(payload.toString('utf8')) as { critical: { image: { 'docker-manifest-digest': string } } };
  return {
    pubFile,
    pub: await readFile(pubFile, 'utf8'),
    payload,
    manifest,
    config,
    subject: doc.critical.image['docker-manifest-digest'],
    signature: m.layers[0]?.annotations['dev.cosignproject.cosign/signature'] ?? '',
  };
}
