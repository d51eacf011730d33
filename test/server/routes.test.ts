/** The route table: notary's responses byte for byte (fixtures), path cleaning, keys, changefeed, health, metrics. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestRepo, errorOf, testServer, type TestServer } from './helpers.js';

const ERR = path.join(import.meta.dirname, '../fixtures/vectors/notary/errors');
const fixture = (name: string): string => readFileSync(path.join(ERR, `${name}.body`), 'utf8');

let srv: TestServer;
let repo: TestRepo;
const gun = '127.0.0.1:5000/library/hello';
beforeAll(async () => {
  srv = await testServer();
  repo = await new TestRepo(srv, gun).init({ serverSnapshot: true });
  repo.addTarget('latest', 'x');
  expect((await repo.publish()).statusCode).toBe(200);
});
afterAll(async () => {
  await srv.close();
});

const get = (url: string, method: 'GET' | 'PUT' | 'HEAD' | 'DELETE' | 'POST' = 'GET') =>
  srv.signet.app.inject({ method, url });

describe('responses identical to notary-server 0.7 (captured fixtures)', () => {
  const cases: [string, 'GET' | 'PUT' | 'DELETE', string][] = [
    ['unknown-gun-root', 'GET', '/v2/127.0.0.1:5000/library/does-not-exist/_trust/tuf/root.json'],
    ['unknown-gun-timestamp', 'GET', '/v2/127.0.0.1:5000/library/does-not-exist/_trust/tuf/timestamp.json'],
    ['unknown-gun-by-version', 'GET', '/v2/127.0.0.1:5000/library/does-not-exist/_trust/tuf/1.root.json'],
    ['unknown-role', 'GET', `/v2/${gun}/_trust/tuf/foo.json`],
    ['unknown-checksum', 'GET', `/v2/${gun}/_trust/tuf/targets.${'0'.repeat(64)}.json`],
    ['unknown-version', 'GET', `/v2/${gun}/_trust/tuf/99.root.json`],
    ['unknown-delegation', 'GET', `/v2/${gun}/_trust/tuf/targets/nope.json`],
    ['bad-path', 'GET', `/v2/${gun}/whatever`],
    ['put-not-allowed', 'PUT', `/v2/${gun}/_trust/tuf/`],
    ['delete-unknown-gun', 'DELETE', '/v2/127.0.0.1:5000/library/does-not-exist/_trust/tuf/'],
    ['timestamp-key-unknown-role', 'GET', `/v2/${gun}/_trust/tuf/targets.key`],
    ['v2-root', 'GET', '/v2/'],
    ['root-path', 'GET', '/'],
  ];
  for (const [name, method, url] of cases) {
    it(`${name}: ${method} ${url}`, async () => {
      const r = await get(url, method);
      const headers = readFileSync(path.join(ERR, `${name}.headers`), 'utf8');
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(headers)?.[1]);
      expect(r.statusCode).toBe(status);
      expect(r.body).toBe(fixture(name));
      const ct = /Content-Type: (.*)/i.exec(headers)?.[1];
      if (ct !== undefined) expect(r.headers['content-type']).toBe(ct.trim());
    });
  }

  it('refuses a large body on a route that takes none (413)', async () => {
    const r = await srv.signet.app.inject({
      method: 'POST',
      url: `/v2/${gun}/_trust/tuf/timestamp.key`,
      payload: Buffer.alloc(100 * 1024),
    });
    expect(r.statusCode).toBe(413);
    expect(errorOf(r.body).code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('HEAD on metadata is the catch-all 404', async () => {
    const r = await get(`/v2/${gun}/_trust/tuf/root.json`, 'HEAD');
    expect(r.statusCode).toBe(404);
  });
});

describe('path cleaning instead of redirects', () => {
  it('serves //, trailing slashes and a doubled prefix like the clean path', async () => {
    const clean = await get(`/v2/${gun}/_trust/tuf/root.json`);
    for (const u of [`//v2//${gun}//_trust/tuf//root.json`, `/v2/${gun}/_trust/tuf/root.json/`]) {
      const r = await get(u);
      expect(r.statusCode, u).toBe(200);
      expect(r.rawPayload.equals(clean.rawPayload)).toBe(true);
    }
    expect((await get('/v2')).body).toBe('{}');
  });

  it('accepts a publish to a URL with a doubled slash (notary answers 301 there)', async () => {
    repo.addTarget('again', 'y');
    const { multipart } = await import('./helpers.js');
    const { body, contentType } = multipart(await repo.parts());
    const r = await srv.signet.app.inject({
      method: 'POST',
      url: `/v2/${gun}/_trust/tuf//`,
      headers: { 'content-type': contentType },
      payload: body,
    });
    expect(r.statusCode, r.body).toBe(200);
    repo.dirty.clear();
  });
});

describe('server keys', () => {
  it('GET timestamp.key is idempotent before first use and returns the key root lists afterwards', async () => {
    const a = await get('/v2/example.com/keys/fresh/_trust/tuf/timestamp.key');
    const b = await get('/v2/example.com/keys/fresh/_trust/tuf/timestamp.key');
    expect(a.statusCode).toBe(200);
    expect(a.body).toBe(b.body);
    expect(a.body).toMatch(/^\{"keytype":"ecdsa","keyval":\{"public":"[A-Za-z0-9+/=]+","private":null\}\}$/);
    expect(a.headers['content-type']).toBe('text/plain; charset=utf-8');
    const listed = await get(`/v2/${gun}/_trust/tuf/timestamp.key`);
    expect(JSON.parse(listed.body).keyval.public).toBe(repo.timestampPub?.public);
  });

  it('POST timestamp.key creates a new pending key each time', async () => {
    const a = await get(`/v2/${gun}/_trust/tuf/timestamp.key`, 'POST');
    const b = await get(`/v2/${gun}/_trust/tuf/timestamp.key`, 'POST');
    expect(a.statusCode).toBe(200);
    expect(a.body).not.toBe(b.body);
    // the root still lists the old key, which keeps signing
    const listed = await get(`/v2/${gun}/_trust/tuf/timestamp.key`);
    expect(JSON.parse(listed.body).keyval.public).toBe(repo.timestampPub?.public);
  });

  it('keeps private keys encrypted at rest', async () => {
    const rows = await srv.store.keys.listFor(gun, 'timestamp');
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.privateKey.subarray(0, 4).toString()).toBe('SGK1');
      expect(row.privateKey.includes(Buffer.from('-----BEGIN'))).toBe(false);
    }
  });
});

describe('changefeed, health, metrics', () => {
  it('lists timestamp updates per GUN and globally, in notary field names', async () => {
    const r = await get(`/v2/${gun}/_trust/changefeed?records=10`);
    expect(r.statusCode).toBe(200);
    const j = JSON.parse(r.body) as { count: number; records: Record<string, unknown>[] };
    expect(j.count).toBe(j.records.length);
    expect(j.count).toBeGreaterThanOrEqual(2);
    expect(Object.keys(j.records[0] ?? {})).toEqual(['ID', 'CreatedAt', 'GUN', 'Version', 'SHA256', 'Category']);
    expect(j.records[0]).toMatchObject({ GUN: gun, Category: 'update', Version: 1 });
    const all = JSON.parse((await get('/v2/_trust/changefeed?records=0')).body) as { count: number };
    expect(all.count).toBeGreaterThanOrEqual(j.count);
    const back = JSON.parse((await get(`/v2/${gun}/_trust/changefeed?records=-1&change_id=-1`)).body) as {
      records: { Version: number }[];
    };
    expect(back.records).toHaveLength(1);
  });

  it('refuses bad changefeed parameters with INVALID_PARAMETERS', async () => {
    for (const q of ['', '?records=abc', '?records=1&change_id=x', '?records=99999999999']) {
      const r = await get(`/v2/${gun}/_trust/changefeed${q}`);
      expect(r.statusCode, q).toBe(400);
      expect(errorOf(r.body).code).toBe('INVALID_PARAMETERS');
    }
  });

  it('health answers {} and metrics count requests, publishes and GUNs', async () => {
    const h = await get('/_notary_server/health');
    expect(h.statusCode).toBe(200);
    expect(h.body).toBe('{}');
    const m = await get('/metrics');
    expect(m.statusCode).toBe(200);
    expect(m.body).toContain('signet_http_requests_total{route="get_current",method="GET",status="200"}');
    expect(m.body).toMatch(/signet_publishes_total\{outcome="ok"\} \d+/);
    expect(m.body).toMatch(/signet_guns [1-9]/);
  });
});
