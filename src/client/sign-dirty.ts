/**
 * Sign what a WorkingRepo changed into the files of one publish (N:client/client.go publish):
 * root when dirty (with the old root keys too after a rotation), each dirty targets role at
 * version+1 keeping still-valid co-signatures, and the snapshot when we hold its key.
 */
import { SignetError } from '../errors.js';
import {
  defaultExpires,
  fileMeta,
  formatExpires,
  newSnapshot,
  publicKeyFromJson,
  signEditedTargets,
  signMetadata,
  validSignatures,
  type FileMeta,
  type Metadata,
  type PublicKey,
  type RootSigned,
  type Signature,
  type Signer,
  type SnapshotSigned,
  type TargetsSigned,
} from '../tuf/index.js';
import type { WorkingRepo } from './working.js';

/** One file of a publish, in upload order. */
export interface PublishPart {
  role: string;
  bytes: Buffer;
}

/**
 * Every file to upload for the dirty roles of `work`. `initial`: the first publish of a repository
 * (its root and targets go up even when unchanged). `serverVersion(role)`: for a delegation new to
 * this view, the version the server may still hold from before it was deleted.
 */
export async function signDirty(
  work: WorkingRepo,
  opts: { now: Date; initial: boolean; serverVersion: (role: string) => Promise<number>; partial?: boolean },
): Promise<PublishPart[]> {
  const { now, initial } = opts;
  await work.refreshRootIfNearExpiry(now);
  const parts: PublishPart[] = [];
  const files = new Map<string, Buffer>();
  if (work.dirty.has('root')) {
    const root = await signRoot(work, now);
    parts.push({ role: 'root', bytes: root.bytes });
    files.set('root', root.bytes);
  } else if (initial) {
    parts.push({ role: 'root', bytes: work.originalRoot.bytes });
  }
  if (initial) work.dirty.add('targets');
  // shallowest first, so a reader of the request sees parents before children
  const dirtyTargets = [...work.dirty]
    .filter((r) => r !== 'root')
    .sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1));
  for (const role of dirtyTargets) {
    // A delegation deleted earlier may still have versions on the server, and a new upload must be
    // above all of them (N:server/storage/sqldb.go): start after whatever the server still serves.
    const floor = work.isNewRole(role) && !initial ? await opts.serverVersion(role) : 0;
    const md = await signTargets(work, role, now, floor, opts.partial === true);
    parts.push({ role, bytes: md.bytes });
    files.set(role, md.bytes);
  }
  // a partly signed proposal's files change with every co-signature: its snapshot is made at publish
  const snapshot = opts.partial === true ? undefined : await signSnapshot(work, files, now);
  if (snapshot) parts.push({ role: 'snapshot', bytes: snapshot.bytes });
  return parts;
}

async function signersFor(work: WorkingRepo, keys: PublicKey[]): Promise<Signer[]> {
  const out: Signer[] = [];
  for (const k of keys) {
    const s = await work.keys.signer(k);
    if (s !== undefined) out.push(s);
  }
  return out;
}

export async function signRoot(work: WorkingRepo, now: Date): Promise<Metadata<RootSigned>> {
  const signed: RootSigned = {
    ...work.root,
    version: work.originalRoot.signed.version + 1,
    expires: formatExpires(defaultExpires('root', now)),
  };
  const keys = work.baseRoleKeys('root');
  const signers = await signersFor(work, keys);
  if (work.previousRootKeys)
    signers.push(
      ...(await signersFor(
        work,
        work.previousRootKeys.map((k) => publicKeyFromJson(k)),
      )),
    );
  const threshold = work.root.roles.root?.threshold ?? 1;
  if (signers.length < threshold) {
    throw new SignetError('KEY_NOT_FOUND', `cannot sign the root of ${work.gun}: no root key in the trust dir`, {
      fix: `restore the root key (${keys.map((k) => k.canonicalId).join(', ')}) with signet key import or signet key restore`,
    });
  }
  return signMetadata('root', signed, signers);
}

