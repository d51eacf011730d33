/**
 * `docker trust sign` / `revoke` semantics over a Repository (C:cli/trust/trust_push.go,
 * C:cli/command/trust/revoke.go). Digests and sizes always come from the registry, never from the user.
 */
import { tagChanges, type TagChange } from './tag-changes.js';
import { hexToBase64 } from '../digest.js';
import { SignetError } from '../errors.js';
import { isDirectChild, pathAllowed, publicKeyFromJson, type FileMeta } from '../tuf/index.js';
import type { ImageReference, RegistryClient } from '../registry/index.js';
import type { Change } from './change.js';
import type { PublishReport, Repository } from './repository.js';
import { allTargetsByName, delegationRoles, isReleasedRole, type RepoView } from './view.js';

/** A tag as its registry serves it now (not yet signed; the trust data's view is src/updater ResolvedTag). */
export interface RegistryTag {
  tag: string;
  /** sha256:<hex> */
  digest: string;
  size: number;
}

/** Docker's target: only sha256 (the manifest digest bytes) and the manifest size. */
export function targetMetaFor(digest: string, size: number): FileMeta {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (m === null) throw new SignetError('USAGE', `only sha256 digests can be signed, got ${digest}`);
  return { hashes: { sha256: hexToBase64(m[1] as string) }, length: size };
}

/**
 * Docker's GetSignableRoles: with no delegations, `targets`; otherwise every direct child of `targets`
 * whose paths allow `tag` and that lists one of our keys. Signet addition: when no delegation is
 * signable but we hold the targets key (the repository admin), sign into `targets`.
 */
export function signableRoles(repo: RepoView, localKeyIds: Set<string>, tag: string): string[] {
  return signableRolesFor(repo, localKeyIds)(tag);
}

/** `signableRoles` for many tags: keys are parsed and the delegation tree walked once, not per tag. */
export function signableRolesFor(repo: RepoView, localKeyIds: Set<string>): (tag: string) => string[] {
  const holdsTargets = (repo.root.signed.roles.targets?.keyids ?? []).some((id) => {
    const k = repo.root.signed.keys[id];
    return k !== undefined && localKeyIds.has(publicKeyFromJson(k).canonicalId);
  });
  const dels = delegationRoles(repo);
  const ours = dels.filter((d) => isDirectChild('targets', d.name) && d.keyIds.some((id) => localKeyIds.has(id)));
  return (tag) => {
    if (dels.length === 0) {
      if (!holdsTargets) throw noKeys(repo, 'targets');
      return ['targets'];
    }
    const roles = ours.filter((d) => pathAllowed(d.paths, tag)).map((d) => d.name);
    if (roles.length === 0 && holdsTargets) return ['targets'];
    if (roles.length === 0) {
      throw new SignetError('KEY_NOT_FOUND', 'no valid signing keys for delegation roles', {
        fix: 'load a signer key with `signet key load`, and add it with `signet signer add` (needs the repository key)',
      });
    }
    return roles;
  };
}

function noKeys(repo: RepoView, role: string): SignetError {
  const ids = (repo.root.signed.roles[role]?.keyids ?? []).map((id) => {
    const k = repo.root.signed.keys[id];
    return k ? publicKeyFromJson(k).canonicalId : id;
  });
  return new SignetError('KEY_NOT_FOUND', `no private key for the ${role} role in the trust dir`, {
    fix: `import one of these keys: ${ids.join(', ')}`,
  });
}

/** Manifests fetched at once while resolving many tags (each is one small GET to the registry). */
export const RESOLVE_CONCURRENCY = 8;

/**
 * Resolve tagged references at their registry: the real manifest (or index) digest and size, never a
 * value the user typed. Results keep the order of `refs`.
 */
