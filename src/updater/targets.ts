/**
 * Reading targets out of a verified repository the way the notary client library (and so Docker)
 * does (C:cli/command/image/trust.go, N:tuf/tuf.go WalkTargets, N:client/reader.go GetTargetByName):
 * a breadth-first walk from `targets`, where a role is visited only when its (parent-restricted)
 * paths cover the target; a role that is skipped is not descended into.
 */
import { base64ToHex } from '../digest.js';
import { SignetError } from '../errors.js';
import type { PinFollowed } from './pins.js';
import {
  isDirectChild,
  pathAllowed,
  restrictPaths,
  type FileMeta,
  type Hashes,
  type Metadata,
  type RootSigned,
  type SnapshotSigned,
  type TargetsSigned,
  type TimestampSigned,
} from '../tuf/index.js';

export interface TrustedRepo {
  gun: string;
  root: Metadata<RootSigned>;
  timestamp: Metadata<TimestampSigned>;
  snapshot: Metadata<SnapshotSigned>;
  targets: Metadata<TargetsSigned>;
  delegations: Map<string, Metadata<TargetsSigned>>;
  /** Where the timestamp came from: the server now ('fresh') or the trust-dir cache ('cached'). */
  freshness?: TrustFreshness;
  /** Delegations skipped as notary skips them (expired, below threshold, unknown keys), with why. */
  ignored?: { role: string; error: SignetError }[];
  /** Set when this update followed a root rotation from a pinned root and moved the cert pin. */
  pinFollowed?: PinFollowed;
}

export interface TrustFreshness {
  source: 'fresh' | 'cached';
  /** The last time the trust server confirmed this data (the cached timestamp's write/confirm time). */
  checkedAt: Date;
}

/** What tag resolution reads: the targets role and the verified delegations (a client RepoView fits). */
export type TargetsView = Pick<TrustedRepo, 'targets' | 'delegations'>;

interface WalkRole {
  name: string;
  paths: string[];
}

/** Child delegations of `role` that notary considers valid: direct children, paths restricted by the parent. */
function validChildren(repo: TargetsView, md: Metadata<TargetsSigned>, role: WalkRole): WalkRole[] {
  const out: WalkRole[] = [];
  for (const d of md.signed.delegations?.roles ?? []) {
    if (!isDirectChild(role.name, d.name)) continue;
    out.push({ name: d.name, paths: restrictPaths(role.paths, d.paths) });
  }
  void repo;
  return out;
}

function roleMd(repo: TargetsView, name: string): Metadata<TargetsSigned> | undefined {
  return name === 'targets' ? repo.targets : repo.delegations.get(name);
}

function isAncestorRole(child: string, ancestor: string): boolean {
  return child === ancestor || child.startsWith(ancestor + '/');
}

/**
 * notary's WalkTargets: visit roles under `rolePath` whose paths allow `target` (`target` undefined =
 * any), skipping `skip` roles; `visit` returns true to stop.
 */
export function walkTargets(
  repo: TargetsView,
  target: string | undefined,
  rolePath: string,
  visit: (md: Metadata<TargetsSigned>, role: WalkRole) => boolean,
  skip: readonly string[] = [],
): void {
  const queue: WalkRole[] = [{ name: 'targets', paths: [''] }];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const role = queue.shift() as WalkRole;
    if (seen.has(role.name)) continue;
    seen.add(role.name);
    const md = roleMd(repo, role.name);
    if (md === undefined) continue; // not loaded (absent from snapshot, or skipped as invalid)
    if (rolePath.startsWith(role.name + '/')) {
      queue.push(...validChildren(repo, md, role));
      continue;
    }
    const pathOk = target === undefined ? role.paths.length > 0 : pathAllowed(role.paths, target);
    if (pathOk && isAncestorRole(role.name, rolePath) && !skip.includes(role.name)) {
      if (visit(md, role)) return;
      queue.push(...validChildren(repo, md, role));
    }
  }
}

export interface ResolvedTag {
  role: string;
  digest: string; // sha256:<hex>
  size: number;
  hashes: Hashes;
  custom?: FileMeta['custom'];
}

export const DOCKER_ROLES = ['targets/releases', 'targets'] as const;

function toResolved(role: string, tag: string, meta: FileMeta): ResolvedTag {
  const sha = meta.hashes.sha256;
  if (sha === undefined) {
    throw new SignetError('NOT_SIGNED', `the signed target ${tag} in ${role} has no valid hash, expecting sha256`, {
      fix: 'the tag was signed without a sha256 digest; re-sign it with docker trust sign or notary addhash --sha256',
    });
  }
  return {
    role,
    digest: `sha256:${base64ToHex(sha)}`,
    size: meta.length,
    hashes: meta.hashes,
    ...(meta.custom !== undefined ? { custom: meta.custom } : {}),
  };
}

