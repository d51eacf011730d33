/**
 * Prometheus metrics (`GET /metrics`): requests and latency by route and status, publishes by
 * outcome, re-signs, and the number of GUNs. One registry per app (no global state).
 *
 * A scrape must cost nothing the database feels: the GUN count is counted in the background at
 * most once per `gunCountRefreshMs` (one query in flight at a time) and a scrape reads the last
 * count; only the very first scrape waits for the first count.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServerMetrics {
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  latency: Histogram<'route'>;
  publishes: Counter<'outcome'>;
  resigns: Counter<'role'>;
}

/** The last GUN count, re-counted at most once per `intervalMs`, one count at a time. */
class GunCount {
  #value: number | undefined;
  #lastStart = -Infinity;
  #inflight: Promise<void> | undefined;

  constructor(
    private readonly count: () => Promise<number>,
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  /** Starts a re-count when due; resolves at once unless no count has ever finished. */
  async current(): Promise<number | undefined> {
    const t = this.now();
    if (this.#inflight === undefined && t - this.#lastStart >= this.intervalMs) {
      this.#lastStart = t;
      this.#inflight = this.count().then(
        (n) => {
          this.#value = n;
        },
        () => {
          // storage down: keep the last value; health reports it
        },
      );
      void this.#inflight.finally(() => (this.#inflight = undefined));
    }
    if (this.#value === undefined && this.#inflight !== undefined) await this.#inflight;
    return this.#value;
  }
}

export function createMetrics(opts: {
  countGuns: () => Promise<number>;
  defaultMetrics?: boolean;
  /** how often the GUN count may be re-counted (`ServerOptions.gunCountRefreshMs`) */
  gunCountRefreshMs: number;
  now?: () => number;
}): ServerMetrics {
  const guns = new GunCount(opts.countGuns, opts.gunCountRefreshMs, opts.now ?? Date.now);
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'signet_' });
  const requests = new Counter({
    name: 'signet_http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'signet_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const publishes = new Counter({
    name: 'signet_publishes_total',
    help: 'Publish (atomic update) requests by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const resigns = new Counter({
    name: 'signet_resigns_total',
    help: 'Server-side re-signing of expiring metadata on read',
    labelNames: ['role'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'signet_guns',
    help: 'Number of GUNs with stored metadata',
    registers: [registry],
    async collect() {
      const n = await guns.current();
      if (n !== undefined) this.set(n);
    },
  });
  return { registry, requests, latency, publishes, resigns };
}
