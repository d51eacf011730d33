/**
 * After an import, each repository is read back from Signet's storage and checked the way a client
 * checks it (the updater's TrustedSet, one implementation of the rules): every stored root version
 * signed by its predecessor's keys, then the current timestamp → snapshot → targets → delegations by
 * the hashes each parent lists. Checked at the time the current timestamp was written, so a
 * repository whose timestamp has since expired still proves its chain; `stale` says so separately
 * (the server re-signs timestamps it holds the key for when they are read).
 */
import { base64ToHex } from '../digest.js';
import { SignetError } from '../errors.js';
import type { MetaReader, ServerKeyStore } from '../storage/index.js';
import { isDirectChild, parseGun, type FileMeta } from '../tuf/index.js';
import { TrustedSet } from '../updater/index.js';

export interface RepositoryCheck {
  gun: string;
  rootVersion: number;
  timestampVersion: number;
  /** delegated roles verified below targets */
  delegations: number;
  /** the timestamp (or snapshot, targets) is past its expiry at `now` */
  stale: boolean;
  /** Signet holds a key the current root lists for timestamp (so it can re-sign it) */
  timestampKeyHeld: boolean;
  snapshotKeyHeld: boolean;
}

function hexOf(meta: FileMeta | undefined, what: string): string {
  const b64 = meta?.hashes['sha256'];
  if (typeof b64 !== 'string') throw new SignetError('MIX_AND_MATCH', `${what} is listed without a sha256 hash`);
  return base64ToHex(b64);
}

async function mustGet<T>(p: Promise<T | null>, what: string): Promise<T> {
  const v = await p;
  if (v === null) throw new SignetError('NOT_FOUND', `${what} is not stored`);
  return v;
}

export async function verifyRepository(
  store: MetaReader,
  keys: ServerKeyStore,
  gun: string,
  now: Date,
): Promise<RepositoryCheck> {
  const ts = await mustGet(store.getLatest(gun, 'timestamp'), `${gun} timestamp`);
  const latestRoot = await mustGet(store.getLatest(gun, 'root'), `${gun} root`);
  const opts = { gun: parseGun(gun), now: ts.createdAt, tofu: true };

  // the chain: from the oldest stored root (version 1 unless history was lost) up to the newest
  let first = await store.getByVersion(gun, 'root', 1);
  let v = 1;
  if (first === null) {
    first = latestRoot;
    v = latestRoot.version;
  }
  const set = TrustedSet.fromTrustedRoot(first.data, opts);
  for (v = v + 1; v < latestRoot.version; v++) {
    set.updateRoot((await mustGet(store.getByVersion(gun, 'root', v), `${gun} root version ${v}`)).data, {
      final: false,
    });
  }
  set.updateRoot(latestRoot.data, { final: true });

  const tsMd = set.updateTimestamp(ts.data);
  const snapHex = hexOf(tsMd.signed.meta.snapshot, 'snapshot');
  const snap = set.updateSnapshot(
    (await mustGet(store.getByChecksum(gun, 'snapshot', snapHex), `${gun} snapshot`)).data,
  );
  if (!set.rootMatchesSnapshot()) {
    throw new SignetError('MIX_AND_MATCH', `the snapshot of ${gun} lists a root other than the newest stored one`);
  }
  const load = async (role: string): Promise<void> => {
    const bytes = (await mustGet(store.getByChecksum(gun, role, hexOf(snap.signed.meta[role], role)), `${gun} ${role}`))
      .data;
    if (role === 'targets') set.updateTargets(bytes);
    else set.updateDelegation(role, bytes);
  };
  await load('targets');
  const stack = [...(set.targets?.signed.delegations?.roles ?? []).map((d) => d.name)];
  while (stack.length > 0) {
    const role = stack.shift() as string;
    if (!isDirectChild(role.split('/').slice(0, -1).join('/'), role) || snap.signed.meta[role] === undefined) continue;
    await load(role);
    stack.unshift(...(set.delegations.get(role)?.signed.delegations?.roles ?? []).map((d) => d.name));
  }

  const root = set.root.signed;
  const held = async (role: 'timestamp' | 'snapshot'): Promise<boolean> => {
    for (const id of root.roles[role]?.keyids ?? []) {
      const k = await keys.get(id);
      if (k !== null && k.gun === gun && k.role === role) return true;
    }
    return false;
  };
  const expired = [tsMd, snap, set.targets].some(
    (md) => md !== undefined && Date.parse(md.signed.expires) <= now.getTime(),
  );
  return {
    gun,
    rootVersion: root.version,
    timestampVersion: tsMd.signed.version,
    delegations: set.delegations.size,
    stale: expired,
    timestampKeyHeld: await held('timestamp'),
    snapshotKeyHeld: await held('snapshot'),
  };
}