/**
 * `floorVersion`: for a role new to this view, the highest version the server may still hold.
 * `partial`: a proposal's first signatures (docs/thresholds.md): whatever keys are held here sign, the
 * other holders add theirs to the proposal file.
 */
export async function signTargets(
  work: WorkingRepo,
  role: string,
  now: Date,
  floorVersion = 0,
  partial = false,
): Promise<Metadata<TargetsSigned>> {
  const f = work.targets.get(role);
  if (f === undefined) throw new SignetError('INTERNAL', `no metadata for ${role}`);
  const prevVersion = work.originals.get(role)?.signed.version ?? Math.max(f.version, floorVersion);
  const signed: TargetsSigned = {
    ...f,
    version: prevVersion + 1,
    expires: formatExpires(defaultExpires('targets', now)),
  };
  const keys = work.roleKeys(role);
  const signers = await signersFor(work, keys);
  const threshold =
    role === 'targets' ? (work.root.roles.targets?.threshold ?? 1) : (work.delegationKeys(role)?.threshold ?? 1);
  const base = work.originals.get(role);
  const changed = work.changedTargets.get(role) ?? new Set<string>();
  // the unchanged entries' bytes come from the file they were read from (one new tag among 100,000)
  const sign = (keep: Signature[] = []): Promise<Metadata<TargetsSigned>> =>
    base === undefined
      ? signMetadata(role, signed, signers, keep)
      : signEditedTargets(role, base, signed, changed, signers, keep);
  const tmp = await sign();
  // co-signatures of other holders still valid for the new body are kept; ours were just made again
  const ours = new Set(signers.map((s) => s.publicKey.id));
  const old = (base?.signatures ?? []).filter((s) => !ours.has(s.keyid));
  const keep = validSignatures(old, new Map(keys.map((k) => [k.id, k])), tmp.signedBytes);
  const md = keep.length > 0 ? await sign(keep) : tmp;
  const have = new Set(md.signatures.map((s) => s.keyid)).size;
  // a proposal may leave a role to its other holders entirely (a root holder handing targets to new keys)
  if (!partial && have < threshold) {
    throw new SignetError(
      'KEY_NOT_FOUND',
      `not enough signing keys for ${role} of ${work.gun}: need ${threshold}, have ${have}`,
      {
        fix:
          threshold > 1 && have > 0
            ? `write a proposal for the other key holders to co-sign (add --proposal FILE; docs/thresholds.md), or load the missing keys: ${keys.map((k) => k.canonicalId).join(', ')}`
            : `load the missing keys: ${keys.map((k) => k.canonicalId).join(', ')}`,
      },
    );
  }
  return md;
}

/**
 * A locally signed snapshot when we hold a snapshot key, else undefined (the server signs it).
 * `files` are the new bytes of the roles being uploaded (root and targets roles).
 */
export async function signSnapshot(
  work: WorkingRepo,
  files: Map<string, Buffer>,
  now: Date,
): Promise<Metadata<SnapshotSigned> | undefined> {
  const signers = await signersFor(work, work.baseRoleKeys('snapshot'));
  if (signers.length === 0) return undefined;
  const meta: Record<string, FileMeta> = { ...(work.snapshot?.signed.meta ?? {}) };
  if (meta.root === undefined) meta.root = fileMeta(work.originalRoot.bytes);
  if (meta.targets === undefined) {
    const t = work.originals.get('targets');
    if (t !== undefined) meta.targets = fileMeta(t.bytes);
  }
  for (const d of work.deleted) delete meta[d];
  for (const [role, bytes] of files) meta[role] = fileMeta(bytes);
  const version = (work.snapshot?.signed.version ?? 0) + 1;
  const signed = newSnapshot(meta, formatExpires(defaultExpires('snapshot', now)), version);
  return signMetadata('snapshot', signed, signers);
}
