/**
 * Read-side helpers over a verified repository: walk the targets tree in notary's order and build
 * `docker trust inspect`'s JSON (C:cli/command/trust/common.go, inspect.go, C:cli/command/trust/*.go).
 */
import { SignetError } from '../errors.js';
import {
  fileMetaSha256Hex,
  publicKeyFromJson,
  type FileMeta,
  type Metadata,
  type RootSigned,
  type TargetsSigned,
} from '../tuf/index.js';

/** The verified roles a read needs (the updater's TrustedRepo satisfies it). */
export interface RepoView {
  root: Metadata<RootSigned>;
  targets: Metadata<TargetsSigned>;
  /** verified delegation roles by name (`targets/releases`, …) */
  delegations: Map<string, Metadata<TargetsSigned>>;
}

export interface TargetWithRole {
  name: string;
  meta: FileMeta;
  role: string;
}

export const RELEASES_ROLE = 'targets/releases';

function roleFile(repo: RepoView, role: string): Metadata<TargetsSigned> | undefined {
  return role === 'targets' ? repo.targets : repo.delegations.get(role);
}

/**
 * Breadth-first walk from `targets` through valid delegations, in the order each parent lists them
 * (N:tuf/tuf.go WalkTargets). `visit` sees each role's file once.
 */
export function walkRoles(
  repo: RepoView,
  visit: (role: string, md: Metadata<TargetsSigned>) => void,
  start = 'targets',
): void {
  const queue = [start];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const role = queue.shift() as string;
    if (seen.has(role)) continue;
    seen.add(role);
    const md = roleFile(repo, role);
    if (md === undefined) continue;
    visit(role, md);
    for (const d of md.signed.delegations?.roles ?? []) queue.push(d.name);
  }
}

/** Every (target, role) pair named `name` (all targets when `name` is empty): GetAllTargetMetadataByName. */
export function allTargetsByName(repo: RepoView, name: string): TargetWithRole[] {
  const out: TargetWithRole[] = [];
  walkRoles(repo, (role, md) => {
    for (const [t, meta] of Object.entries(md.signed.targets ?? {})) {
      if (name === '' || t === name) out.push({ name: t, meta, role });
    }
  });
  return out;
}

/** A tag is "released" only when signed into `targets` or `targets/releases` (C: isReleasedTarget). */
export function isReleasedRole(role: string): boolean {
  return role === 'targets' || role === RELEASES_ROLE;
}

/** Every delegation role listed anywhere in the tree, with its paths and key canonical IDs. */
export function delegationRoles(repo: RepoView): { name: string; paths: string[] | undefined; keyIds: string[] }[] {
  const out: { name: string; paths: string[] | undefined; keyIds: string[] }[] = [];
  walkRoles(repo, (_role, md) => {
    const keys = md.signed.delegations?.keys ?? {};
    for (const d of md.signed.delegations?.roles ?? []) {
      out.push({
        name: d.name,
        paths: d.paths,
        keyIds: d.keyids.map((id) => (keys[id] ? publicKeyFromJson(keys[id]).canonicalId : id)),
      });
    }
  });
  return out;
}

const SIGNER_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/** A signer's name is its role `targets/<name>` and its key's role: Docker's rules, `releases` reserved. */
export function checkSignerName(name: string): void {
  if (!SIGNER_NAME.test(name) || name === 'releases' || name.length > 200) {
    throw new SignetError('USAGE', `signer name "${name}" is not valid`, {
      fix: 'use lower-case letters, digits, "-" and "_", starting with a letter or digit; "releases" is reserved',
    });
  }
}

/** `targets/alice` → `alice` (C: notaryRoleToSigner). */
export function signerName(role: string): string {
  return role.startsWith('targets/') ? role.slice('targets/'.length) : role;
}

export interface SignedTagRow {
  SignedTag: string;
  Digest: string;
  Signers: string[];
}
export interface TrustSigner {
  Name: string;
  Keys: { ID: string }[];
}
export interface InspectResult {
  Name: string;
  SignedTags: SignedTagRow[];
  Signers: TrustSigner[];
  AdministrativeKeys: TrustSigner[];
}

/** Go sortorder.NaturalLess: digit runs compare numerically. */
export function naturalLess(a: string, b: string): number {
  const ra = a.match(/\d+|\D+/g) ?? [];
  const rb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
    const x = ra[i] as string;
    const y = rb[i] as string;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const nx = BigInt(x);
      const ny = BigInt(y);
      if (nx !== ny) return nx < ny ? -1 : 1;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return ra.length - rb.length;
}

/** Canonical IDs of a delegation's keys (how docker shows signer keys). */
export type CanonicalIdOf = (keyJson: import('../tuf/index.js').KeyJson) => string;

/** Signed tags (released ones only, with their signers) for `tag` ('' = all). */
export function signedTagRows(repo: RepoView, tag: string): SignedTagRow[] {
  const all = allTargetsByName(repo, tag);
  const rows = new Map<string, SignedTagRow>();
  for (const t of all) {
    if (!isReleasedRole(t.role)) continue;
    const key = `${t.name}\0${fileMetaSha256Hex(t.meta) ?? ''}`;
    if (!rows.has(key)) rows.set(key, { SignedTag: t.name, Digest: fileMetaSha256Hex(t.meta) ?? '', Signers: [] });
  }
  for (const t of all) {
    if (isReleasedRole(t.role)) continue;
    const row = rows.get(`${t.name}\0${fileMetaSha256Hex(t.meta) ?? ''}`);
    if (row !== undefined) row.Signers.push(signerName(t.role));
  }
  const out = [...rows.values()];
  for (const r of out) if (r.Signers.length === 0) r.Signers = ['Repo Admin'];
  return out.sort((a, b) => naturalLess(a.SignedTag, b.SignedTag));
}

/** Every delegation role (name + canonical key IDs) in the loaded tree, except `targets/releases`. */
export function delegationSigners(repo: RepoView, canonicalId: CanonicalIdOf): TrustSigner[] {
  const byName = new Map<string, TrustSigner>();
  walkRoles(repo, (_role, md) => {
    const keys = md.signed.delegations?.keys ?? {};
    for (const d of md.signed.delegations?.roles ?? []) {
      if (d.name === RELEASES_ROLE) continue;
      const ids = d.keyids.map((id) => {
        const k = keys[id];
        return k === undefined ? id : canonicalId(k);
      });
      byName.set(signerName(d.name), { Name: signerName(d.name), Keys: ids.map((ID) => ({ ID })) });
    }
  });
  // docker sorts signers by name, descending (inspect.go)
  return [...byName.values()].sort((a, b) => (a.Name < b.Name ? 1 : a.Name > b.Name ? -1 : 0));
}

export function inspectRepo(name: string, repo: RepoView, tag: string, canonicalId: CanonicalIdOf): InspectResult {
  const admin: TrustSigner[] = [];
  const root = repo.root.signed.roles.root;
  const targets = repo.root.signed.roles.targets;
  if (root) admin.push({ Name: 'Root', Keys: root.keyids.map((ID) => ({ ID })) });
  if (targets) admin.push({ Name: 'Repository', Keys: targets.keyids.map((ID) => ({ ID })) });
  admin.sort((a, b) => (a.Name < b.Name ? 1 : -1));
  return {
    Name: name,
    SignedTags: signedTagRows(repo, tag),
    Signers: delegationSigners(repo, canonicalId),
    AdministrativeKeys: admin,
  };
}

/** `docker trust inspect` prints the list with 4-space indentation (Go json.Indent). */
export function formatInspectJson(results: InspectResult[]): string {
  return `${JSON.stringify(results, null, 4)}\n`;
}
