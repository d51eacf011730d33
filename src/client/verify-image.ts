/**
 * Verify an image tag end to end: the tag resolves through verified trust data (Docker's rules,
 * docs/verify.md) to a signed digest, the registry serves a manifest with exactly that digest and
 * size, and the registry's tag still points at it (else `verify && pull TAG` would run unsigned bytes).
 * It lives in src/client because it needs both the updater (trust data) and the registry.
 */
import { SignetError, isSignetError } from '../errors.js';
import { parseImageReference, type ImageReference, type RegistryClient } from '../registry/index.js';
import { DOCKER_ROLES, requireSignedTag, type ResolvedTag, type TrustedRepo, type Updater } from '../updater/index.js';

/** The parts of a reference verifyImage reads. */
export type ImageRefLike = Pick<ImageReference, 'name' | 'familiar' | 'tag' | 'digest'>;

/**
 * Where the manifest bytes come from: a RegistryClient, or a wrapper of one (src/sigstore keeps what
 * it fetched). `fetchByDigest` must refuse bytes that do not hash to the digest; without `resolve`
 * the registry's tag is not checked.
 */
export type ManifestSource = Pick<RegistryClient, 'fetchByDigest'> & Partial<Pick<RegistryClient, 'resolve'>>;

export interface VerifiedImage {
  name: string;
  familiar: string;
  tag: string;
  digest: string;
  size: number;
  role: string;
  repo: TrustedRepo;
  /** The registry's tag: points at the signed digest, or is absent (a pull by tag then fails); unset when not checked. */
  registryTag?: 'matches' | 'absent';
}

export async function verifyImage(opts: {
  /** `NAME[:TAG|@DIGEST]` (no tag: `latest`), or a parsed reference (only its names, tag and digest are read) */
  ref: string | ImageRefLike;
  /** An Updater for the reference's GUN, or a factory given the GUN. */
  updater: Updater | ((gun: string) => Updater);
  /** Omit to check trust data only (no registry round trip). */
  registry?: ManifestSource;
  roles?: readonly string[];
  /** How the tag's signed target is chosen (e.g. a policy's signer rule); default requireSignedTag. */
  signedTarget?: (repo: TrustedRepo, tag: string) => ResolvedTag;
}): Promise<VerifiedImage> {
  const ref: ImageRefLike = typeof opts.ref === 'string' ? parseImageReference(opts.ref) : opts.ref;
  const tag = ref.tag ?? (ref.digest === undefined ? 'latest' : undefined);
  if (tag === undefined) {
    throw new SignetError('USAGE', `${ref.familiar}@${ref.digest ?? ''} is a digest reference; trust data signs tags`, {
      fix: `verify a tag instead, e.g. ${ref.familiar}:latest`,
    });
  }
  const updater = typeof opts.updater === 'function' ? opts.updater(ref.name) : opts.updater;
  if (updater.gun !== ref.name) throw new SignetError('INTERNAL', `updater is for ${updater.gun}, not ${ref.name}`);
  const repo = await updater.refresh();
  const signed =
    opts.signedTarget !== undefined
      ? opts.signedTarget(repo, tag)
      : requireSignedTag(repo, tag, ref.familiar, opts.roles ?? DOCKER_ROLES);
  if (ref.digest !== undefined && ref.digest !== signed.digest) {
    throw new SignetError(
      'DIGEST_MISMATCH',
      `${ref.familiar}:${tag} is signed as ${signed.digest}, not ${ref.digest}`,
      {
        fix: 'the digest you gave is not the signed one; drop it or use the signed digest',
      },
    );
  }
  if (opts.registry !== undefined) {
    // the registry client itself refuses bytes that do not hash to the digest (DIGEST_MISMATCH)
    const served = await opts.registry.fetchByDigest(ref.name, signed.digest);
    if (served.digest !== signed.digest || served.size !== signed.size) {
      throw new SignetError(
        'DIGEST_MISMATCH',
        `the registry serves ${served.digest} (${served.size} bytes) for ${ref.familiar}:${tag}, but the signed manifest is ${signed.digest} (${signed.size} bytes)`,
        {
          fix: 'do not run this image: the registry content differs from what was signed',
          details: { signed: signed.digest, served: served.digest },
        },
      );
    }
  }
  const registryTag =
    opts.registry?.resolve !== undefined
      ? await checkRegistryTag(opts.registry.resolve.bind(opts.registry), ref, tag, signed)
      : undefined;
  return {
    name: ref.name,
    familiar: ref.familiar,
    tag,
    digest: signed.digest,
    size: signed.size,
    role: signed.role,
    repo,
    ...(registryTag !== undefined ? { registryTag } : {}),
  };
}

/** The registry's `NAME:TAG` must be the signed digest: TAG_MOVED otherwise; a missing tag is 'absent'. */
async function checkRegistryTag(
  resolve: (ref: string) => Promise<{ digest: string }>,
  ref: ImageRefLike,
  tag: string,
  signed: ResolvedTag,
): Promise<'matches' | 'absent'> {
  let now: { digest: string };
  try {
    now = await resolve(`${ref.name}:${tag}`);
  } catch (e) {
    if (isSignetError(e, 'NOT_FOUND')) return 'absent';
    throw e;
  }
  if (now.digest === signed.digest) return 'matches';
  throw new SignetError(
    'TAG_MOVED',
    `the registry's tag ${ref.familiar}:${tag} points at ${now.digest}, but the signed digest is ${signed.digest}`,
    {
      fix: `do not pull by tag: pull ${ref.familiar}@${signed.digest}, or, if the new image is intended, sign it (signet sign ${ref.familiar}:${tag})`,
      details: { tag, signed: signed.digest, registry: now.digest },
    },
  );
}
