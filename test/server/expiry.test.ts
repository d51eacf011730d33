/**
 * Issue 12, expiry watched: with the server's clock moved forward (`now` injected), the expiry
 * gauges of /metrics count down for every role of a repository and its root certificate, and the
 * webhook gets one alert (retried after a failure) for a client-held delegation entering the
 * warning window; server-held roles are not alerted.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatExpires } from '../../src/tuf/index.js';
import { ecdsaKey, TestRepo, testServer, type TestServer } from './helpers.js';

const DAY = 24 * 3600 * 1000;
const GUN = 'example.com/expiry/app';

interface Hook {
  server: Server;
  url: string;
  bodies: Record<string, unknown>[];
  /** answer the next `n` POSTs with 503 */
  failNext: number;
  attempts: number;
}

async function webhook(): Promise<Hook> {
  const hook: Hook = { server: undefined as unknown as Server, url: '', bodies: [], failNext: 0, attempts: 0 };
  hook.server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hook.attempts++;
      if (hook.failNext > 0) {
        hook.failNext--;
        res.writeHead(503).end();
        return;
      }
      expect(req.headers['content-type']).toBe('application/json');
      hook.bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.server.listen(0, '127.0.0.1', r));
  hook.url = `http://127.0.0.1:${(hook.server.address() as AddressInfo).port}/alerts?token=secret`;
  return hook;
}

/** gauge values of one metric by label set, from the Prometheus text */
function gauge(body: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = new RegExp(`^${name}\\{([^}]*)\\} (-?[0-9.e+]+)$`, 'gm');
  for (const m of body.matchAll(re)) out.set(m[1] as string, Number(m[2]));
  return out;
}

let nowMs = Date.now();
const start = nowMs;
let srv: TestServer;
let hook: Hook;
let repo: TestRepo;

beforeAll(async () => {
  hook = await webhook();
  srv = await testServer({
    now: () => new Date(nowMs),
    options: { expiryWebhook: hook.url, expiryRetryDelaysMs: [20, 20], expiryRefreshMs: 0 },
  });
  repo = await new TestRepo(srv, GUN).init();
  const releases = ecdsaKey();
  repo.addDelegation('targets/releases', [releases]);
  // the client-held delegation expires first: in 60 days
  (repo.delegations.get('targets/releases') as { signed: { expires: string } }).signed.expires = formatExpires(
    new Date(start + 60 * DAY),
  );
  repo.addTarget('v1', 'image v1', 'targets/releases');
  expect((await repo.publish()).statusCode).toBe(200);
});
afterAll(async () => {
  await srv.close();
  await new Promise((r) => hook.server.close(r));
});

/**
 * A scrape answers from the last finished check and starts the next one (expiry.ts): scrape, let
 * that check and its alerts finish, and scrape again.
 */
async function scrape(): Promise<string> {
  await srv.signet.app.inject({ method: 'GET', url: '/metrics' });
  await srv.signet.operator.watch.settled();
  await srv.signet.operator.alerts?.idle();
  const r = await srv.signet.app.inject({ method: 'GET', url: '/metrics' });
  expect(r.statusCode).toBe(200);
  await srv.signet.operator.watch.settled();
  await srv.signet.operator.alerts?.idle();
  return r.body;
}

describe('expiry metrics and alerts', () => {
  it('reports seconds left per repository and role, and the root certificate', async () => {
    const body = await scrape();
    const meta = gauge(body, 'signet_metadata_expiry_seconds');
    const rel = meta.get(`gun="${GUN}",role="targets/releases",held_by="client"`) as number;
    expect(rel).toBeGreaterThan(60 * 86400 - 120);
    expect(rel).toBeLessThanOrEqual(60 * 86400);
    for (const role of ['root', 'targets', 'snapshot'])
      expect(meta.get(`gun="${GUN}",role="${role}",held_by="client"`)).toBeGreaterThan(365 * 86400);
    expect(meta.get(`gun="${GUN}",role="timestamp",held_by="server"`)).toBeGreaterThan(0);
    const certs = gauge(body, 'signet_root_certificate_expiry_seconds');
    expect([...certs.keys()]).toEqual([`gun="${GUN}",key_id="${repo.rootKeys[0]?.pub.id}"`]);
    expect([...certs.values()][0]).toBeGreaterThan(365 * 86400);
    // nothing within 30 days yet: the timestamp (14 days) is the server's to renew, so no alert
    expect(hook.attempts).toBe(0);
  });

  it('with the clock 45 days on: the delegation is 15 days from expiry and alerted once, after a retry', async () => {
    nowMs = start + 45 * DAY;
    hook.failNext = 1;
    const body = await scrape();
    const rel = gauge(body, 'signet_metadata_expiry_seconds').get(
      `gun="${GUN}",role="targets/releases",held_by="client"`,
    ) as number;
    expect(rel).toBeGreaterThan(15 * 86400 - 120);
    expect(rel).toBeLessThanOrEqual(15 * 86400);
    expect(hook.attempts).toBe(2);
    expect(hook.bodies).toEqual([
      {
        type: 'signet.expiry',
        gun: GUN,
        role: 'targets/releases',
        kind: 'metadata',
        version: 1,
        expires: new Date(start + 60 * DAY).toISOString(),
        secondsLeft: expect.any(Number),
        expired: false,
        warnSeconds: 30 * 86400,
      },
    ]);
    expect(body).toMatch(/^signet_expiry_alerts_total\{outcome="retried"\} 1$/m);
    // a later check, one more day on, does not alert the same role and version again
    nowMs += DAY;
    await scrape();
    expect(hook.bodies).toHaveLength(1);
  });

  it('with the clock 4 years on: every client-held role is expired (negative) and alerted', async () => {
    nowMs = start + 4 * 365 * DAY;
    const body = await scrape();
    const meta = gauge(body, 'signet_metadata_expiry_seconds');
    for (const role of ['targets', 'snapshot', 'targets/releases'])
      expect(meta.get(`gun="${GUN}",role="${role}",held_by="client"`)).toBeLessThan(0);
    const alerted = hook.bodies.map((b) => `${b.role as string}:${String(b.expired)}`).sort();
    expect(alerted).toEqual(['snapshot:true', 'targets/releases:false', 'targets:true']);
    expect(hook.bodies.some((b) => b.role === 'timestamp')).toBe(false);
  });
});
