/** Tunables of the trust server, with named defaults (style Habit 6: limits live in the config type). */
export interface ServerOptions {
  /** whole publish body, bytes (default 100 MiB) */
  bodyLimit: number;
  /** one uploaded metadata file, bytes (default 50 MiB) */
  roleSizeLimit: number;
  /** parts in one publish (default 1000) */
  maxParts: number;
  /** Cache-Control max-age of current metadata, seconds (notary default 300) */
  maxAgeCurrent: number;
  /** Cache-Control max-age of by-checksum / by-version metadata, seconds (notary default 30 days) */
  maxAgeConsistent: number;
  /** how long a cached "current" view may be served without re-reading storage; 0 = until this process writes */
  cacheTtlMs: number;
  /** GUNs kept in the current-metadata cache */
  cacheMaxGuns: number;
  /** immutable (by checksum / version) files kept in memory */
  cacheMaxFiles: number;
  /** memory budget of each of the two caches (current files; immutable files), bytes */
  cacheMaxBytes: number;
  /** a timestamp expiring within this window is re-signed when read (default 1 day) */
  resignWindowMs: number;
  /** after a re-sign attempt that could not help (no key), wait this long before trying again */
  resignCooldownMs: number;
  /** log successful reads at this level ('debug' keeps the GET path cheap) */
  readLogLevel: 'info' | 'debug' | 'trace';
  /** publish body bytes being received at once, across all requests (503 beyond; default 256 MiB) */
  maxInflightBodyBytes: number;
  /** key requests (GET/POST …/{role}.key) per client address and minute, after a burst of `keyRequestBurst` */
  keyRequestsPerMinute: number;
  keyRequestBurst: number;
  /** the GUN count of /metrics is re-counted at most this often; scrapes in between read the last count */
  gunCountRefreshMs: number;
  /** expiry watch (src/server/expiry.ts): repositories re-checked at most this often */
  expiryRefreshMs: number;
  /** expiries within this window are alerted (webhook) and shown as "warning" on the dashboard (default 30 days) */
  expiryWarnMs: number;
  /** URL that expiry alerts are POSTed to as JSON; '' = no alerts */
  expiryWebhook: string;
  /** waits between the attempts of one alert (one attempt more than entries) */
  expiryRetryDelaysMs: readonly number[];
  /** the dashboard's rate charts take one sample of the counters this often */
  dashboardSampleMs: number;
}

export const DEFAULT_SERVER_OPTIONS: ServerOptions = {
  bodyLimit: 100 * 1024 * 1024,
  roleSizeLimit: 50 * 1024 * 1024,
  maxParts: 1000,
  maxAgeCurrent: 300,
  maxAgeConsistent: 2_592_000,
  cacheTtlMs: 0,
  cacheMaxGuns: 10_000,
  cacheMaxFiles: 20_000,
  cacheMaxBytes: 256 * 1024 * 1024,
  resignWindowMs: 24 * 60 * 60 * 1000,
  resignCooldownMs: 60_000,
  readLogLevel: 'debug',
  gunCountRefreshMs: 10_000,
  expiryRefreshMs: 30_000,
  expiryWarnMs: 30 * 24 * 60 * 60 * 1000,
  expiryWebhook: '',
  expiryRetryDelaysMs: [1_000, 5_000, 30_000, 120_000, 600_000],
  dashboardSampleMs: 60_000,
  maxInflightBodyBytes: 256 * 1024 * 1024,
  keyRequestsPerMinute: 60,
  keyRequestBurst: 120,
};
