/**
 * Delegation role names and paths (N:tuf/data/targets.go; N:tuf/data/roles.go IsDelegation, IsValidPath,
 * Restrict). Names are `targets/<…>` over [-a-z0-9_/], shorter than 256 bytes, path.Clean-clean.
 * Paths are plain string prefixes; "" matches every target; no paths matches nothing.
 */
import type { DelegationRole, TargetsSigned } from './types.js';

export const BASE_ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const;

/** True for `targets/<…>` names notary accepts as delegations. */
export function isDelegationRole(role: string): boolean {
  if (!role.startsWith('targets/') || role.length >= 256) return false;
  if (!/^[-a-z0-9_/]+$/.test(role)) return false;
  // equal to its own path.Clean: no empty segment (// or trailing /), no . or ..
  return role.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

export function isBaseRole(role: string): boolean {
  return (BASE_ROLES as readonly string[]).includes(role);
}

/** A base role or a valid delegation role. */
export function isValidRoleName(role: string): boolean {
  return isBaseRole(role) || isDelegationRole(role);
}

/** `targets/a/b` → `targets/a`, `targets/a` → `targets`; undefined for base roles. */
export function parentRole(role: string): string | undefined {
  if (!isDelegationRole(role)) return undefined;
  return role.slice(0, role.lastIndexOf('/'));
}

/** `child` is exactly one level below `parent` (notary only lets a role delegate to direct children). */
export function isDirectChild(parent: string, child: string): boolean {
  return isDelegationRole(child) && parentRole(child) === parent && (parent === 'targets' || isDelegationRole(parent));
}

/** Does a delegation with these paths cover `target`? String prefixes; "" = all; none = nothing. */
export function pathAllowed(paths: readonly string[] | null | undefined, target: string): boolean {
  if (paths === null || paths === undefined) return false;
  return paths.some((p) => target.startsWith(p));
}

/**
 * The child's paths that stay within the parent's (N:tuf/data/roles.go Restrict): a child path is kept
 * only when some parent path is a prefix of it.
 */
export function restrictPaths(
  parentPaths: readonly string[] | null | undefined,
  childPaths: readonly string[] | null | undefined,
): string[] {
  return (childPaths ?? []).filter((c) => pathAllowed(parentPaths, c));
}

/** The delegation entry for `role` in a targets body, if it lists one. */
export function findDelegation(targets: TargetsSigned, role: string): DelegationRole | undefined {
  const roles = (targets.delegations as TargetsSigned['delegations'] | undefined)?.roles ?? [];
  return roles.find((r) => r.name === role);
}
