/**
 * Expiry alerts (`--expiry-webhook URL --expiry-warn 30d`): after each check of the expiry watch,
 * every client-held role and root certificate that expires within the warning window is POSTed as
 * one JSON object to the webhook, once per repository, role, version (and certificate key ID).
 * Roles the server re-signs itself on read (timestamp, a server-held snapshot) are not alerted.
 *
 * Never in a request's path: alerts wait in a bounded queue and are sent one at a time in the
 * background; a failed POST (network error, non-2xx) is retried after each of `retryDelaysMs`, then
 * forgotten so that a later check queues it again. "Once" holds per process: a restart alerts again.
 */
import { Counter, type Registry } from 'prom-client';
import { expiryView, secondsLeft, type ExpiryView } from '../tuf/index.js';
import type { ExpiryWatch, RoleExpiry } from './expiry.js';

export interface ExpiryAlert extends ExpiryView {
  type: 'signet.expiry';
  warnSeconds: number;
}

export interface AlertLogger {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
}

export interface ExpiryAlertsOptions {
  url: string;
  warnMs: number;
  retryDelaysMs: readonly number[];
  now: () => Date;
  log: AlertLogger;
  registry: Registry;
  /** one POST's deadline */
  timeoutMs?: number;
}

const MAX_QUEUE = 10_000;

function alertKey(i: RoleExpiry): string {
  return JSON.stringify([i.gun, i.role, i.kind, i.version, i.keyId ?? '']);
}

export class ExpiryAlerts {
  readonly #opts: ExpiryAlertsOptions;
  /** keys queued, being sent or delivered */
  readonly #seen = new Set<string>();
  readonly #queue: { key: string; alert: ExpiryAlert }[] = [];
  readonly #sent: Counter<'outcome'>;
  #running: Promise<void> | undefined;
  #closed = false;
  readonly #timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  constructor(opts: ExpiryAlertsOptions) {
    this.#opts = opts;
    this.#sent = new Counter({
      name: 'signet_expiry_alerts_total',
      help: 'Expiry webhook POSTs by outcome (sent, retried, failed = given up)',
      labelNames: ['outcome'] as const,
      registers: [opts.registry],
    });
  }

  /** Subscribes to the watch: each check queues the new alerts. */
  attach(watch: ExpiryWatch): void {
    watch.onChecked((items) => this.check(items));
  }

  check(items: readonly RoleExpiry[]): void {
    const now = this.#opts.now();
    const limit = now.getTime() + this.#opts.warnMs;
    for (const i of items) {
      if (i.heldBy === 'server' || i.expires.getTime() > limit) continue;
      const key = alertKey(i);
      if (this.#seen.has(key) || this.#queue.length >= MAX_QUEUE) continue;
      this.#seen.add(key);
      const left = secondsLeft(i, now);
      this.#queue.push({
        key,
        alert: {
          type: 'signet.expiry',
          ...expiryView(i, now),
          warnSeconds: Math.floor(this.#opts.warnMs / 1000),
        },
      });
      if (left < 0)
        this.#opts.log.warn({ gun: i.gun, role: i.role, kind: i.kind }, 'client-held trust data has expired');
    }
    this.#running ??= this.#drain().finally(() => (this.#running = undefined));
  }

  /** Resolves when the queue is empty (tests). */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers) {
      clearTimeout(t.timer);
      t.resolve();
    }
    await this.#running;
  }

  async #drain(): Promise<void> {
    for (let next = this.#queue.shift(); next !== undefined && !this.#closed; next = this.#queue.shift()) {
      const ok = await this.#deliver(next.alert);
      if (!ok) this.#seen.delete(next.key);
    }
  }

  async #deliver(alert: ExpiryAlert): Promise<boolean> {
    const delays = this.#opts.retryDelaysMs;
    for (let attempt = 0; attempt <= delays.length && !this.#closed; attempt++) {
      const problem = await this.#post(alert);
      if (problem === undefined) {
        this.#sent.inc({ outcome: 'sent' });
        this.#opts.log.info({ gun: alert.gun, role: alert.role, kind: alert.kind }, 'expiry alert sent');
        return true;
      }
      const wait = delays[attempt];
      if (wait === undefined) {
        this.#sent.inc({ outcome: 'failed' });
        this.#opts.log.warn({ gun: alert.gun, role: alert.role, problem }, 'expiry alert not delivered; giving up');
        return false;
      }
      this.#sent.inc({ outcome: 'retried' });
      await this.#sleep(wait);
    }
    return false;
  }

  /** undefined when delivered, else what went wrong (never the URL: it may carry a token). */
  async #post(alert: ExpiryAlert): Promise<string | undefined> {
    try {
      const res = await fetch(this.#opts.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alert),
        redirect: 'error',
        signal: AbortSignal.timeout(this.#opts.timeoutMs ?? 10_000),
      });
      await res.body?.cancel().catch(() => undefined);
      return res.ok ? undefined : `HTTP ${res.status}`;
    } catch (err) {
      return (err as Error).name === 'TimeoutError' ? 'timed out' : 'connection failed';
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = {
        timer: setTimeout(() => {
          this.#timers.delete(t);
          resolve();
        }, ms),
        resolve,
      };
      t.timer.unref();
      this.#timers.add(t);
    });
  }
}
