/**
 * The operator's views of one app, wired in one place so `buildApp` stays small: the expiry watch
 * and its gauges (expiry.ts), expiry alerts to a webhook (expiry-alerts.ts), the rate series and
 * the dashboard (dashboard.ts), and the audit reader the dashboard shows.
 */
import type { ServerSigner } from '../signer/index.js';
import type { MetaStore } from '../storage/index.js';
import { parseRoot } from '../tuf/index.js';
import { storeAuditReader, type AuditReader } from './audit-recent.js';
import { Dashboard } from './dashboard.js';
import { ExpiryAlerts, type AlertLogger } from './expiry-alerts.js';
import { ExpiryWatch, registerExpiryMetrics } from './expiry.js';
import type { Reply } from './handlers.js';
import type { ServerMetrics } from './metrics.js';
import type { ServerOptions } from './options.js';
import { RateSeries } from './rates.js';
import type { RouteMatch } from './routes.js';

export interface OperatorViews {
  handlers: Record<'dashboard' | 'dashboard_asset' | 'dashboard_api', (m: RouteMatch) => Promise<Reply>>;
  watch: ExpiryWatch;
  alerts: ExpiryAlerts | undefined;
  rates: RateSeries;
  close(): Promise<void>;
}

export function createOperatorViews(deps: {
  store: MetaStore;
  /** a signer whose keys are not in the key table (remote) says itself which snapshot keys it holds */
  signer?: ServerSigner | undefined;
  metrics: ServerMetrics;
  opts: ServerOptions;
  now: () => Date;
  log: AlertLogger;
  /** where the dashboard reads audit entries; default: the newest entries of the store's trail */
  auditReader?: AuditReader | undefined;
}): OperatorViews {
  const { opts, now } = deps;
  const holds = deps.signer?.holds?.bind(deps.signer);
  const watch = new ExpiryWatch(deps.store, {
    refreshMs: opts.expiryRefreshMs,
    now,
    snapshotHeld: holds && ((gun, rootBytes) => holds(gun, 'snapshot', parseRoot(rootBytes).signed)),
  });
  registerExpiryMetrics(deps.metrics.registry, watch, now);

  let alerts: ExpiryAlerts | undefined;
  let timer: NodeJS.Timeout | undefined;
  if (opts.expiryWebhook !== '') {
    alerts = new ExpiryAlerts({
      url: opts.expiryWebhook,
      warnMs: opts.expiryWarnMs,
      retryDelaysMs: opts.expiryRetryDelaysMs,
      now,
      log: deps.log,
      registry: deps.metrics.registry,
    });
    alerts.attach(watch);
    // time passes without publishes: check on a timer too, not only when /metrics is scraped
    timer = setInterval(() => void watch.current().catch(() => undefined), opts.expiryRefreshMs);
    timer.unref();
    void watch.current().catch(() => undefined);
  }

  const rates = new RateSeries(deps.metrics, { sampleMs: opts.dashboardSampleMs });
  rates.start();

  const reader = deps.auditReader ?? storeAuditReader(deps.store.audit);

  const dash = new Dashboard({ store: deps.store, watch, rates, audit: reader, now, warnMs: opts.expiryWarnMs });
  return {
    handlers: {
      dashboard: () => dash.page(),
      dashboard_asset: (m) => dash.asset(m),
      dashboard_api: (m) => dash.api(m),
    },
    watch,
    alerts,
    rates,
    async close() {
      if (timer !== undefined) clearInterval(timer);
      rates.stop();
      await alerts?.close();
    },
  };
}
