/**
 * What the dashboard reads of the audit trail, through one small interface (`AuditReader`) so the
 * audit storage can change under it. Today's reader keeps the newest records this process wrote,
 * in memory, by teeing the `AuditLog` the server writes to.
 */
import type { AuditLog, AuditRecord } from './audit.js';

export interface AuditEntryView {
  time: string;
  event: string;
  user?: string | undefined;
  remote?: string | undefined;
  gun?: string | undefined;
  status: number;
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

/** Wraps `log`: every record is written to it and kept (the newest `capacity`) for `recent`. */
export function teeRecentAudit(
  log: AuditLog,
  capacity = 500,
  now: () => number = Date.now,
): { log: AuditLog; reader: AuditReader } {
  const ring: AuditEntryView[] = [];
  const keep = (rec: AuditRecord): void => {
    ring.push({
      time: new Date(now()).toISOString(),
      event: rec.event,
      user: rec.user,
      remote: rec.remote,
      gun: rec.gun,
      status: rec.status,
      role: rec.role,
      keyId: rec.keyId,
      code: rec.code,
      reason: rec.reason,
      stored: rec.stored,
    });
    if (ring.length > capacity) ring.shift();
  };
  return {
    log: {
      write(rec) {
        log.write(rec);
        keep(rec);
      },
      close: () => log.close(),
    },
    reader: {
      async recent(limit) {
        return ring.slice(-Math.max(0, limit)).reverse();
      },
    },
  };
}
