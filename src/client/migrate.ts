/**
 * `signet migrate`: move one repository to another trust server when only its owner's keys are at
 * hand (the source's databases are out of reach). The current, verified trust data is copied; the
 * root is re-signed by the owner's root key (as versions 1 … N+1, see below) listing the destination's
 * timestamp key, and its snapshot key too when the source held the snapshot; targets and delegations are uploaded
 * with their exact bytes, so every signature on them stays. The root keys do not change, so pins
 * and cached roots keep verifying (N:client/client.go RotateKey publishes a root the same way).
 * Timestamp versions restart on the destination; this trust dir's cached timestamp and snapshot are
 * dropped (other clients' too, docs/migrate.md).
 */
import { rm } from 'node:fs/promises';
import { SignetError, isSignetError } from '../errors.js';
import type { NotaryRemote } from '../remote/index.js';
import {
  defaultExpires,
  fileMeta,
  formatExpires,
  newSnapshot,
  publicKeyFromJson,
  publicKeyToJson,
  signMetadata,
  type PublicKey,
  type RootSigned,
  type Signer,
} from '../tuf/index.js';
import type { RootRoleChange } from './change.js';
import { roleCachePath } from './paths.js';
import type { Repository } from './repository.js';
import { WorkingRepo } from './working.js';

export interface MigrateResult {
  gun: string;
  rootVersion: { from: number; to: number };
  timestampKeyId: string;
  /** who signs snapshots on the destination */
  snapshot: 'server' | 'client';
  /** publishes made on the destination (one per root version) */
  publishes: number;
  /** roles uploaded by the first and the last publish, in order */
  uploaded: string[];
}

function roleChange(role: 'timestamp' | 'snapshot', key: PublicKey): RootRoleChange {
  return { type: 'role', action: 'create', role: 'root', path: role, baseRole: role, keys: [publicKeyToJson(key)] };
}

export async function migrateRepository(opts: {
  /** the repository on the source server, with the owner's trust dir (keys, cache, pin) */
  source: Repository;
  destination: NotaryRemote;
  now?: Date;
}): Promise<MigrateResult> {
  const { source, destination } = opts;
  const gun = source.gun;
  const now = opts.now ?? new Date();
  try {
    await destination.getRole(gun, 'root', { maxBytes: 100 * 1024 * 1024 });
    throw new SignetError('CONFLICT', `the destination server already holds trust data for ${gun}`, {
      fix: `migrate into an empty repository: check --to, or delete it there first (signet --server <to> delete ${gun} --remote)`,
    });
  } catch (e) {
    if (!isSignetError(e, 'NOT_FOUND') && !isSignetError(e, 'REPOSITORY_NOT_FOUND')) throw e;
  }

  const view = await source.read({ forWrite: true });
  const keys = source.keySource();
  const root = view.root.signed;
  let clientSnapshot = false;
  for (const id of root.roles['snapshot']?.keyids ?? []) {
    const k = root.keys[id];
    if (k !== undefined && (await keys.has(publicKeyFromJson(k).canonicalId))) clientSnapshot = true;
  }

  const work = new WorkingRepo({ gun, ...view }, keys);
  const timestampKey = await destination.getServerKey(gun, 'timestamp');
  await work.apply(roleChange('timestamp', timestampKey));
  if (!clientSnapshot) await work.apply(roleChange('snapshot', await destination.getServerKey(gun, 'snapshot')));
  const signersOf = async (role: 'root' | 'snapshot'): Promise<Signer[]> => {
    const out: Signer[] = [];
    for (const id of work.root.roles[role]?.keyids ?? []) {
      const k = work.root.keys[id];
      const s = k === undefined ? undefined : await keys.signer(publicKeyFromJson(k));
      if (s !== undefined) out.push(s);
    }
    if (out.length < (work.root.roles[role]?.threshold ?? 1)) {
      throw new SignetError('KEY_NOT_FOUND', `cannot sign the ${role} of ${gun}: its key is not in the trust dir`, {
        fix: 'migrate from the trust dir that holds the root key (signet key import / signet key restore)',
      });
    }
    return out;
  };
  const rootSigners = await signersOf('root');
  const snapshotSigners = clientSnapshot ? await signersOf('snapshot') : [];

  // notary-server (server/handlers/validation.go) takes a first root only as version 1 and then one
  // version at a time; clients walk `<v>.root.json` from the root they cached. So the destination gets
  // versions 1 … N+1 of the new root, each signed by the owner's root key.
  const last = root.version + 1;
  const uploaded: string[] = [];
  let snapshotVersion = view.snapshot?.signed.version ?? 0;
  for (let v = 1; v <= last; v++) {
    const signed: RootSigned = { ...work.root, version: v, expires: formatExpires(defaultExpires('root', now)) };
    const newRoot = await signMetadata('root', signed, rootSigners);
    const parts: { role: string; bytes: Buffer }[] = [{ role: 'root', bytes: newRoot.bytes }];
    if (v === 1) {
      parts.push({ role: 'targets', bytes: view.targets.bytes });
      const delegations = [...view.delegations.entries()].sort(
        ([a], [b]) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1),
      );
      for (const [role, md] of delegations) parts.push({ role, bytes: md.bytes });
    }
    if (clientSnapshot) {
      const meta = { ...(view.snapshot?.signed.meta ?? {}), root: fileMeta(newRoot.bytes) };
      const snap = newSnapshot(meta, formatExpires(defaultExpires('snapshot', now)), ++snapshotVersion);
      parts.push({ role: 'snapshot', bytes: (await signMetadata('snapshot', snap, snapshotSigners)).bytes });
    }
    await destination.publish(gun, parts);
    if (v === 1 || v === last) uploaded.push(...parts.map((p) => p.role));
  }
  // The destination numbers timestamps (and server-made snapshots) from 1 again: the cached ones of
  // the source would make every later read a rollback. The cached root stays: it is the anchor.
  for (const role of ['timestamp', 'snapshot']) await rm(roleCachePath(source.trustDir, gun, role), { force: true });
  return {
    gun,
    rootVersion: { from: root.version, to: last },
    timestampKeyId: timestampKey.id,
    snapshot: clientSnapshot ? 'client' : 'server',
    publishes: last,
    uploaded,
  };
}
