/**
 * The audit trail: one JSON line per state-changing request (publish, delete, key rotation) and
 * per authorisation failure. Records carry who (token subject / basic user, remote address), what
 * (GUN, event, roles and versions stored, key ID) and the result status — never tokens, passwords
 * or key material (the record type has no field that could hold them).
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';

export type AuditEvent = 'publish' | 'delete' | 'rotate_key' | 'auth_failure';

export interface AuditRecord {
  event: AuditEvent;
  reqId: string;
  remote: string | undefined;
  user: string | undefined;
  method: string;
  route: string;
  gun: string | undefined;
  status: number;
  /** auth failures: token_required | invalid_token | insufficient_scope | bad_credentials */
  reason?: string | undefined;
  /** auth failures: the actions the route needs */
  required?: readonly string[] | undefined;
  /** publish: what was stored */
  stored?: readonly { role: string; version: number }[] | undefined;
  /** rotate_key: role and the new public key's ID */
  role?: string | undefined;
  keyId?: string | undefined;
  /** refused requests: the error code answered */
  code?: string | undefined;
}

export interface AuditLog {
  write(rec: AuditRecord): void;
  close(): Promise<void>;
}

/** Auth failures written per second before further ones are only counted (a flood must not fill the disk). */
export const AUDIT_FAILURES_PER_SECOND = 50;

/** JSON-lines writer over any sink; auth-failure lines are rate-limited, the count of dropped ones is reported. */
export function auditWriter(
  sink: { write(line: string): void; close(): Promise<void> },
  now: () => number = Date.now,
): AuditLog {
  let windowStart = 0;
  let inWindow = 0;
  let suppressed = 0;
  return {
    write(rec) {
      const t = now();
      if (rec.event === 'auth_failure') {
        if (t - windowStart >= 1000) {
          windowStart = t;
          inWindow = 0;
        }
        if (++inWindow > AUDIT_FAILURES_PER_SECOND) {
          suppressed++;
          return;
        }
      }
      const line: Record<string, unknown> = { time: new Date(t).toISOString(), ...rec };
      if (suppressed > 0) {
        line.suppressedAuthFailures = suppressed;
        suppressed = 0;
      }
      for (const k of Object.keys(line)) if (line[k] === undefined) delete line[k];
      sink.write(JSON.stringify(line) + '\n');
    },
    close: () => sink.close(),
  };
}

/** `-` = stdout; else a file opened for appending (mode 0600). */
export function openAuditLog(dest: string, onError: (err: Error) => void = () => undefined): AuditLog {
  if (dest === '-') {
    return auditWriter({ write: (l) => void process.stdout.write(l), close: async () => undefined });
  }
  mkdirSync(path.dirname(dest), { recursive: true, mode: 0o700 });
  const stream: WriteStream = createWriteStream(dest, { flags: 'a', mode: 0o600 });
  stream.on('error', onError); // a full or vanished disk must not take the server down
  return auditWriter({
    write: (l) => void stream.write(l),
    close: () => new Promise<void>((resolve) => stream.end(() => resolve())),
  });
}
