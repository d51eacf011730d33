/**
 * Where sigstore signatures live in a registry (sigstore/cosign specs/SIGNATURE_SPEC.md;
 * containers-registries.d(5) `use-sigstore-attachments`): the signatures of `repo@sha256:HEX` are
 * the layers of the OCI image manifest tagged `sha256-HEX.sig` in the same repository. Each layer is
 * one payload blob (`application/vnd.dev.cosign.simplesigning.v1+json`) with its base64 signature in
 * the annotation `dev.cosignproject.cosign/signature`. With the OCI 1.1 referrers API the same
 * manifest can also be stored untagged with a `subject` naming the image.
 */
import { sha256Digest } from '../digest.js';
import { SignetError, isSignetError } from '../errors.js';
import {
  MEDIA_TYPES,
  parseImageReference,
  type ImageReference,
  type RegistryClient,
  type RegistryWriter,
  type ResolvedManifest,
} from '../registry/index.js';

export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
/** cosign's artifactType for signatures stored as OCI 1.1 referrers */
export const SIGNATURE_ARTIFACT_TYPE = 'application/vnd.dev.cosign.artifact.sig.v1+json';
const MAX_PAYLOAD_BYTES = 128 * 1024;

export interface Descriptor {
  mediaType: string;
  size: number;
  digest: string;
  annotations?: Record<string, string>;
}

/** One layer of a signature manifest; `payload` is loaded for simple-signing layers only. */
export interface SignatureLayer {
  descriptor: Descriptor;
  payload?: Buffer;
  /** base64 signature from the annotation */
  signature?: string;
}

export interface SignatureManifest {
  /** digest of the manifest as served */
  digest: string;
  layers: SignatureLayer[];
}

/** `sha256:HEX` → `sha256-HEX.sig` */
export function signatureTag(digest: string): string {
  return `${digest.replace(':', '-')}.sig`;
}

/** `sha256-HEX.sig` → `sha256:HEX`, or undefined for any other tag. */
export function digestOfSignatureTag(tag: string): string | undefined {
  const m = /^sha256-([0-9a-f]{64})\.sig$/.exec(tag);
  return m ? `sha256:${m[1]}` : undefined;
}

function sigRef(ref: ImageReference, digest: string): ImageReference {
  return parseImageReference(`${ref.name}:${signatureTag(digest)}`);
}

/** The signature manifest of `digest` (its `.sig` tag), with its payloads; undefined when there is none. */
export async function readSignatureManifest(
  client: RegistryClient,
  writer: RegistryWriter,
  ref: ImageReference,
  digest: string,
): Promise<SignatureManifest | undefined> {
  let served: ResolvedManifest;
  try {
    served = await client.resolve(sigRef(ref, digest));
  } catch (e) {
    if (isSignetError(e, 'NOT_FOUND')) return undefined;
    throw e;
  }
  return loadLayers(writer, ref, served, `${ref.name}:${signatureTag(digest)}`);
}

/** A signature manifest stored as a referrer (by its own digest). */
export async function readReferrerManifest(
  client: RegistryClient,
  writer: RegistryWriter,
  ref: ImageReference,
  manifestDigest: string,
): Promise<SignatureManifest> {
  const served = await client.fetchByDigest(ref, manifestDigest);
  return loadLayers(writer, ref, served, `${ref.name}@${manifestDigest}`);
}

async function loadLayers(
  writer: RegistryWriter,
  ref: ImageReference,
  served: ResolvedManifest,
  shown: string,
): Promise<SignatureManifest> {
  const doc = JSON.parse(served.bytes.toString('utf8')) as { layers?: unknown };
  if (!Array.isArray(doc.layers)) {
    throw new SignetError('MALFORMED_METADATA', `${shown} is not an image manifest with layers`, {
      fix: 'Something other than a signature holds this tag; remove it or check what wrote it.',
    });
  }
  const layers: SignatureLayer[] = [];
  for (const raw of doc.layers as Descriptor[]) {
    const descriptor: Descriptor = {
      mediaType: String(raw.mediaType),
      size: Number(raw.size),
      digest: String(raw.digest),
      ...(raw.annotations !== undefined ? { annotations: raw.annotations } : {}),
    };
    const signature = descriptor.annotations?.[SIGNATURE_ANNOTATION];
    if (
      descriptor.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE ||
      signature === undefined ||
      descriptor.size > MAX_PAYLOAD_BYTES
    ) {
      layers.push({ descriptor });
      continue;
    }
    const payload = await writer.getBlob(ref, descriptor.digest, MAX_PAYLOAD_BYTES);
    layers.push({ descriptor, payload, signature });
  }
  return { digest: served.digest, layers };
}

/** A new simple-signing layer (its payload blob is uploaded by writeSignatureManifest). */
export function newSignatureLayer(payload: Buffer, signature: string): SignatureLayer {
  return {
    descriptor: {
      mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
      size: payload.length,
      digest: sha256Digest(payload),
      annotations: { [SIGNATURE_ANNOTATION]: signature },
    },
    payload,
    signature,
  };
}

/** The manifest bytes, and the config blob cosign gives such a manifest (rootfs lists the layers). */
export function signatureManifestBytes(
  layers: SignatureLayer[],
  subject?: Descriptor,
): { manifest: Buffer; config: Buffer } {
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: [{ created: '0001-01-01T00:00:00Z' }],
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.descriptor.digest) },
      config: {},
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      ...(subject !== undefined ? { artifactType: SIGNATURE_ARTIFACT_TYPE } : {}),
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: config.length, digest: sha256Digest(config) },
      layers: layers.map((l) => l.descriptor),
      ...(subject !== undefined ? { subject } : {}),
    }),
  );
  return { manifest, config };
}

/**
 * Upload the payload blobs and config, then PUT the manifest as `sha256-HEX.sig` and, when
 * `subject` is given (a registry with the referrers API), once more untagged with that subject.
 * Returns the digests written.
 */
export async function writeSignatureManifest(
  writer: RegistryWriter,
  ref: ImageReference,
  digest: string,
  layers: SignatureLayer[],
  subject?: Descriptor,
): Promise<{ tagged: string; referrer?: string }> {
  for (const l of layers) if (l.payload !== undefined) await writer.putBlob(ref, l.payload);
  const tagged = signatureManifestBytes(layers);
  await writer.putBlob(ref, tagged.config);
  const taggedDigest = await writer.putManifest(ref, signatureTag(digest), MEDIA_TYPES.ociManifest, tagged.manifest);
  if (subject === undefined) return { tagged: taggedDigest };
  const referrer = signatureManifestBytes(layers, subject);
  const referrerDigest = sha256Digest(referrer.manifest);
  await writer.putManifest(ref, referrerDigest, MEDIA_TYPES.ociManifest, referrer.manifest);
  return { tagged: taggedDigest, referrer: referrerDigest };
}
