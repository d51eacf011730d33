/**
 * An editable copy of a repository's metadata, as notary's `tuf.Repo` is during a publish
 * (N:tuf/tuf.go, N:client/helpers.go applyChangelist): changes are applied in order, every edited
 * role is marked dirty. Delegation edits are in delegation-edit.ts; signing the dirty roles into the
 * files to upload is sign-dirty.ts (N:client/client.go).
 */
import { SignetError } from '../errors.js';
import {
  defaultExpires,
  formatExpires,
  isBaseRole,
  isDelegationRole,
  newTargets,
  parentRole,
  pathAllowed,
  publicKeyFromJson,
  setOwn,
  type BaseRole,
  type FileMeta,
  type KeyJson,
  type Metadata,
  type PublicKey,
  type RootSigned,
  type Signer,
  type SnapshotSigned,
  type TargetsSigned,
} from '../tuf/index.js';
import type { Change } from './change.js';
import { checkReachable, deleteDelegation, editDelegation } from './delegation-edit.js';

/** Private keys the client holds, by canonical key ID. */
export interface KeySource {
  signer(publicKey: PublicKey): Promise<Signer | undefined>;
  has(canonicalId: string): Promise<boolean>;
}

const clone = <T>(v: T): T => structuredClone(v);

/**
 * An editable copy of a targets body whose `targets` map is still the original's: it is copied on
 * the first target edit (ownTargets), as copying 100,000 entries that no one edits costs more than
 * the edit (each entry object is never changed in place, only replaced or removed).
 */
function copyBody(signed: TargetsSigned): TargetsSigned {
  return { ...clone({ ...signed, targets: {} }), targets: signed.targets };
}

export interface WorkingInput {
  gun: string;
  root: Metadata<RootSigned>;
  targets: Metadata<TargetsSigned>;
  delegations: Map<string, Metadata<TargetsSigned>>;
  snapshot: Metadata<SnapshotSigned> | undefined;
  /**
   * The caller hands the parsed files over and never reads their target maps again: those are then
   * edited in place instead of copied (a view read just for this publish).
   */
  handOver?: boolean;
}

export class WorkingRepo {
  readonly gun: string;
  root: RootSigned;
  readonly originalRoot: Metadata<RootSigned>;
  /** `targets` and every delegation file (edited copies) */
  readonly targets = new Map<string, TargetsSigned>();
  readonly originals = new Map<string, Metadata<TargetsSigned>>();
  readonly snapshot: Metadata<SnapshotSigned> | undefined;
  readonly dirty = new Set<string>();
  /** target names added, replaced or removed per role, for signing what changed (tuf signEditedTargets) */
  readonly changedTargets = new Map<string, Set<string>>();
  /** roles whose `targets` map is this copy's own (copyBody shares the original's until an edit) */
  private readonly ownMaps = new Set<string>();
  readonly deleted = new Set<string>();
  /** root-role keys before a rotation: the new root must also be signed by them (N:client/client.go) */
  previousRootKeys: KeyJson[] | undefined;
  /** parsed public keys by key JSON: a large changelist asks for the same role keys once per change */
  private readonly parsedKeys = new Map<string, PublicKey>();
  /** whether we hold a key of a role, by the role's key IDs (which change with delegation edits) */
  private readonly signable = new Map<string, boolean>();

  constructor(
    input: WorkingInput,
    readonly keys: KeySource,
  ) {
    this.gun = input.gun;
    this.originalRoot = input.root;
    this.root = clone(input.root.signed);
    if (input.handOver === true) for (const role of ['targets', ...input.delegations.keys()]) this.ownMaps.add(role);
    this.targets.set('targets', copyBody(input.targets.signed));
    this.originals.set('targets', input.targets);
    for (const [name, md] of input.delegations) {
      this.targets.set(name, copyBody(md.signed));
      this.originals.set(name, md);
    }
    this.snapshot = input.snapshot;
  }

  // ---- key lookups --------------------------------------------------------------------------

