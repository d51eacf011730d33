/**
 * Verify an image tag end to end: the tag resolves through verified trust data (Docker's rules,
 * reference §5.5) to a signed digest, and the registry serves a manifest with exactly that digest
 * and size. The registry client is passed in (src/updater may not import src/registry); anything with
 * `fetchByDigest` that checks the bytes hash to the digest will do.
 */
import { SignetError } from '../errors.js';
import { resolveTag, DOCKER_ROLES, type TrustedRepo } from './targets.js';
import type { Updater } from './updater.js';

/** The parts of a parsed image reference we need (src/registry ImageReference fits). */
export interface ImageRefLike {
  name: string; // the GUN
  familiar: string;
  tag?: string;
  digest?: string;
}

/** src/registry RegistryClient fits: it is given the repository name (the GUN) and the digest. */
export interface ManifestSource {
  fetchByDigest(name: string, digest: string): Promise<{ digest: string; size: number }>;
}

export interface VerifiedImage {
  name: string;
  familiar: string;
  tag: string;
  digest: string;
  size: number;
  role: string;
  repo: TrustedRepo;
}

export async function verifyImage(opts: {
  ref: string | ImageRefLike;
  /** Needed when `ref` is a string (e.g. src/registry parseImageReference with defaultTag 'latest'). */
  parseReference?: (ref: string) => ImageRefLike;
  /** An Updater for the reference's GUN, or a factory given the GUN. */
  updater: Updater | ((gun: string) => Updater);
  /** Omit to check trust data only (no registry round trip). */
  registry?: ManifestSource;
  roles?: readonly string[];
}): Promise<VerifiedImage> {
  let ref: ImageRefLike;
  if (typeof opts.ref === 'string') {
    if (opts.parseReference === undefined)
      throw new SignetError('INTERNAL', 'verifyImage needs parseReference for a string reference');
    ref = opts.parseReference(opts.ref);
  } else ref = opts.ref;
  const tag = ref.tag ?? (ref.digest === undefined ? 'latest' : undefined);
  if (tag === undefined) {
    throw new SignetError('USAGE', `${ref.familiar}@${ref.digest ?? ''} is a digest reference; trust data signs tags`, {
      fix: `verify a tag instead, e.g. ${ref.familiar}:latest`,
    });
  }
  const updater = typeof opts.updater === 'function' ? opts.updater(ref.name) : opts.updater;
  if (updater.gun !== ref.name) throw new SignetError('INTERNAL', `updater is for ${updater.gun}, not ${ref.name}`);
  const repo = await updater.refresh();
  const signed = resolveTag(repo, tag, opts.roles ?? DOCKER_ROLES);
  if (signed === null) {
    throw new SignetError('NOT_SIGNED', `tag ${tag} is not signed in ${ref.name}`, {
      fix: `sign it (docker trust sign ${ref.familiar}:${tag}) or use a signed tag; signed tags: signet verify lists none, docker trust inspect ${ref.familiar} shows them`,
      details: { gun: ref.name, tag },
    });
  }
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
  return {
    name: ref.name,
    familiar: ref.familiar,
    tag,
    digest: signed.digest,
    size: signed.size,
    role: signed.role,
    repo,
  };
}
