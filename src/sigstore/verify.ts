/**
 * The reverse check: does `IMAGE[:TAG]` (or `@digest`) carry a sigstore signature by this public
 * key? A layer is accepted as containers/image does with `signedIdentity: matchRepository`
 * (containers-policy.json(5)): the signature verifies over the exact payload bytes, the payload
 * names the manifest digest, and its docker-reference names the same repository.
 */
import type { KeyObject } from 'node:crypto';
import { SignetError } from '../errors.js';
import {
  parseImageReference,
  type ImageReference,
  type RegistryClient,
  type RegistryWriter,
} from '../registry/index.js';
import { readSignatureManifest, signatureTag, type SignatureLayer } from './attachments.js';
import { parsePayload, verifyPayloadSignature, type SimpleSigningPayload } from './payload.js';

export type LayerVerdict =
  | { ok: true; payload: SimpleSigningPayload }
  | {
      ok: false;
      reason: 'not-simple-signing' | 'other-key' | 'malformed' | 'other-digest' | 'other-repository';
      detail?: string;
    };

/** Judge one signature layer for `digest` in repository `name` (the normalised GUN-style name). */
export function judgeLayer(layer: SignatureLayer, key: KeyObject, digest: string, name: string): LayerVerdict {
  if (layer.payload === undefined || layer.signature === undefined) return { ok: false, reason: 'not-simple-signing' };
  if (!verifyPayloadSignature(key, layer.payload, layer.signature)) return { ok: false, reason: 'other-key' };
  let payload: SimpleSigningPayload;
  try {
    payload = parsePayload(layer.payload);
  } catch (e) {
    return { ok: false, reason: 'malformed', detail: e instanceof Error ? e.message : String(e) };
  }
  if (payload.manifestDigest !== digest) return { ok: false, reason: 'other-digest', detail: payload.manifestDigest };
  let signedName: string;
  try {
    signedName = parseImageReference(payload.dockerReference).name;
  } catch {
    return { ok: false, reason: 'malformed', detail: `docker-reference ${JSON.stringify(payload.dockerReference)}` };
  }
  if (signedName !== name) return { ok: false, reason: 'other-repository', detail: payload.dockerReference };
  return { ok: true, payload };
}

export interface SigstoreVerified {
  name: string;
  familiar: string;
  tag?: string;
  digest: string;
  /** how many layers this key signed for this digest and repository */
  signatures: number;
  dockerReferences: string[];
}

export async function verifySigstoreImage(opts: {
  ref: ImageReference;
  client: RegistryClient;
  writer: RegistryWriter;
  publicKey: KeyObject;
}): Promise<SigstoreVerified> {
  const { ref, client, writer, publicKey } = opts;
  const digest = ref.digest ?? (await client.resolve(ref)).digest;
  const shown = ref.digest !== undefined ? `${ref.familiar}@${digest}` : `${ref.familiar}:${ref.tag ?? 'latest'}`;
  const manifest = await readSignatureManifest(client, writer, ref, digest);
  if (manifest === undefined) {
    throw new SignetError(
      'NOT_SIGNED',
      `${shown} (${digest}) has no sigstore signature (no ${signatureTag(digest)} tag)`,
      {
        fix: `sign it (signet bridge ${ref.familiar}, cosign sign, or skopeo copy --sign-by-sigstore-private-key) or check --sigstore-key`,
        details: { digest },
      },
    );
  }
  const verdicts = manifest.layers.map((l) => judgeLayer(l, publicKey, digest, ref.name));
  const accepted = verdicts.filter((v): v is Extract<LayerVerdict, { ok: true }> => v.ok);
  if (accepted.length === 0) {
    const mismatch = verdicts.find(
      (v) => !v.ok && (v.reason === 'other-digest' || v.reason === 'other-repository' || v.reason === 'malformed'),
    );
    if (mismatch !== undefined && !mismatch.ok) {
      throw new SignetError(
        'BAD_SIGNATURE',
        `a signature by this key on ${shown} does not match it (${mismatch.reason}: ${mismatch.detail ?? ''})`,
        {
          fix: 'do not run this image: a valid signature was moved to another image or repository',
          details: { digest, reason: mismatch.reason },
        },
      );
    }
    throw new SignetError(
      'NOT_SIGNED',
      `none of the ${manifest.layers.length} signature(s) on ${shown} is by the key given with --sigstore-key`,
      {
        fix: 'check that --sigstore-key names the public key of the signer',
        details: { digest, layers: manifest.layers.length },
      },
    );
  }
  return {
    name: ref.name,
    familiar: ref.familiar,
    ...(ref.tag !== undefined && ref.digest === undefined ? { tag: ref.tag } : {}),
    digest,
    signatures: accepted.length,
    dockerReferences: [...new Set(accepted.map((a) => a.payload.dockerReference))],
  };
}
