/**
 * Image references, normalised the way docker/distribution's `reference.ParseNormalizedNamed`
 * does it (the rules Docker CLI applies before computing a GUN):
 *
 *   hello                  → docker.io/library/hello
 *   index.docker.io/x/y    → docker.io/x/y
 *   localhost:5000/a/b:1   → registry localhost:5000, repository a/b, tag 1
 *
 * Grammar (distribution/reference):
 *   name        := [domain '/'] path-component ('/' path-component)*
 *   domain      := host [':' port]            host = dns name | '[' ipv6 ']'
 *   path-comp   := [a-z0-9]+ (([._]|__|-+) [a-z0-9]+)*
 *   tag         := [\w][\w.-]{0,127}
 *   digest      := algorithm ':' hex
 * The first component is a registry only if it contains '.' or ':', is 'localhost', or has an
 * upper-case letter; otherwise the name is on Docker Hub.
 */
import { SignetError } from '../errors.js';

export interface ImageReference {
  /** 'docker.io' or host[:port] */
  registry: string;
  /** path inside the registry, e.g. 'library/hello' */
  repository: string;
  tag?: string;
  digest?: string;
  /** registry/repository: the GUN, e.g. 'docker.io/library/hello' */
  name: string;
  /** the name as docker prints it, e.g. 'hello' or 'localhost:5000/a/b' */
  familiar: string;
}

export const DOCKER_HUB = 'docker.io';
const LEGACY_DOCKER_HUB = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
const NAME_TOTAL_LENGTH_MAX = 255;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST_SHAPE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const HEX64 = /^[a-f0-9]{64}$/;

/** Hex lengths of the digest algorithms go-digest knows. */
export const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

function usage(ref: string, problem: string, fix?: string): SignetError {
  return new SignetError('USAGE', `invalid reference ${JSON.stringify(ref)}: ${problem}`, {
    fix:
      fix ??
      'Write an image reference as [registry[:port]/]repository[:tag][@sha256:<64 hex>], e.g. "alpine:3.20" or "localhost:5000/team/app:1.0".',
    details: { reference: ref },
  });
}

/**
 * Check a digest string (`algorithm:hex`); returns it unchanged. Only sha256, sha384 and sha512
 * with lower-case hex of the right length are accepted, as go-digest does.
 */
export function checkDigest(digest: string, ref: string = digest): string {
  if (!DIGEST_SHAPE.test(digest)) {
    return fail(usage(ref, `digest ${JSON.stringify(digest)} is not of the form sha256:<64 hex characters>`));
  }
  const colon = digest.indexOf(':');
  const alg = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const want = DIGEST_HEX_LENGTH[alg];
  if (want === undefined) {
    return fail(usage(ref, `unsupported digest algorithm ${JSON.stringify(alg)} (use sha256)`));
  }
  if (hex.length !== want) {
    return fail(usage(ref, `${alg} digest must have ${want} hex characters, got ${hex.length}`));
  }
  if (!/^[a-f0-9]+$/.test(hex)) return fail(usage(ref, 'digest hex must be lower-case'));
  return digest;
}

function fail(e: SignetError): never {
  throw e;
}

/** Split "name[:tag][@digest]" → parts, without validating them. */
function splitTagDigest(s: string): { name: string; tag?: string; digest?: string } {
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  // a colon after the last slash separates the tag; one before it belongs to the domain's port
  if (lastColon !== -1 && lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
  }
  return { name: rest, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

function familiarName(registry: string, repository: string): string {
  if (registry !== DOCKER_HUB) return `${registry}/${repository}`;
  if (repository.startsWith(OFFICIAL_PREFIX) && !repository.slice(OFFICIAL_PREFIX.length).includes('/')) {
    return repository.slice(OFFICIAL_PREFIX.length);
  }
  return repository;
}

export function parseImageReference(ref: string, opts: { defaultTag?: string } = {}): ImageReference {
  if (typeof ref !== 'string' || ref.length === 0) {
    throw usage(String(ref), 'repository name must have at least one component');
  }
  if (/\s/.test(ref)) throw usage(ref, 'references cannot contain white space');
  if (HEX64.test(ref)) {
    throw usage(
      ref,
      'cannot specify 64-byte hexadecimal strings as a repository name',
      'To refer to an image by digest, write NAME@sha256:<hex>.',
    );
  }

  const parts = splitTagDigest(ref);
  if (parts.digest !== undefined && parts.digest === '') throw usage(ref, 'nothing after "@"');
  if (parts.tag !== undefined && parts.tag === '') throw usage(ref, 'nothing after ":" (empty tag)');
  if (parts.name === '') throw usage(ref, 'repository name must have at least one component');

  // domain split (splitDockerDomain)
  const slash = parts.name.indexOf('/');
  let registry: string;
  let repository: string;
  const first = slash === -1 ? '' : parts.name.slice(0, slash);
  if (slash === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    registry = DOCKER_HUB;
    repository = parts.name;
  } else {
    registry = first;
    repository = parts.name.slice(slash + 1);
    if (!DOMAIN.test(registry))
      throw usage(ref, `registry host ${JSON.stringify(registry)} is not a valid host[:port]`);
  }
  if (registry === LEGACY_DOCKER_HUB) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = OFFICIAL_PREFIX + repository;

  if (repository.toLowerCase() !== repository) {
    throw usage(
      ref,
      `repository name (${repository}) must be lowercase`,
      `Use ${JSON.stringify(repository.toLowerCase())}.`,
    );
  }
  const components = repository.split('/');
  for (const c of components) {
    if (c === '') throw usage(ref, 'repository name has an empty path component (check for "//" or a trailing "/")');
    if (!PATH_COMPONENT.test(c)) {
      throw usage(
        ref,
        `path component ${JSON.stringify(c)} is invalid: use lower-case letters and digits, separated by ".", "_", "__" or "-"`,
      );
    }
  }
  const name = `${registry}/${repository}`;
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw usage(
      ref,
      `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters (it has ${name.length})`,
    );
  }

  let tag = parts.tag;
  if (tag !== undefined && !TAG.test(tag)) {
    throw usage(
      ref,
      `tag ${JSON.stringify(tag)} is invalid: at most 128 characters of [A-Za-z0-9_.-], not starting with "." or "-"`,
    );
  }
  const digest = parts.digest === undefined ? undefined : checkDigest(parts.digest, ref);
  if (tag === undefined && digest === undefined && opts.defaultTag !== undefined) {
    if (!TAG.test(opts.defaultTag)) throw usage(ref, `default tag ${JSON.stringify(opts.defaultTag)} is invalid`);
    tag = opts.defaultTag;
  }

  return {
    registry,
    repository,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
    name,
    familiar: familiarName(registry, repository),
  };
}

/** The reference as docker prints it: familiar name plus ":tag" and/or "@digest". */
export function familiarString(ref: ImageReference): string {
  return `${ref.familiar}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** The fully qualified reference: name plus ":tag" and/or "@digest". */
export function referenceString(ref: ImageReference): string {
  return `${ref.name}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}