  /** Public keys (with canonical IDs) of a base role in root. */
  baseRoleKeys(role: string): PublicKey[] {
    const r = this.root.roles[role];
    if (r === undefined) return [];
    return r.keyids.flatMap((id) => {
      const k = this.root.keys[id];
      return k === undefined ? [] : [this.parsedKey(k)];
    });
  }

  /** Public keys of a delegation, from its parent's file. */
  delegationKeys(role: string): { keys: PublicKey[]; paths: string[] | undefined; threshold: number } | undefined {
    const parent = parentRole(role);
    if (parent === undefined) return undefined;
    const pf = this.targets.get(parent);
    const entry = pf?.delegations?.roles?.find((d) => d.name === role);
    if (pf === undefined || entry === undefined) return undefined;
    const keys = entry.keyids.flatMap((id) => {
      const k = pf.delegations.keys?.[id];
      return k === undefined ? [] : [this.parsedKey(k)];
    });
    return { keys, paths: entry.paths, threshold: entry.threshold };
  }

  roleKeys(role: string): PublicKey[] {
    if (role === 'root' || role === 'targets' || role === 'snapshot' || role === 'timestamp')
      return this.baseRoleKeys(role);
    return this.delegationKeys(role)?.keys ?? [];
  }

  private parsedKey(k: KeyJson): PublicKey {
    const cacheKey = `${k.keytype}\u0000${k.keyval.public}`;
    let pk = this.parsedKeys.get(cacheKey);
    if (pk === undefined) {
      pk = publicKeyFromJson(k);
      this.parsedKeys.set(cacheKey, pk);
    }
    return pk;
  }

  async canSign(role: string): Promise<boolean> {
    const keys = this.roleKeys(role);
    const memo = `${role}\u0000${keys.map((k) => k.id).join(',')}`;
    const known = this.signable.get(memo);
    if (known !== undefined) return known;
    let result = false;
    for (const k of keys) {
      if (await this.keys.has(k.canonicalId)) {
        result = true;
        break;
      }
    }
    this.signable.set(memo, result);
    return result;
  }

  /** KEY_NOT_FOUND unless we hold a key of `role`; `why` completes "cannot …". */
  async requireSign(role: string, why: string): Promise<void> {
    if (!(await this.canSign(role))) {
      const ids = this.roleKeys(role).map((k) => k.canonicalId);
      throw new SignetError(
        'KEY_NOT_FOUND',
        `cannot ${why}: no private key for role ${role} of ${this.gun} in the trust dir`,
        {
          fix:
            ids.length > 0
              ? `load one of these keys into the trust dir: ${ids.join(', ')}`
              : `role ${role} does not exist in ${this.gun}`,
          details: { role, keyIds: ids },
        },
      );
    }
  }

  /** Delegation roles whose file we have or whose entry exists. */
  isNewRole(role: string): boolean {
    return !this.originals.has(role);
  }

  roleExists(role: string): boolean {
    if (role === 'targets') return true;
    return this.delegationKeys(role) !== undefined;
  }

  /** The editable file of a targets role, started empty when the role has none yet. */
  targetsFile(role: string): TargetsSigned {
    let f = this.targets.get(role);
    if (f === undefined) {
      // first write into a delegation: notary starts an empty file at version 0, signed as v1
      f = newTargets(formatExpires(defaultExpires('targets', new Date())), 0);
      this.targets.set(role, f);
      this.ownMaps.add(role);
    }
    return f;
  }

  /** The target map of `role` to edit in place (copied from the original on the first edit), noting `name` as changed. */
  private editTargets(role: string, name: string): Record<string, FileMeta> {
    const f = this.targetsFile(role);
    if (!this.ownMaps.has(role)) {
      f.targets = { ...f.targets };
      this.ownMaps.add(role);
    }
    let names = this.changedTargets.get(role);
    if (names === undefined) this.changedTargets.set(role, (names = new Set()));
    names.add(name);
    return f.targets;
  }

  // ---- changes ------------------------------------------------------------------------------

