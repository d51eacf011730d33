/**
 * `signet bridge`: give every tag that verifies through Notary v1 trust data a sigstore signature
 * for the same digest, so OCI-native verifiers (podman, skopeo, CRI-O, cosign, Kyverno, the
 * policy-controller) accept what Docker Content Trust accepted.
 *
 * Each tag is checked with the updater's `verifyImage` (Docker's role rules, and the registry must
 * serve the signed manifest). Then, per digest:
 *  - a `.sig` manifest already holding a layer this key signed for this digest and repository: current;
 *  - otherwise a layer is added (other signers' layers are kept) and the manifest is written;
 *  - a `.sig` tag for a digest no tag is signed for any more (revoked or re-pointed): this key's
 *    layers are removed, and the whole manifest is deleted when nothing else is left in it. A tag
 *    that is still signed but failed at the registry (reported under `failed`) keeps its signature.
 * With the OCI 1.1 referrers API the signature is also stored as a referrer of the image.
 */
import type { KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import { SignetError } from '../errors.js';
import type { ImageReference, RegistryClient, RegistryWriter, ResolvedManifest } from '../registry/index.js';
import { verifyImage } from '../client/index.js';
import { listSignedTags, type Updater } from '../updater/index.js';
import {
  SIGNATURE_ARTIFACT_TYPE,
  digestOfSignatureTag,
  newSignatureLayer,
  readReferrerManifest,
  readSignatureManifest,
  signatureTag,
  writeSignatureManifest,
  type Descriptor,
  type SignatureManifest,
} from './attachments.js';
import { buildPayload, signPayload } from './payload.js';
import { judgeLayer } from './verify.js';

export interface BridgeEntry {
  digest: string;
  tags: string[];
  signatureTag: string;
}

export interface BridgeReport {
  repository: string;
  dryRun: boolean;
  /** 'unsupported' when the registry has no OCI 1.1 referrers API (docker-registry 2.8) */
  referrers: 'supported' | 'unsupported' | 'unknown';
  written: BridgeEntry[];
  current: BridgeEntry[];
  removed: { digest: string; signatureTag: string; deleted: boolean }[];
  failed: { tag: string; code: string; message: string }[];
}

export interface BridgeOptions {
  /** the repository (GUN); any tag or digest in it is ignored */
  ref: ImageReference;
  updater: Updater;
  client: RegistryClient;
  writer: RegistryWriter;
  signingKey: KeyObject;
  dryRun?: boolean;
  /** `optional.creator` in new payloads */
  creator?: string;
  now?: () => Date;
  onProgress?: (line: string) => void;
}

function isOurs(m: SignatureManifest, key: KeyObject, digest: string, name: string): boolean {
  return m.layers.some((l) => judgeLayer(l, key, digest, name).ok);
}

/** A layer whose signature `key` made, whatever its payload says. */
function signedByKey(l: SignatureManifest['layers'][number], key: KeyObject): boolean {
  const v = judgeLayer(l, key, '', '');
  return v.ok || (v.reason !== 'not-simple-signing' && v.reason !== 'other-key');
}

export async function runBridge(opts: BridgeOptions): Promise<BridgeReport> {
  const { updater, client, writer, signingKey } = opts;
  const ref: ImageReference = { ...opts.ref };
  delete ref.tag;
  delete ref.digest;
  const publicKey = createPublicKey(signingKey);
  const dryRun = opts.dryRun === true;
  const now = opts.now ?? (() => new Date());
  const progress = opts.onProgress ?? (() => undefined);
  const report: BridgeReport = {
    repository: ref.name,
    dryRun,
    referrers: 'unknown',
    written: [],
    current: [],
    removed: [],
    failed: [],
  };

  // 1. every tag Docker would trust, each verified end to end (trust data + the registry's bytes)
  const repo = await updater.refresh();
  const served = new Map<string, ResolvedManifest>();
  const source = {
    fetchByDigest: async (name: string, digest: string) => {
      const m = await client.fetchByDigest(name, digest);
      served.set(digest, m);
      return m;
    },
  };
  const byDigest = new Map<string, string[]>();
  const signedTags = listSignedTags(repo);
  // a tag that failed only at the registry (network, missing manifest) keeps its signature
  const stillSigned = new Set(signedTags.map((t) => t.digest));
  for (const t of signedTags) {
    try {
      const v = await verifyImage({
        ref: { name: ref.name, familiar: ref.familiar, tag: t.tag },
        updater,
        registry: source,
      });
      byDigest.set(v.digest, [...(byDigest.get(v.digest) ?? []), v.tag]);
    } catch (e) {
      const code = e instanceof SignetError ? e.code : 'INTERNAL';
      report.failed.push({ tag: t.tag, code, message: e instanceof Error ? e.message : String(e) });
      progress(`skip ${ref.familiar}:${t.tag}: ${code}`);
    }
  }

  // 2. the OCI 1.1 referrers API, probed once against a manifest that exists
  const probe = [...byDigest.keys()][0];
  if (probe !== undefined)
    report.referrers = (await writer.supportsReferrers(ref, probe)) ? 'supported' : 'unsupported';

  // 3. sign what is not signed yet
  for (const [digest, tags] of byDigest) {
    const entry: BridgeEntry = { digest, tags, signatureTag: signatureTag(digest) };
    const existing = await readSignatureManifest(client, writer, ref, digest);
    if (existing !== undefined && isOurs(existing, publicKey, digest, ref.name)) {
      report.current.push(entry);
      continue;
    }
    report.written.push(entry);
    progress(`${dryRun ? 'would sign' : 'sign'} ${ref.familiar}@${digest} (${tags.join(', ')})`);
    if (dryRun) continue;
    const payload = buildPayload(ref.name, digest, {
      creator: opts.creator ?? 'signet bridge',
      timestamp: Math.floor(now().getTime() / 1000),
    });
    const layers = [...(existing?.layers ?? []), newSignatureLayer(payload, signPayload(signingKey, payload))];
    const m = served.get(digest);
    const subject: Descriptor | undefined =
      report.referrers === 'supported' && m !== undefined
        ? { mediaType: m.mediaType, size: m.size, digest }
        : undefined;
    await writeSignatureManifest(writer, ref, digest, layers, subject);
  }

  // 4. remove this key's signatures from digests no tag verifies to any more
  for (const tag of await writer.listTags(ref)) {
    const digest = digestOfSignatureTag(tag);
    if (digest === undefined || stillSigned.has(digest)) continue;
    const existing = await readSignatureManifest(client, writer, ref, digest);
    if (existing === undefined || !existing.layers.some((l) => signedByKey(l, publicKey))) continue;
    const rest = existing.layers.filter((l) => !signedByKey(l, publicKey));
    report.removed.push({ digest, signatureTag: tag, deleted: rest.length === 0 });
    progress(
      `${dryRun ? 'would remove' : 'remove'} the signature of ${ref.familiar}@${digest} (no tag verifies to it)`,
    );
    if (dryRun) continue;
    if (rest.length === 0) await writer.deleteManifest(ref, existing.digest);
    else await writeSignatureManifest(writer, ref, digest, rest);
    if (report.referrers === 'supported') await removeReferrers(opts, ref, publicKey, digest);
  }
  return report;
}

async function removeReferrers(
  opts: BridgeOptions,
  ref: ImageReference,
  key: KeyObject,
  digest: string,
): Promise<void> {
  for (const r of await opts.writer.listReferrers(ref, digest, SIGNATURE_ARTIFACT_TYPE)) {
    const m = await readReferrerManifest(opts.client, opts.writer, ref, r.digest);
    if (m.layers.length > 0 && m.layers.every((l) => signedByKey(l, key)))
      await opts.writer.deleteManifest(ref, r.digest);
  }
}