/** notary GetTargetByName(tag, roles…): the first hit, searching each role's subtree in turn. */
export function findTarget(
  repo: TargetsView,
  tag: string,
  roles: readonly string[],
): { role: string; meta: FileMeta } | undefined {
  for (const r of roles) {
    let hit: { role: string; meta: FileMeta } | undefined;
    walkTargets(
      repo,
      tag,
      r,
      (md, role) => {
        // own entries only: a tag named `constructor` or `__proto__` is not signed just because objects have one
        const targets = md.signed.targets;
        if (targets === null || targets === undefined || !Object.hasOwn(targets, tag)) return false;
        const meta = targets[tag] as FileMeta;
        hit = { role: role.name, meta };
        return true;
      },
      roles.filter((x) => x !== r),
    );
    if (hit !== undefined) return hit;
  }
  return undefined;
}

/**
 * Resolve a tag as Docker does: GetTargetByName(tag, "targets/releases", "targets"), accepted only if
 * the first hit is in exactly one of the requested roles (a hit in targets/releases/x or targets/alice
 * is not trusted). null when the tag is not (acceptably) signed.
 */
export function resolveTag(
  repo: TargetsView,
  tag: string,
  roles: readonly string[] = DOCKER_ROLES,
): ResolvedTag | null {
  const hit = findTarget(repo, tag, roles);
  if (hit === undefined || !roles.includes(hit.role)) return null;
  return toResolved(hit.role, tag, hit.meta);
}

export interface SignedTag {
  tag: string;
  digest: string;
  size: number;
  role: string;
  /** Who signed this exact digest: delegation names (`alice`), or `Repo Admin` for `targets`. */
  signers: string[];
}

/** Friendly signer name as `docker trust inspect` shows it. */
function signerName(role: string): string {
  return role === 'targets' ? 'Repo Admin' : role.replace(/^targets\//, '');
}

/**
 * Every tag Docker would trust (ListTargets("targets/releases","targets"), first role wins), with
 * the roles that signed the same digest.
 */
export function listSignedTags(repo: TargetsView, roles: readonly string[] = DOCKER_ROLES): SignedTag[] {
  const found = new Map<string, { role: string; meta: FileMeta }>();
  for (const r of roles) {
    walkTargets(
      repo,
      undefined,
      r,
      (md, role) => {
        for (const [name, meta] of Object.entries(md.signed.targets ?? {})) {
          if (!pathAllowed(role.paths, name) || found.has(name)) continue;
          found.set(name, { role: role.name, meta });
        }
        return false;
      },
      roles.filter((x) => x !== r),
    );
  }
  // all roles holding each tag (for signers)
  const holders = new Map<string, Array<{ role: string; sha?: string }>>();
  walkTargets(repo, undefined, 'targets', (md, role) => {
    for (const [name, meta] of Object.entries(md.signed.targets ?? {})) {
      if (!pathAllowed(role.paths, name)) continue;
      const list = holders.get(name) ?? [];
      list.push({ role: role.name, ...(meta.hashes.sha256 !== undefined ? { sha: meta.hashes.sha256 } : {}) });
      holders.set(name, list);
    }
    return false;
  });
  const out: SignedTag[] = [];
  for (const [tag, { role, meta }] of [...found.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    if (!roles.includes(role) || meta.hashes.sha256 === undefined) continue;
    const r = toResolved(role, tag, meta);
    const signers = new Set<string>();
    for (const h of holders.get(tag) ?? []) {
      if (h.sha !== meta.hashes.sha256 || h.role === 'targets/releases' || h.role === 'targets') continue; // Docker: released roles are not signers
      signers.add(signerName(h.role));
    }
    if (signers.size === 0) signers.add(signerName(role));
    out.push({ tag, digest: r.digest, size: r.size, role, signers: [...signers].sort() });
  }
  return out;
}

/** The signed target of `tag` by Docker's rules, or NOT_SIGNED. */
export function requireSignedTag(
  repo: TrustedRepo,
  tag: string,
  familiar: string,
  roles: readonly string[] = DOCKER_ROLES,
): ResolvedTag {
  const signed = resolveTag(repo, tag, roles);
  if (signed !== null) return signed;
  // a role below its threshold is not trusted: say which and by how much, not just "not signed"
  const short = (repo.ignored ?? []).filter((i) => i.error.code === 'THRESHOLD');
  if (short.length > 0) {
    throw new SignetError(
      'THRESHOLD',
      `tag ${tag} is not signed in ${repo.gun} by a role that meets its threshold; ignored: ${short.map((i) => i.error.message).join('; ')}`,
      {
        fix: "the role's other key holders must co-sign a new version of it (signet's `proposal sign`, docs/thresholds.md)",
        cause: short[0]?.error,
        details: { gun: repo.gun, tag, ignored: short.map((i) => ({ role: i.role, ...(i.error.details ?? {}) })) },
      },
    );
  }
  throw new SignetError('NOT_SIGNED', `tag ${tag} is not signed in ${repo.gun}`, {
    fix: `sign it (docker trust sign ${familiar}:${tag}) or use a signed tag; signed tags: signet verify lists none, docker trust inspect ${familiar} shows them`,
    details: { gun: repo.gun, tag },
  });
}
