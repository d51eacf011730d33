/**
 * An editable copy of a repository's metadata, as notary's `tuf.Repo` is during a publish
 * (N:tuf/tuf.go, N:client/helpers.go applyChangelist): changes are applied in order, every edited
 * role is marked dirty, and `sign()` produces the exact files to upload (N:client/client.go).
 */
import { SignetError } from '../errors.js';
import {
  defaultExpires,
  fileMeta,
  formatExpires,
  isDelegationRole,
  newSnapshot,
  newTargets,
  parentRole,
  pathAllowed,
  publicKeyFromJson,
  restrictPaths,
  signMetadata,
  validSignatures,
  type KeyJson,
  type Metadata,
  type PublicKey,
  type RootSigned,
  type Signature,
  type Signer,
  type SnapshotSigned,
  type TargetsSigned,
  type FileMeta,
} from '../tuf/index.js';
import { parsePayload, type Change, type DelegationPayload, type RootRolePayload } from './changelist.js';

/** Private keys the client holds, by canonical key ID. */
export interface KeySource {
  signer(publicKey: PublicKey): Promise<Signer | undefined>;
  has(canonicalId: string): Promise<boolean>;
}

const clone = <T>(v: T): T => structuredClone(v);

/** Set an own property even for names like `__proto__` (a plain assignment would change the prototype). */
function setOwn<T>(map: Record<string, T>, name: string, value: T): void {
  Object.defineProperty(map, name, { value, enumerable: true, writable: true, configurable: true });
}

export interface WorkingInput {
  gun: string;
  root: Metadata<RootSigned>;
  targets: Metadata<TargetsSigned>;
  delegations: Map<string, Metadata<TargetsSigned>>;
  snapshot: Metadata<SnapshotSigned> | undefined;
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
  readonly deleted = new Set<string>();
  /** root-role keys before a rotation: the new root must also be signed by them (N:client/client.go) */
  private previousRootKeys: KeyJson[] | undefined;
  /** parsed public keys by key JSON: a large changelist asks for the same role keys once per change */
  private readonly parsedKeys = new Map<string, PublicKey>();
  /** whether we hold a key of a role, by the role's key IDs (which change with delegation edits) */
  private readonly signable = new Map<string, boolean>();