export async function resolveTags(
  registry: Pick<RegistryClient, 'resolve'>,
  refs: ImageReference[],
  opts: { concurrency?: number; onResolved?: (ref: ImageReference) => void } = {},
): Promise<RegistryTag[]> {
  const resolved: RegistryTag[] = new Array<RegistryTag>(refs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < refs.length) {
      const i = next++;
      const ref = refs[i] as ImageReference;
      if (ref.tag === undefined) throw new SignetError('USAGE', `${ref.familiar} has no tag to sign`);
      const m = await registry.resolve(ref);
      resolved[i] = { tag: ref.tag, digest: m.digest, size: m.size };
      opts.onResolved?.(ref);
    }
  };
  const n = Math.max(1, Math.min(opts.concurrency ?? RESOLVE_CONCURRENCY, refs.length));
  await Promise.all(Array.from({ length: n }, worker));
  return resolved;
}

/** The target changes that sign `tags` into every role `signableRoles` picks, and those roles per tag. */
export function tagSignChanges(
  view: RepoView,
  localKeyIds: Set<string>,
  tags: RegistryTag[],
): { changes: Change[]; signedInto: Record<string, string[]> } {
  const changes: Change[] = [];
  const signedInto: Record<string, string[]> = {};
  const rolesFor = signableRolesFor(view, localKeyIds);
  for (const t of tags) {
    const roles = rolesFor(t.tag);
    signedInto[t.tag] = roles;
    const meta = targetMetaFor(t.digest, t.size);
    for (const role of roles) changes.push({ type: 'target', action: 'create', role, path: t.tag, meta });
  }
  return { changes, signedInto };
}

/** Sign the given tags (already resolved through the registry) into every signable role; one publish. */
export async function signTags(
  repo: Repository,
  tags: RegistryTag[],
): Promise<PublishReport & { roles: string[]; signedInto: Record<string, string[]> }> {
  const from = await repo.readOrInit();
  const { changes, signedInto } = tagSignChanges(from.view, await repo.localKeyIds(), tags);
  const res = await repo.publish({ extra: changes, includeStaged: false, from: { ...from, handOver: true } });
  return { ...res, signedInto };
}

/**
 * Remove trust for `tag` (or every released tag when undefined) from every role we can sign that
 * holds it. Unlike Docker, a tag signed straight into `targets` is removed too when we hold that key.
 */
export async function revokeTags(
  repo: Repository,
  tag: string | undefined,
): Promise<PublishReport & { removed: { tag: string; role: string }[]; tagChanges: TagChange[] }> {
  const view = await repo.read({ forWrite: true });
  const local = await repo.localKeyIds();
  const hits = allTargetsByName(view, tag ?? '');
  const released = new Set(hits.filter((h) => isReleasedRole(h.role)).map((h) => h.name));
  if (released.size === 0) {
    throw new SignetError(
      'NOT_SIGNED',
      tag ? `${repo.gun}:${tag} is not signed` : `${repo.gun} has no signed tags to remove`,
      {
        fix: tag ? 'check the tag with `signet inspect`' : undefined,
      },
    );
  }
  const canSign = (role: string): boolean => {
    if (role === 'targets') {
      return (view.root.signed.roles.targets?.keyids ?? []).some((id) => {
        const k = view.root.signed.keys[id];
        return k !== undefined && local.has(publicKeyFromJson(k).canonicalId);
      });
    }
    return delegationRoles(view).some((d) => d.name === role && d.keyIds.some((id) => local.has(id)));
  };
  const removed: { tag: string; role: string }[] = [];
  const changes: Change[] = [];
  for (const h of hits) {
    if (!released.has(h.name) || !canSign(h.role)) continue;
    removed.push({ tag: h.name, role: h.role });
    changes.push({ type: 'target', action: 'delete', role: h.role, path: h.name });
  }
  if (changes.length === 0) {
    throw new SignetError('KEY_NOT_FOUND', `no key in the trust dir can remove ${tag ?? 'the tags'} from ${repo.gun}`, {
      fix: 'load the signer key that signed it, or the repository key',
    });
  }
  const res = await repo.publish({ extra: changes, includeStaged: false });
  return { ...res, removed, tagChanges: tagChanges(view, await repo.read()) };
}
