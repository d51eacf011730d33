/**
 * A staged edit of a repository, typed by what it changes (N:client/changelist/change.go TUFChange).
 * Only src/client/changelist.ts turns these into notary's on-disk change files and back.
 *
 * `role` is the scope (`targets`, `targets/<name>`, `targets/*` for a key purge, or `root`); `path`
 * is notary's field of that name: the target's name, the base role whose keys a root change
 * replaces, or empty for a delegation.
 */
import type { BaseRole, FileMeta, KeyJson } from '../tuf/index.js';

export type TargetChange =
  | { type: 'target'; action: 'create'; role: string; path: string; meta: FileMeta }
  | { type: 'target'; action: 'delete'; role: string; path: string };

/** An edit of one delegation entry in its parent's file (N:client/changelist/change.go TUFDelegation). */
export interface DelegationEdit {
  newName?: string;
  threshold?: number;
  addKeys?: KeyJson[];
  /** canonical (or TUF) key IDs */
  removeKeys?: string[];
  addPaths?: string[];
  removePaths?: string[];
  clearPaths?: boolean;
}

export type DelegationChange =
  | { type: 'delegation'; action: 'create' | 'update'; role: string; path: string; edit: DelegationEdit }
  | { type: 'delegation'; action: 'delete'; role: string; path: string };

/** Replace a base role's keys in root (TUFRootData, N:tuf/tuf.go ReplaceBaseKeys). */
export interface RootRoleChange {
  type: 'role';
  action: 'create';
  role: 'root';
  path: string;
  baseRole: BaseRole;
  keys: KeyJson[];
  /**
   * The role's new threshold (default 1). notary's change files have no such field, so a change that
   * sets one is applied at once (`extra`) or written into a proposal, never staged.
   */
  threshold?: number;
}

export type Change = TargetChange | DelegationChange | RootRoleChange;
export type ChangeAction = Change['action'];
export type ChangeType = Change['type'];
