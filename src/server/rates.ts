/**
 * Rates over time for the dashboard's charts: the publish and auth-failure counters of /metrics,
 * sampled every `sampleMs` into a fixed ring (one day at the default minute), so a chart costs one
 * array copy and nothing is counted twice.
 */
import type { ServerMetrics } from './metrics.js';

export interface RatePoint {
  /** end of the interval, ms since the epoch */
  t: number;
  /** publishes stored in the interval */
  published: number;
  /** publishes refused: the update failed verification (signatures, versions, hashes) or was malformed */
  rejected: number;
  /** requests answered 401 */
  authFailures: number;
}

interface Totals {
  published: number;
  rejected: number;
  authFailures: number;
}

export class RateSeries {
  readonly #metrics: ServerMetrics;
  readonly #now: () => number;
  readonly #capacity: number;
  readonly #points: RatePoint[] = [];
  #last: Totals | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(metrics: ServerMetrics, opts: { sampleMs: number; capacity?: number; now?: () => number }) {
    this.#metrics = metrics;
    this.#now = opts.now ?? Date.now;
    this.#capacity = opts.capacity ?? 1440;
    this.sampleMs = opts.sampleMs;
  }

  readonly sampleMs: number;

  start(): void {
    void this.sample();
    this.#timer = setInterval(() => void this.sample(), this.sampleMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #totals(): Promise<Totals> {
    const pub = await this.#metrics.publishes.get();
    const req = await this.#metrics.requests.get();
    let published = 0;
    let rejected = 0;
    for (const v of pub.values) {
      if (v.labels.outcome === 'ok') published += v.value;
      else if (v.labels.outcome === 'rejected') rejected += v.value;
    }
    let authFailures = 0;
    for (const v of req.values) if (v.labels.status === '401') authFailures += v.value;
    return { published, rejected, authFailures };
  }

  /** Takes one sample: the counts since the previous one (the first sample only sets the baseline). */
  async sample(): Promise<void> {
    const t = await this.#totals();
    const prev = this.#last;
    this.#last = t;
    if (prev === undefined) return;
    this.#points.push({
      t: this.#now(),
      published: t.published - prev.published,
      rejected: t.rejected - prev.rejected,
      authFailures: t.authFailures - prev.authFailures,
    });
    if (this.#points.length > this.#capacity) this.#points.shift();
  }

  points(): RatePoint[] {
    return [...this.#points];
  }
}
