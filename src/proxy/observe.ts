/**
 * What the proxy tells its operator: one JSON line per enforcement decision worth reading (refused,
 * would have been refused, pinned to a signed digest other than the tag's), and Prometheus counters
 * of every request and decision (`GET /metrics`). Records carry no credentials: the type has no field
 * for headers.
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { Counter, Registry } from 'prom-client';

/**
 * served: enforced and allowed; refused: enforced and denied; passed: report/skip mode, upstream bytes
 * as they are; would-refuse: report mode, enforcement would have denied; would-pin: report mode, the
 * upstream tag points elsewhere than the signed digest enforcement would have served.
 */
export type Decision = 'served' | 'refused' | 'passed' | 'would-refuse' | 'would-pin';

export interface DecisionRecord {
  decision: Decision;
  /** the policy mode that applied ('report' also when --report-only overrides 'enforce') */
  mode: string;
  repository: string;
  reference: string;
  /** the signed digest (tag) or the digest asked for */
  digest?: string | undefined;
  /** would-pin: what the upstream serves for the tag */
  upstreamDigest?: string | undefined;
  code?: string | undefined;
  message?: string | undefined;
  trust?: { source: string; ageSeconds: number } | undefined;
  remote?: string | undefined;
}

export interface Observer {
  readonly metrics: Registry;
  request(kind: string, method: string, status: number): void;
  decision(rec: DecisionRecord): void;
  /** a free-form operational event (start, upstream errors) */
  event(event: string, fields: Record<string, unknown>): void;
  close(): Promise<void>;
}

/** `log`: '-' for stdout, a file path to append to, or a stream (tests). */
export function createObserver(log: string | NodeJS.WritableStream): Observer {
  const metrics = new Registry();
  const requests = new Counter({
    name: 'signet_proxy_requests_total',
    help: 'Requests answered, by route kind, method and status',
    labelNames: ['kind', 'method', 'status'] as const,
    registers: [metrics],
  });
  const decisions = new Counter({
    name: 'signet_proxy_decisions_total',
    help: 'Manifest enforcement decisions by outcome and refusal code (report mode counts would-be refusals)',
    labelNames: ['decision', 'code'] as const,
    registers: [metrics],
  });
  // A file log is appended synchronously: a decision's line is in the file before its answer is sent,
  // so what a client saw refused (or served in report mode) is already on record; an unwritable path
  // fails here, at start. After close() a file log takes no more lines.
  let fd = typeof log === 'string' && log !== '-' ? openSync(log, 'a', 0o600) : undefined;
  const stream = fd !== undefined ? undefined : typeof log !== 'string' ? log : process.stdout;
  const line = (rec: Record<string, unknown>): void => {
    const text = `${JSON.stringify({ time: new Date().toISOString(), ...rec })}\n`;
    if (fd !== undefined) writeSync(fd, text);
    else stream?.write(text);
  };
  return {
    metrics,
    request(kind, method, status) {
      requests.inc({ kind, method, status: String(status) });
    },
    decision(rec) {
      decisions.inc({ decision: rec.decision, code: rec.code ?? '' });
      // allowed decisions are only counted, unless they rest on cached trust data (trust server unreachable)
      if (rec.decision !== 'served' && rec.decision !== 'passed') line({ event: 'decision', ...rec });
      else if (rec.code !== undefined || rec.trust?.source === 'cached') line({ event: 'decision', ...rec });
    },
    event(event, fields) {
      line({ event, ...fields });
    },
    async close() {
      if (fd === undefined) return;
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
    },
  };
}
