/**
 * Issue 16 finding 4: `/metrics` is cheap. The GUN count is counted at most once per refresh
 * interval whatever the number of scrapes, a scrape never waits for the database after the first,
 * and a health check sent during a burst of scrapes is not held up by them. `--metrics-listen`
 * moves the metrics to a listener of their own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, startServer, type SignetApp } from '../../src/server/index.js';
import type { MetaStore } from '../../src/storage/index.js';
import { TestRepo, testServer, type TestServer } from './helpers.js';

/** The store, with countGuns counted (and optionally made to block the event loop like a slow SQLite query). */
function countingStore(store: MetaStore, blockMs = 0): { store: MetaStore; calls: () => number } {
  let calls = 0;
  const wrapped = new Proxy(store, {
    get(target, prop, recv) {
      if (prop === 'countGuns')
        return async () => {
          calls++;
          const until = Date.now() + blockMs;
          while (Date.now() < until) {
            /* a synchronous query holds the event loop */
          }
          return target.countGuns();
        };
      return Reflect.get(target, prop, recv) as unknown;
    },
  });
  return { store: wrapped, calls: () => calls };
}

const gunsOf = (body: string): number => Number(/^signet_guns (\d+)$/m.exec(body)?.[1]);

let srv: TestServer;
beforeAll(async () => {
  srv = await testServer();
  for (const gun of ['example.com/a', 'example.com/b', 'example.com/c']) {
    const r = await new TestRepo(srv, gun).init({ serverSnapshot: true });
    expect((await r.publish()).statusCode).toBe(200);
  }
});
afterAll(async () => srv.close());

describe('/metrics cost', () => {
  let app: SignetApp | undefined;
  afterAll(async () => app?.app.close());

  it('100 scrapes (10 at a time) count the GUNs once', async () => {
    const c = countingStore(srv.store);
    app = buildApp({ store: c.store, signer: srv.signer, processMetrics: true });
    for (let i = 0; i < 10; i++) {
      const rs = await Promise.all(
        Array.from({ length: 10 }, () => app!.app.inject({ method: 'GET', url: '/metrics' })),
      );
      for (const r of rs) {
        expect(r.statusCode).toBe(200);
        expect(gunsOf(r.body)).toBe(3);
      }
    }
    expect(c.calls()).toBe(1);
  });

  it('re-counts after the refresh interval, in the background, one count at a time', async () => {
    const c = countingStore(srv.store);
    const interval = 2000;
    const a = buildApp({ store: c.store, signer: srv.signer, options: { gunCountRefreshMs: interval } });
    try {
      const scrape = async (): Promise<number> => gunsOf((await a.app.inject({ method: 'GET', url: '/metrics' })).body);
      const t0 = Date.now();
      expect(await scrape()).toBe(3);
      const r = await new TestRepo(srv, 'example.com/d').init({ serverSnapshot: true });
      expect((await r.publish()).statusCode).toBe(200);
      await new Promise((res) => setTimeout(res, Math.max(0, interval + 100 - (Date.now() - t0))));
      // due: the first of these starts one re-count, the others read the last count
      expect(await Promise.all(Array.from({ length: 20 }, scrape))).toContain(3);
      expect(c.calls()).toBe(2);
      await new Promise((res) => setTimeout(res, 20));
      expect(await scrape()).toBe(4);
      expect(c.calls()).toBe(2);
    } finally {
      await a.app.close();
    }
  });

  it('a health check during 20 parallel scrapes is not held up by GUN counting', async () => {
    // each count blocks the event loop 100 ms, as a synchronous COUNT(DISTINCT gun) over many GUNs
    // did: 20 scrapes counting each time held everything for 2 s
    const c = countingStore(srv.store, 100);
    const a = buildApp({ store: c.store, signer: srv.signer });
    try {
      const scrapes = Array.from({ length: 20 }, () => a.app.inject({ method: 'GET', url: '/metrics' }));
      const t0 = performance.now();
      const h = await a.app.inject({ method: 'GET', url: '/_notary_server/health' });
      const ms = performance.now() - t0;
      await Promise.all(scrapes);
      expect(h.statusCode).toBe(200);
      expect(c.calls()).toBe(1);
      expect(ms).toBeLessThan(1000); // generous bound; one count is 100 ms
    } finally {
      await a.app.close();
    }
  });
});

describe('--metrics-listen', () => {
  it('serves /metrics only on its own listener; the API listener has none', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'signet-metrics-'));
    const s = await startServer({
      listen: '127.0.0.1:0',
      metricsListen: '127.0.0.1:0',
      dataDir,
      tls: { mode: 'insecure-http' },
      signerPassphrase: 'metrics-test-passphrase',
      logger: pino({ level: 'silent' }),
      handleSignals: false,
      auditLog: false,
    });
    try {
      expect(s.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const own = await fetch(s.metricsUrl as string);
      expect(own.status).toBe(200);
      expect(await own.text()).toContain('signet_guns 0');
      expect((await fetch(new URL('/v2/', s.metricsUrl))).status).toBe(404);
      expect((await fetch(`${s.url}/metrics`)).status).toBe(404);
      expect((await fetch(`${s.url}/_notary_server/health`)).status).toBe(200);
    } finally {
      await s.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a malformed address before opening anything', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'signet-metrics-'));
    try {
      await expect(
        startServer({
          listen: '127.0.0.1:0',
          metricsListen: 'nowhere',
          dataDir,
          tls: { mode: 'insecure-http' },
          logger: pino({ level: 'silent' }),
          handleSignals: false,
        }),
      ).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('--metrics-listen') });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
