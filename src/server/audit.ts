/**
 * The audit trail of the server. Its record of truth is the store's hash-chained `audit_log`
 * (storage/audit.ts): state changes (publish, delete, key creation and rotation, re-signing) are
 * appended by the transaction that makes them, so an acknowledged change always has its entry;
 * refused state-changing requests and authorisation failures are appended in a transaction of
 * their own before the reply. Entries carry who (token subject or basic user, null = anonymous,
 * and the remote address), the request id, what (GUN, event, roles, versions, sha256s, key IDs)
 * and the result — never tokens, passwords or key material (no field could hold them).
 *
 * `openAuditLog` gives an optional JSON-lines copy of every committed entry (a file or stdout) for
 * log shippers; `signet audit verify|export` read the chain itself.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { AuditEntry, AuditFields, MetaStore } from '../storage/index.js';

export type AuditEvent =
  'publish' | 'delete' | 'rotate_key' | 'create_key' | 'resign_timestamp' | 'auth_failure' | 'refused';

/** Who made a request, and which request (set by the app from auth and the connection). */
export interface AuditActor {
  /** `<process id>-<n>`: unique across restarts and servers (see app.ts `genReqId`) */
  reqId: string;
  /** token subject or basic-auth user; null = anonymous */
  user: string | null;
  remote: string | null;
  method: string;
  route: string;
  gun: string | undefined;
}

/** The fields of an entry for `event` by `actor`, with the details of the event. */
export function auditFields(actor: AuditActor, event: AuditEvent, details: AuditFields = {}): AuditFields {
  return { event, ...actor, ...details };
}

/** Where JSON-lines copies of committed entries go. */
export interface AuditLog {
  write(line: string): void;
  close(): Promise<void>;
}

/** Auth failures recorded per second before further ones are only counted (a flood must not fill the disk). */
export const AUDIT_FAILURES_PER_SECOND = 50;

/** One JSON line of an entry: its fields plus `hash` (what `signet audit export` writes too). */
export function auditLine(e: AuditEntry): string {
  return `${e.text.slice(0, -1)},"hash":"${e.hash}"}\n`;
}

/**
 * Records refusals (own transaction, before the reply) and copies committed entries to `copy`.
 * Auth failures beyond AUDIT_FAILURES_PER_SECOND are counted and the count is carried by the
 * next one recorded (`suppressedAuthFailures`).
 */
export class AuditTrail {
  readonly #store: MetaStore;
  readonly #now: () => number;
  readonly #onError: (err: unknown) => void;
  readonly #unsubscribe: () => void;
  #windowStart = 0;
  #inWindow = 0;
  #suppressed = 0;

  constructor(
    store: MetaStore,
    copy: AuditLog | undefined,
    onError: (err: unknown) => void,
    now: () => number = Date.now,
  ) {
    this.#store = store;
    this.#now = now;
    this.#onError = onError;
    this.#unsubscribe =
      copy === undefined ? () => undefined : store.audit.onAppend((es) => es.forEach((e) => copy.write(auditLine(e))));
  }

  async refused(actor: AuditActor, event: 'auth_failure' | 'refused', details: AuditFields): Promise<void> {
    let extra: AuditFields = {};
    if (event === 'auth_failure') {
      const t = this.#now();
      if (t - this.#windowStart >= 1000) {
        this.#windowStart = t;
        this.#inWindow = 0;
      }
      if (++this.#inWindow > AUDIT_FAILURES_PER_SECOND) {
        this.#suppressed++;
        return;
      }
      if (this.#suppressed > 0) {
        extra = { suppressedAuthFailures: this.#suppressed };
        this.#suppressed = 0;
      }
    }
    try {
      await this.#store.audit.append([auditFields(actor, event, { ...details, ...extra })]);
    } catch (err) {
      // the database is down: the reply (an error already) must still go out; the log says so
      this.#onError(err);
    }
  }

  close(): void {
    this.#unsubscribe();
  }
}

/** `-` = stdout; else a file opened for appending (mode 0600). */
export function openAuditLog(dest: string, onError: (err: Error) => void = () => undefined): AuditLog {
  if (dest === '-') return { write: (l) => void process.stdout.write(l), close: async () => undefined };
  mkdirSync(path.dirname(dest), { recursive: true, mode: 0o700 });
  const stream: WriteStream = createWriteStream(dest, { flags: 'a', mode: 0o600 });
  stream.on('error', onError); // a full or vanished disk must not take the server down
  return {
    write: (l) => void stream.write(l),
    close: () => new Promise<void>((resolve) => stream.end(() => resolve())),
  };
}
