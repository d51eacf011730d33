/**
 * The bodies of the snapshot and timestamp the server generates (N:tuf/builder.go, N:const.go;
 * `N:tuf/builder.go` GenerateSnapshot/GenerateTimestamp, `N:const.go`). Pure: the caller signs.
 */
import { fileMeta, formatExpires, type FileMeta, type SnapshotSigned, type TimestampSigned } from '../tuf/index.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** notary.Year = 365 days; server snapshot = 3 years, timestamp = 14 days */
export const SNAPSHOT_EXPIRY_MS = 3 * 365 * DAY_MS;
export const TIMESTAMP_EXPIRY_MS = 14 * DAY_MS;

/**
 * Next snapshot: previous meta kept, `files` (root and every loaded targets role) set to the exact
 * file bytes' length + sha256 + sha512, version + 1, expiry now + 3 years.
 */
export function nextSnapshot(prev: SnapshotSigned | undefined, files: Map<string, Buffer>, now: Date): SnapshotSigned {
  const meta: Record<string, FileMeta> = { ...(prev?.meta ?? {}) };
  for (const [role, bytes] of files) meta[role] = fileMeta(bytes);
  const base: SnapshotSigned =
    prev !== undefined ? { ...prev } : { _type: 'Snapshot', expires: '', meta: {}, version: 0 };
  return {
    ...base,
    _type: 'Snapshot',
    expires: formatExpires(new Date(now.getTime() + SNAPSHOT_EXPIRY_MS)),
    meta,
    version: (prev?.version ?? 0) + 1,
  };
}

/** The same snapshot, re-dated: version + 1, expiry now + 3 years (re-sign on read, N:tuf/builder.go). */
export function refreshedSnapshot(prev: SnapshotSigned, now: Date): SnapshotSigned {
  return { ...prev, expires: formatExpires(new Date(now.getTime() + SNAPSHOT_EXPIRY_MS)), version: prev.version + 1 };
}

/** Next timestamp: meta = {snapshot: length + sha256 + sha512 of the snapshot bytes}, version + 1, now + 14 days. */
export function nextTimestamp(prev: TimestampSigned | undefined, snapshotBytes: Buffer, now: Date): TimestampSigned {
  const base: TimestampSigned =
    prev !== undefined
      ? { ...prev }
      : { _type: 'Timestamp', expires: '', meta: { snapshot: fileMeta(snapshotBytes) }, version: 0 };
  return {
    ...base,
    _type: 'Timestamp',
    expires: formatExpires(new Date(now.getTime() + TIMESTAMP_EXPIRY_MS)),
    meta: { snapshot: fileMeta(snapshotBytes) },
    version: (prev?.version ?? 0) + 1,
  };
}