  async apply(c: Change): Promise<void> {
    if (c.type === 'role') {
      this.replaceBaseKeys(c.baseRole, c.keys, c.threshold);
      return;
    }
    if (c.role !== 'targets' && !isDelegationRole(c.role) && c.role !== 'targets/*') {
      throw new SignetError('INVALID_ROLE', `staged change has an unsupported scope ${c.role}`);
    }
    if (c.type === 'target') {
      if (c.action === 'create') await this.addTarget(c.role, c.path, c.meta);
      else await this.removeTarget(c.role, c.path);
      return;
    }
    if (c.action === 'delete') await deleteDelegation(this, c.role);
    else await editDelegation(this, c.role, c.edit, c.action === 'create');
  }

  async addTarget(role: string, name: string, meta: FileMeta): Promise<void> {
    if (!this.roleExists(role)) {
      throw new SignetError('INVALID_ROLE', `cannot add ${name}: role ${role} does not exist in ${this.gun}`, {
        fix: 'add the delegation first (signet signer add), or stage into "targets"',
      });
    }
    if (role !== 'targets' && !pathAllowed(this.delegationKeys(role)?.paths, name)) {
      throw new SignetError(
        'INVALID_ROLE',
        `role ${role} may not sign ${name}: the name is outside its delegated paths`,
      );
    }
    await this.requireSign(role, `sign ${name}`);
    // in place: the files are our own copies, and copying the map per change made staging O(n²)
    setOwn(this.editTargets(role, name), name, meta);
    this.dirty.add(role);
  }

  async removeTarget(role: string, name: string): Promise<void> {
    if (!this.roleExists(role))
      throw new SignetError('INVALID_ROLE', `cannot remove ${name}: role ${role} does not exist in ${this.gun}`);
    await this.requireSign(role, `remove ${name}`);
    const f = this.targets.get(role);
    if (f === undefined || !Object.hasOwn(f.targets, name)) return;
    delete this.editTargets(role, name)[name];
    this.dirty.add(role);
  }

  /** Replace a base role's keys in root (N:tuf/tuf.go ReplaceBaseKeys). Old root certs stay listed. */
  replaceBaseKeys(role: BaseRole, keys: KeyJson[], threshold = 1): void {
    if (!isBaseRole(role)) {
      throw new SignetError('INVALID_ROLE', `only base roles can be rotated in root, not ${role}`);
    }
    const r = this.root.roles[role];
    if (r === undefined) throw new SignetError('MALFORMED_METADATA', `root has no ${role} role`);
    if (role === 'root' && this.previousRootKeys === undefined) {
      this.previousRootKeys = r.keyids.flatMap((id) => (this.root.keys[id] ? [this.root.keys[id]!] : []));
    }
    const oldIds = r.keyids;
    const newIds: string[] = [];
    const nextKeys = { ...this.root.keys };
    for (const k of keys) {
      const pk = publicKeyFromJson(k);
      nextKeys[pk.id] = { keytype: k.keytype, keyval: { private: null, public: k.keyval.public } };
      newIds.push(pk.id);
    }
    checkReachable(role, threshold, new Set(newIds).size);
    const roles = { ...this.root.roles, [role]: { ...r, keyids: newIds, threshold } };
    if (role !== 'root') {
      const used = new Set(Object.values(roles).flatMap((x) => x.keyids));
      for (const id of oldIds) if (!used.has(id)) delete nextKeys[id];
    }
    this.root = { ...this.root, keys: nextKeys, roles };
    this.dirty.add('root');
    // the role whose key changed is re-signed with the new key (N:tuf/tuf.go AddBaseKeys)
    if (role === 'targets') this.dirty.add('targets');
  }

  /** notary re-signs a root that expires within 6 months on any publish (N:client/helpers.go nearExpiry). */
  async refreshRootIfNearExpiry(now: Date): Promise<void> {
    const sixMonths = new Date(now.getTime());
    sixMonths.setUTCMonth(sixMonths.getUTCMonth() + 6);
    if (new Date(this.root.expires).getTime() < sixMonths.getTime() && (await this.canSign('root')))
      this.dirty.add('root');
  }
}
