/**
 * What the dashboard reads of the audit trail, through one small interface (`AuditReader`): the
 * newest entries of the store's hash-chained trail (storage/audit.ts), so the list survives
 * restarts and shows what every server on the same database recorded.
 */
import type { AuditEntry, AuditStore } from '../storage/index.js';

export interface AuditEntryView {
  seq: number;
  time: string;
  event: string;
  user?: string | undefined;
  remote?: string | undefined;
  gun?: string | undefined;
  status?: number | undefined;
  role?: string | undefined;
  keyId?: string | undefined;
  code?: string | undefined;
  reason?: string | undefined;
  stored?: readonly { role: string; version: number }[] | undefined;
}

export interface AuditReader {
  /** newest first, at most `limit` */
  recent(limit: number): Promise<AuditEntryView[]>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** One stored entry as the dashboard shows it (only the fields it shows; unknown shapes are left out). */
export function viewOf(e: AuditEntry): AuditEntryView {
  let f: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(e.text);
    if (parsed !== null && typeof parsed === 'object') f = parsed as Record<string, unknown>;
  } catch {
    // an edited entry may not parse; `signet audit verify` names it, the dashboard shows its seq
  }
  const stored = Array.isArray(f.stored)
    ? f.stored.flatMap((s: unknown) => {
        const r = s as { role?: unknown; version?: unknown };
        return typeof r?.role === 'string' && typeof r.version === 'number'
          ? [{ role: r.role, version: r.version }]
          : [];
      })
    : undefined;
  return {
    seq: e.seq,
    time: new Date(e.createdAt).toISOString(),
    event: str(f.event) ?? 'unknown',
    user: str(f.user),
    remote: str(f.remote),
    gun: str(f.gun),
    status: typeof f.status === 'number' ? f.status : undefined,
    role: str(f.role),
    keyId: str(f.keyId),
    code: str(f.code),
    reason: str(f.reason),
    stored,
  };
}

/** The dashboard's reader over the store's audit trail. */
export function storeAuditReader(audit: AuditStore): AuditReader {
  return { recent: async (limit) => (await audit.recent(Math.max(0, limit))).map(viewOf) };
}