  constructor(
    input: WorkingInput,
    private readonly keys: KeySource,
  ) {
    this.gun = input.gun;
    this.originalRoot = input.root;
    this.root = clone(input.root.signed);
    this.targets.set('targets', clone(input.targets.signed));
    this.originals.set('targets', input.targets);
    for (const [name, md] of input.delegations) {
      this.targets.set(name, clone(md.signed));
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

  private async requireSign(role: string, why: string): Promise<void> {
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

  private targetsFile(role: string): TargetsSigned {
    let f = this.targets.get(role);
    if (f === undefined) {
      // first write into a delegation: notary starts an empty file at version 0, signed as v1
      f = newTargets(formatExpires(defaultExpires('targets', new Date())), 0);
      this.targets.set(role, f);
    }
    return f;
  }

  // ---- changes ------------------------------------------------------------------------------

  async apply(c: Change): Promise<void> {
    if (c.role === 'root') {
      if (c.type !== 'role' || c.action !== 'create') {
        throw new SignetError('USAGE', `unsupported root change: ${c.action} ${c.type}`);
      }
      const p = parsePayload<RootRolePayload>(c);
      this.replaceBaseKeys(p.role, p.keys);
      return;
    }
    if (c.role !== 'targets' && !isDelegationRole(c.role) && c.role !== 'targets/*') {
      throw new SignetError('INVALID_ROLE', `staged change has an unsupported scope ${c.role}`);
    }
    if (c.type === 'target') {
      if (c.action === 'create') await this.addTarget(c.role, c.path, parsePayload<FileMeta>(c));
      else if (c.action === 'delete') await this.removeTarget(c.role, c.path);
      else throw new SignetError('USAGE', `unsupported target action ${c.action}`);
      return;
    }
    if (c.type === 'delegation') {
      if (c.action === 'delete') await this.deleteDelegation(c.role);
      else await this.updateDelegation(c.role, parsePayload<DelegationPayload>(c), c.action === 'create');
      return;
    }
    throw new SignetError('USAGE', `unsupported change type ${c.type} for ${c.role}`);
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
    setOwn(this.targetsFile(role).targets, name, meta);
    this.dirty.add(role);
  }

  async removeTarget(role: string, name: string): Promise<void> {
    if (!this.roleExists(role))
      throw new SignetError('INVALID_ROLE', `cannot remove ${name}: role ${role} does not exist in ${this.gun}`);
    await this.requireSign(role, `remove ${name}`);
    const f = this.targets.get(role);
    if (f === undefined || !Object.hasOwn(f.targets, name)) return;
    delete f.targets[name];
    this.dirty.add(role);
  }

  private async updateDelegation(role: string, p: DelegationPayload, create: boolean): Promise<void> {
    if (role === 'targets/*') {
      // wildcard key purge (N:tuf/tuf.go PurgeDelegationKeys): from every delegation we can edit
      for (const [name, f] of this.targets) {
        for (const d of f.delegations?.roles ?? []) {
          if (!(await this.canSign(name))) continue;
          await this.updateDelegation(d.name, { remove_keys: p.remove_keys ?? [] }, false);
        }
      }
      return;
    }
    const parent = parentRole(role);
    if (parent === undefined) throw new SignetError('INVALID_ROLE', `${role} is not a valid delegation role name`);
    if (!this.roleExists(parent))
      throw new SignetError('INVALID_ROLE', `cannot edit ${role}: its parent ${parent} does not exist`);
    await this.requireSign(parent, `edit delegation ${role}`);
    const pf = this.targetsFile(parent);
    const delegations = { keys: { ...(pf.delegations?.keys ?? {}) }, roles: [...(pf.delegations?.roles ?? [])] };
    let idx = delegations.roles.findIndex((d) => d.name === role);
    if (idx < 0) {
      if (!create && (p.add_keys === undefined || p.add_keys.length === 0)) {
        throw new SignetError('INVALID_ROLE', `delegation ${role} does not exist in ${this.gun}`);
      }
      delegations.roles.push({ keyids: [], name: role, threshold: p.threshold && p.threshold > 0 ? p.threshold : 1 });
      idx = delegations.roles.length - 1;
    }
    const entry = clone(delegations.roles[idx]!);
    // keys: remove by canonical ID, add by TUF ID
    if (p.remove_keys && p.remove_keys.length > 0) {
      const remove = new Set(p.remove_keys);
      entry.keyids = entry.keyids.filter((id) => {
        const k = delegations.keys[id];
        const canon = k === undefined ? id : publicKeyFromJson(k).canonicalId;
        return !remove.has(canon) && !remove.has(id);
      });
    }
    for (const kj of p.add_keys ?? []) {
      const pk = publicKeyFromJson(kj);
      delegations.keys[pk.id] = { keytype: kj.keytype, keyval: { private: null, public: kj.keyval.public } };
      if (!entry.keyids.includes(pk.id)) entry.keyids.push(pk.id);
    }
    if (p.threshold && p.threshold > 0) entry.threshold = p.threshold;
    // paths
    let paths = entry.paths ?? [];
    if (p.clear_paths) paths = [];
    if (p.remove_paths && p.remove_paths.length > 0) paths = paths.filter((x) => !p.remove_paths!.includes(x));
    if (p.add_paths && p.add_paths.length > 0) {
      const parentPaths = parent === 'targets' ? [''] : this.delegationKeys(parent)?.paths;
      const allowed = restrictPaths(parentPaths, p.add_paths);
      if (allowed.length !== p.add_paths.length) {
        throw new SignetError(
          'INVALID_ROLE',
          `paths ${p.add_paths.join(', ')} are not all inside the paths of ${parent}`,
        );
      }
      for (const x of allowed) if (!paths.includes(x)) paths.push(x);
    }
    if (paths.length > 0) entry.paths = paths;
    else delete entry.paths;
    delegations.roles[idx] = entry;
    pf.delegations = {
      ...pf.delegations,
      keys: pruneKeys(delegations.keys, delegations.roles),
      roles: delegations.roles,
    };
    this.dirty.add(parent);
  }

  private async deleteDelegation(role: string): Promise<void> {
    const parent = parentRole(role);
    if (parent === undefined) throw new SignetError('INVALID_ROLE', `${role} is not a valid delegation role name`);
    await this.requireSign(parent, `remove delegation ${role}`);
    const pf = this.targets.get(parent);
    if (pf === undefined) return;
    const roles = (pf.delegations?.roles ?? []).filter((d) => d.name !== role);
    pf.delegations = { ...pf.delegations, keys: pruneKeys({ ...(pf.delegations?.keys ?? {}) }, roles), roles };
    this.dirty.add(parent);
    for (const name of [...this.targets.keys()]) {
      if (name === role || name.startsWith(`${role}/`)) {
        this.targets.delete(name);
        this.dirty.delete(name);
        this.deleted.add(name);
      }
    }
  }

  /** Replace a base role's keys in root (N:tuf/tuf.go ReplaceBaseKeys). Old root certs stay listed. */
  replaceBaseKeys(role: string, keys: KeyJson[]): void {
    if (!['root', 'targets', 'snapshot', 'timestamp'].includes(role)) {
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
    const roles = { ...this.root.roles, [role]: { ...r, keyids: newIds, threshold: 1 } };
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

  // ---- signing ------------------------------------------------------------------------------

  private async signersFor(keys: PublicKey[]): Promise<Signer[]> {
    const out: Signer[] = [];
    for (const k of keys) {
      const s = await this.keys.signer(k);
      if (s !== undefined) out.push(s);
    }
    return out;
  }

  private keepValid(old: Signature[], keys: PublicKey[], signedBytes: Buffer): Signature[] {
    return validSignatures(old, new Map(keys.map((k) => [k.id, k])), signedBytes);
  }

  async signRoot(now: Date): Promise<Metadata<RootSigned>> {
    const signed: RootSigned = {
      ...this.root,
      version: this.originalRoot.signed.version + 1,
      expires: formatExpires(defaultExpires('root', now)),
    };
    const keys = this.baseRoleKeys('root');
    const signers = await this.signersFor(keys);
    if (this.previousRootKeys)
      signers.push(...(await this.signersFor(this.previousRootKeys.map((k) => publicKeyFromJson(k)))));
    const threshold = this.root.roles.root?.threshold ?? 1;
    if (signers.length < threshold) {
      throw new SignetError('KEY_NOT_FOUND', `cannot sign the root of ${this.gun}: no root key in the trust dir`, {
        fix: `restore the root key (${keys.map((k) => k.canonicalId).join(', ')}) with signet key import or signet key restore`,
      });
    }
    return signMetadata('root', signed, signers);
  }

  /** `floorVersion`: for a role new to this view, the highest version the server may still hold. */
  async signTargets(role: string, now: Date, floorVersion = 0): Promise<Metadata<TargetsSigned>> {
    const f = this.targets.get(role);
    if (f === undefined) throw new SignetError('INTERNAL', `no metadata for ${role}`);
    const prevVersion = this.originals.get(role)?.signed.version ?? Math.max(f.version, floorVersion);
    const signed: TargetsSigned = {
      ...f,
      version: prevVersion + 1,
      expires: formatExpires(defaultExpires('targets', now)),
    };
    const keys = this.roleKeys(role);
    const signers = await this.signersFor(keys);
    const threshold =
      role === 'targets' ? (this.root.roles.targets?.threshold ?? 1) : (this.delegationKeys(role)?.threshold ?? 1);
    const tmp = await signMetadata(role, signed, signers);
    const keep = this.keepValid(this.originals.get(role)?.signatures ?? [], keys, tmp.signedBytes);
    const md = keep.length > 0 ? await signMetadata(role, signed, signers, keep) : tmp;
    if (new Set(md.signatures.map((s) => s.keyid)).size < threshold) {
      throw new SignetError(
        'KEY_NOT_FOUND',
        `not enough signing keys for ${role} of ${this.gun}: need ${threshold}, have ${md.signatures.length}`,
        {
          fix: `load the missing keys: ${keys.map((k) => k.canonicalId).join(', ')}`,
        },
      );
    }
    return md;
  }

  /**
   * A locally signed snapshot when we hold a snapshot key, else undefined (the server signs it).
   * `files` are the new bytes of the roles being uploaded (root and targets roles).
   */
  async signSnapshot(files: Map<string, Buffer>, now: Date): Promise<Metadata<SnapshotSigned> | undefined> {
    const keys = this.baseRoleKeys('snapshot');
    const signers = await this.signersFor(keys);
    if (signers.length === 0) return undefined;
    const meta: Record<string, FileMeta> = { ...(this.snapshot?.signed.meta ?? {}) };
    if (meta.root === undefined) meta.root = fileMeta(this.originalRoot.bytes);
    if (meta.targets === undefined) {
      const t = this.originals.get('targets');
      if (t !== undefined) meta.targets = fileMeta(t.bytes);
    }
    for (const d of this.deleted) delete meta[d];
    for (const [role, bytes] of files) meta[role] = fileMeta(bytes);
    const version = (this.snapshot?.signed.version ?? 0) + 1;
    const signed = newSnapshot(meta, formatExpires(defaultExpires('snapshot', now)), version);
    return signMetadata('snapshot', signed, signers);
  }
}

/** Drop delegation keys no role uses any more (N:tuf/utils RemoveUnusedKeys). */
function pruneKeys(keys: Record<string, KeyJson>, roles: { keyids: string[] }[]): Record<string, KeyJson> {
  const used = new Set(roles.flatMap((r) => r.keyids));
  const out: Record<string, KeyJson> = {};
  for (const [id, k] of Object.entries(keys)) if (used.has(id)) out[id] = k;
  return out;
}
