/**
 * The atomic update (N:server/handlers/default.go, N:server/handlers/validation.go, N:tuf/builder.go): in one per-GUN transaction, load the current
 * files, validate, sign the snapshot (when the server holds its key) and the timestamp, and store
 * everything with one `updateMany`. Either all of it is stored or nothing is.
 */
import { sha256Hex } from '../digest.js';
import { isSignetError } from '../errors.js';
import type { AuditFields, MetaReader, MetaStore, MetaUpdate } from '../storage/index.js';
import type { ServerSigner } from '../signer/index.js';
import { parseRoot, signMetadata, type Metadata, type ParsedJson, type RootSigned, type Signer } from '../tuf/index.js';
import {
  missingSnapshotKey,
  missingTimestampKey,
  nextTimestamp,
  refreshedSnapshot,
  requiredStoredRoles,
  validateUpdate,
  type StoredRepo,
} from '../validation/index.js';
import { readCurrentRole, resolveCurrent } from './current.js';

export interface PublishResult {
  stored: { role: string; version: number }[];
  usedKeys: string[];
}

async function loadStored(reader: MetaReader, gun: string, roles: string[]): Promise<StoredRepo> {
  const state = await resolveCurrent(reader, gun);
  const stored: StoredRepo = { targets: new Map() };
  if (state === null) {
    // no timestamp yet: nothing is current (a root without timestamp cannot exist through us)
    return stored;
  }
  for (const role of roles) {
    const f = await readCurrentRole(reader, gun, state, role);
    if (f === null) continue;
    if (role === 'root') stored.root = f.bytes;
    else if (role === 'snapshot') stored.snapshot = f.bytes;
    else if (role === 'timestamp') stored.timestamp = f.bytes;
    else stored.targets?.set(role, f.bytes);
  }
  return stored;
}

/** A file to store, its sha256 (hashed once, for the row and the audit entry) and the key IDs of its signatures. */
type StoredFile = MetaUpdate & { sha256: string; keyIds: string[] };

const storedFile = (f: { role: string; version: number; data: Buffer; keyIds: string[] }): StoredFile => ({
  role: f.role,
  version: f.version,
  data: f.data,
  sha256: sha256Hex(f.data),
  keyIds: f.keyIds,
});

const signedFile = (md: Metadata): StoredFile =>
  storedFile({ role: md.role, version: md.signed.version, data: md.bytes, keyIds: md.signatures.map((s) => s.keyid) });

/** What the audit entry says of each stored file: role, version, sha256 and the IDs of the keys that signed it. */
function describeStored(files: readonly StoredFile[]): AuditFields[] {
  return files.map((u) => ({ role: u.role, version: u.version, sha256: u.sha256, keyIds: u.keyIds }));
}

/**
 * What the audit entry says of each signature the server's signer made: role, key ID and the
 * version signed (the GUN is the entry's), and which signer (`local` or `remote HOST:PORT`).
 * Key IDs only: no field could hold key material.
 */
function keyUse(signer: ServerSigner, signed: { role: string; keyId: string; version: number }[]): AuditFields {
  return { signer: signer.name ?? 'local', signed };
}

/** Resolve signers before the transaction (the signer may read the key table, or ask a remote signer). */
async function prefetchSigners(signer: ServerSigner, gun: string, roots: RootSigned[]): Promise<void> {
  for (const r of roots) {
    for (const role of ['timestamp', 'snapshot'] as const) {
      try {
        await signer.signerFor(gun, role, r);
      } catch (err) {
        // the server signs every timestamp: without its signer no publish can succeed, so fail before the transaction
        if (isSignetError(err, 'SIGNER_UNAVAILABLE')) throw err;
      }
    }
  }
}

