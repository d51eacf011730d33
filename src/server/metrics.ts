/**
 * Prometheus metrics (`GET /metrics`): requests and latency by route and status, publishes by
 * outcome, re-signs, and the number of GUNs. One registry per app (no global state).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServerMetrics {
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  latency: Histogram<'route'>;
  publishes: Counter<'outcome'>;
  resigns: Counter<'role'>;
}

export function createMetrics(opts: { countGuns: () => Promise<number>; defaultMetrics?: boolean }): ServerMetrics {
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
      try {
        this.set(await opts.countGuns());
      } catch {
        // storage down: keep the last value; health reports it
      }
    },
  });
  return { registry, requests, latency, publishes, resigns };
}
