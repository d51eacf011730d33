/**
 * Delegation edits on a WorkingRepo (N:tuf/tuf.go UpdateDelegationKeys, UpdateDelegationPaths,
 * DeleteDelegation, PurgeDelegationKeys): the entry lives in the parent's file, so the parent is
 * what gets re-signed.
 */
import { SignetError } from '../errors.js';
import { parentRole, publicKeyFromJson, restrictPaths, type KeyJson } from '../tuf/index.js';
import type { DelegationEdit } from './change.js';
import type { WorkingRepo } from './working.js';

/** Create or update the delegation `role` (`targets/*`: purge `removeKeys` from every delegation we can edit). */
export async function editDelegation(
  work: WorkingRepo,
  role: string,
  edit: DelegationEdit,
  create: boolean,
): Promise<void> {
  if (role === 'targets/*') {
    for (const [name, f] of work.targets) {
      for (const d of f.delegations?.roles ?? []) {
        if (!(await work.canSign(name))) continue;
        await editDelegation(work, d.name, { removeKeys: edit.removeKeys ?? [] }, false);
      }
    }
    return;
  }
  const parent = parentRole(role);
  if (parent === undefined) throw new SignetError('INVALID_ROLE', `${role} is not a valid delegation role name`);
  if (!work.roleExists(parent))
    throw new SignetError('INVALID_ROLE', `cannot edit ${role}: its parent ${parent} does not exist`);
  await work.requireSign(parent, `edit delegation ${role}`);
  const pf = work.targetsFile(parent);
  const delegations = { keys: { ...(pf.delegations?.keys ?? {}) }, roles: [...(pf.delegations?.roles ?? [])] };
  let idx = delegations.roles.findIndex((d) => d.name === role);
  if (idx < 0) {
    if (!create && (edit.addKeys === undefined || edit.addKeys.length === 0)) {
      throw new SignetError('INVALID_ROLE', `delegation ${role} does not exist in ${work.gun}`);
    }
    const threshold = edit.threshold && edit.threshold > 0 ? edit.threshold : 1;
    delegations.roles.push({ keyids: [], name: role, threshold });
    idx = delegations.roles.length - 1;
  }
  const entry = structuredClone(delegations.roles[idx]!);
  // keys: remove by canonical ID, add by TUF ID
  if (edit.removeKeys && edit.removeKeys.length > 0) {
    const remove = new Set(edit.removeKeys);
    entry.keyids = entry.keyids.filter((id) => {
      const k = delegations.keys[id];
      const canon = k === undefined ? id : publicKeyFromJson(k).canonicalId;
      return !remove.has(canon) && !remove.has(id);
    });
  }
  for (const kj of edit.addKeys ?? []) {
    const pk = publicKeyFromJson(kj);
    delegations.keys[pk.id] = { keytype: kj.keytype, keyval: { private: null, public: kj.keyval.public } };
    if (!entry.keyids.includes(pk.id)) entry.keyids.push(pk.id);
  }
  if (edit.threshold && edit.threshold > 0) entry.threshold = edit.threshold;
  // paths
  let paths = entry.paths ?? [];
  if (edit.clearPaths) paths = [];
  const removePaths = edit.removePaths ?? [];
  if (removePaths.length > 0) paths = paths.filter((x) => !removePaths.includes(x));
  if (edit.addPaths && edit.addPaths.length > 0) {
    const parentPaths = parent === 'targets' ? [''] : work.delegationKeys(parent)?.paths;
    const allowed = restrictPaths(parentPaths, edit.addPaths);
    if (allowed.length !== edit.addPaths.length) {
      throw new SignetError(
        'INVALID_ROLE',
        `paths ${edit.addPaths.join(', ')} are not all inside the paths of ${parent}`,
      );
    }
    for (const x of allowed) if (!paths.includes(x)) paths.push(x);
  }
  if (paths.length > 0) entry.paths = paths;
  else delete entry.paths;
  checkReachable(role, entry.threshold, entry.keyids.length);
  delegations.roles[idx] = entry;
  pf.delegations = {
    ...pf.delegations,
    keys: pruneKeys(delegations.keys, delegations.roles),
    roles: delegations.roles,
  };
  work.dirty.add(parent);
}

/** Remove the delegation `role` from its parent, and drop its file and every file below it. */
export async function deleteDelegation(work: WorkingRepo, role: string): Promise<void> {
  const parent = parentRole(role);
  if (parent === undefined) throw new SignetError('INVALID_ROLE', `${role} is not a valid delegation role name`);
  await work.requireSign(parent, `remove delegation ${role}`);
  const pf = work.targets.get(parent);
  if (pf === undefined) return;
  const roles = (pf.delegations?.roles ?? []).filter((d) => d.name !== role);
  pf.delegations = { ...pf.delegations, keys: pruneKeys({ ...(pf.delegations?.keys ?? {}) }, roles), roles };
  work.dirty.add(parent);
  for (const name of [...work.targets.keys()]) {
    if (name === role || name.startsWith(`${role}/`)) {
      work.targets.delete(name);
      work.dirty.delete(name);
      work.deleted.add(name);
    }
  }
}

/**
 * A threshold above the role's key count can never be met: every later publish of the role would be
 * refused by the server (N:server/handlers/validation.go) and readers would skip it, so the edit is
 * refused here with the two ways out.
 */
export function checkReachable(role: string, threshold: number, keyCount: number): void {
  if (!Number.isInteger(threshold) || threshold < 1) {
    throw new SignetError('USAGE', `the threshold of ${role} must be a whole number of at least 1, got ${threshold}`);
  }
  if (keyCount > 0 && threshold > keyCount) {
    throw new SignetError('USAGE', `${role} would need ${threshold} signatures but lists only ${keyCount} key(s)`, {
      fix: `add keys to ${role} first, or lower its threshold to at most ${keyCount}`,
    });
  }
}

/** Drop delegation keys no role uses any more (N:tuf/utils RemoveUnusedKeys). */
function pruneKeys(keys: Record<string, KeyJson>, roles: { keyids: string[] }[]): Record<string, KeyJson> {
  const used = new Set(roles.flatMap((r) => r.keyids));
  const out: Record<string, KeyJson> = {};
  for (const [id, k] of Object.entries(keys)) if (used.has(id)) out[id] = k;
  return out;
}