export async function publish(
  deps: { store: MetaStore; signer: ServerSigner; now: () => Date },
  gun: string,
  uploaded: Map<string, Buffer>,
  currentRoot: Buffer | undefined,
  audit?: AuditFields,
  parsed?: ReadonlyMap<string, ParsedJson>,
): Promise<PublishResult> {
  const roots: RootSigned[] = [];
  for (const b of [uploaded.get('root'), currentRoot]) {
    if (b === undefined) continue;
    try {
      roots.push(parseRoot(b).signed);
    } catch {
      // validation reports it
    }
  }
  await prefetchSigners(deps.signer, gun, roots);

  return deps.store.withGun(gun, async (tx) => {
    const now = deps.now();
    const stored = await loadStored(tx, gun, requiredStoredRoles(uploaded.keys()));
    const plan = validateUpdate({ gun, stored, uploaded, now, ...(parsed !== undefined ? { parsed } : {}) });
    const updates: StoredFile[] = plan.accepted.map(storedFile);
    const usedKeys: string[] = [];
    const signed: { role: string; keyId: string; version: number }[] = [];
    let snapshotBytes = plan.snapshotBytes;
    if (plan.snapshotToSign !== undefined) {
      const s = await deps.signer.signerFor(gun, 'snapshot', plan.root.signed);
      if (s === null) throw missingSnapshotKey();
      const md = await signMetadata('snapshot', plan.snapshotToSign, [s]);
      snapshotBytes = md.bytes;
      usedKeys.push(s.publicKey.id);
      signed.push({ role: 'snapshot', keyId: s.publicKey.id, version: md.signed.version });
      updates.push(signedFile(md));
    }
    const t = await deps.signer.signerFor(gun, 'timestamp', plan.root.signed);
    if (t === null) throw missingTimestampKey();
    const ts = await signMetadata('timestamp', nextTimestamp(plan.previousTimestamp, snapshotBytes as Buffer, now), [
      t,
    ]);
    usedKeys.push(t.publicKey.id);
    signed.push({ role: 'timestamp', keyId: t.publicKey.id, version: ts.signed.version });
    updates.push(signedFile(ts));
    await tx.updateMany(gun, updates);
    if (audit !== undefined) {
      const use = keyUse(deps.signer, signed);
      tx.audit({ ...audit, gun, stored: describeStored(updates), serverKeyIds: usedKeys, ...use });
    }
    return { stored: updates.map((u) => ({ role: u.role, version: u.version })), usedKeys };
  });
}

/**
 * Re-sign on read (N:tuf/builder.go): a timestamp close to expiry gets version + 1 with a fresh expiry; an
 * expired snapshot is re-dated too when the server holds its key. Returns the keys used, or null
 * when nothing had to change (another request did it first) — never throws for missing keys.
 */
export async function refreshTimestamp(
  deps: { store: MetaStore; signer: ServerSigner; now: () => Date },
  gun: string,
  windowMs: number,
): Promise<string[] | null> {
  // read the root and resolve its signers outside the transaction
  const pre = await resolveCurrent(deps.store, gun);
  if (pre === null) return null;
  const rootFile = await readCurrentRole(deps.store, gun, pre, 'root');
  if (rootFile === null) return null;
  const root = parseRoot(rootFile.bytes).signed;
  const tsSigner: Signer | null = await deps.signer.signerFor(gun, 'timestamp', root);
  const snSigner: Signer | null = await deps.signer.signerFor(gun, 'snapshot', root);
  if (tsSigner === null) return null;

  return deps.store.withGun(gun, async (tx) => {
    const now = deps.now();
    const state = await resolveCurrent(tx, gun);
    if (state === null || state.snapshot === null) return null;
    const snapshotExpired = state.snapshotExpires < now.getTime();
    const timestampStale = state.timestampExpires - now.getTime() < windowMs;
    const canRefreshSnapshot = snapshotExpired && snSigner !== null;
    if (!timestampStale && !canRefreshSnapshot) return null;
    const used: string[] = [];
    const signed: { role: string; keyId: string; version: number }[] = [];
    const updates: StoredFile[] = [];
    let snapshotBytes = state.snapshot.bytes;
    if (canRefreshSnapshot && snSigner !== null) {
      const prev = JSON.parse(state.snapshot.bytes.toString('utf8')).signed;
      const md = await signMetadata('snapshot', refreshedSnapshot(prev, now), [snSigner]);
      snapshotBytes = md.bytes;
      used.push(snSigner.publicKey.id);
      signed.push({ role: 'snapshot', keyId: snSigner.publicKey.id, version: md.signed.version });
      updates.push(signedFile(md));
    }
    const prevTs = JSON.parse(state.timestamp.bytes.toString('utf8')).signed;
    const ts = await signMetadata('timestamp', nextTimestamp(prevTs, snapshotBytes, now), [tsSigner]);
    used.push(tsSigner.publicKey.id);
    signed.push({ role: 'timestamp', keyId: tsSigner.publicKey.id, version: ts.signed.version });
    updates.push(signedFile(ts));
    await tx.updateMany(gun, updates);
    // a change made by the server itself on a read: no requester is named
    const use = keyUse(deps.signer, signed);
    tx.audit({
      event: 'resign_timestamp',
      user: null,
      gun,
      stored: describeStored(updates),
      serverKeyIds: used,
      ...use,
    });
    return used;
  });
}
