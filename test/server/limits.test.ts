/**
 * Bounded resources and safe defaults: anonymous writes refused unless allowed, the
 * key-request rate, the failed-auth backoff, the publish-body budget, the sweep of never-published
 * server keys, and the health body naming the dependency only.
 */
import { afterAll, describe, expect, it } from 'vitest';
import bcrypt from 'bcryptjs';
import { buildApp, createAuthorizer } from '../../src/server/index.js';
import { isLoopback } from '../../src/server/start.js';
import { admission, AuthBackoff } from '../../src/server/limits.js';
import { DEFAULT_SERVER_OPTIONS } from '../../src/server/options.js';
import { HttpError } from '../../src/server/errors.js';
import { TestRepo, errorOf, testServer, type TestServer } from './helpers.js';

const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

async function appWith(deps: Partial<Parameters<typeof buildApp>[0]>) {
  const base = await testServer();
  servers.push(base);
  const signet = buildApp({ store: base.store, signer: base.signer, ...deps });
  await signet.app.ready();
  servers.push({
    ...base,
    async close() {
      await signet.app.close();
    },
  });
  return signet.app;
}

const GUN = 'example.com/limits/app';

describe('anonymous writes', () => {
  it('are refused (403 DENIED, JSON) when not allowed; anonymous reads stay open', async () => {
    const app = await appWith({ anonymousWrites: false });
    for (const [method, url] of [
      ['POST', `/v2/${GUN}/_trust/tuf`],
      ['GET', `/v2/${GUN}/_trust/tuf/timestamp.key`],
      ['POST', `/v2/${GUN}/_trust/tuf/snapshot.key`],
      ['DELETE', `/v2/${GUN}/_trust/tuf`],
    ] as const) {
      const r = await app.inject({ method, url });
      expect(r.statusCode, `${method} ${url}`).toBe(403);
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(errorOf(r.body).code).toBe('DENIED');
      expect(JSON.stringify(errorOf(r.body).detail)).toContain('--allow-anonymous-writes');
    }
    expect((await app.inject({ method: 'GET', url: `/v2/${GUN}/_trust/tuf/root.json` })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/v2/' })).statusCode).toBe(200);
  });

  it('are allowed when allowed (the default of buildApp; startServer allows them on loopback only)', async () => {
    const app = await appWith({ anonymousWrites: true });
    expect((await app.inject({ method: 'GET', url: `/v2/${GUN}/_trust/tuf/timestamp.key` })).statusCode).toBe(200);
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('localhost')).toBe(true);
    expect(isLoopback('0.0.0.0')).toBe(false);
    expect(isLoopback('10.1.2.3')).toBe(false);
  });

  it('under htpasswd auth: anonymous reads allowed, anonymous writes 401, users may write', async () => {
    const hash = bcrypt.hashSync('s3cret', 5).replace(/^\$2b\$/, '$2y$');
    const auth = createAuthorizer({ type: 'htpasswd', file: 'htpasswd', text: `alice:${hash}\n` });
    const app = await appWith({ auth });
    const alice = { authorization: 'Basic ' + Buffer.from('alice:s3cret').toString('base64') };
    expect((await app.inject({ method: 'GET', url: `/v2/${GUN}/_trust/tuf/root.json` })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: `/v2/${GUN}/_trust/tuf/timestamp.key` })).statusCode).toBe(401);
    const w = await app.inject({ method: 'GET', url: `/v2/${GUN}/_trust/tuf/timestamp.key`, headers: alice });
    expect(w.statusCode).toBe(200);
  });
});

describe('rate limits', () => {
  it('key requests per address: 429 with Retry-After after the burst', async () => {
    const app = await appWith({ options: { keyRequestBurst: 3, keyRequestsPerMinute: 1 } });
    const codes: number[] = [];
    let last;
    for (let i = 0; i < 5; i++) {
      last = await app.inject({ method: 'POST', url: `/v2/${GUN}/k${i}/_trust/tuf/timestamp.key` });
      codes.push(last.statusCode);
    }
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    expect(Number(last?.headers['retry-after'])).toBeGreaterThan(0);
    expect(errorOf(last?.body ?? '').code).toBe('TOOMANYREQUESTS');
  });

  it('failed authentication: backoff per address (429 Retry-After), anonymous reads unaffected', async () => {
    const hash = bcrypt.hashSync('right', 5);
    const auth = createAuthorizer({ type: 'htpasswd', file: 'htpasswd', text: `bob:${hash}\n` });
    const app = await appWith({ auth });
    const as = (pw: string) => ({ authorization: 'Basic ' + Buffer.from(`bob:${pw}`).toString('base64') });
    const codes: number[] = [];
    let last;
    for (let i = 0; i < 8; i++) {
      last = await app.inject({ method: 'GET', url: '/v2/', headers: as(`guess${i}`) });
      codes.push(last.statusCode);
    }
    process.stdout.write(`failed-auth status codes: ${codes.join(' ')}\n`);
    expect(codes.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(codes.slice(6)).toEqual([429, 429]);
    expect(Number(last?.headers['retry-after'])).toBeGreaterThan(0);
    // even the right password waits out the backoff; reads without credentials go on
    expect((await app.inject({ method: 'GET', url: '/v2/', headers: as('right') })).statusCode).toBe(429);
    expect((await app.inject({ method: 'GET', url: `/v2/${GUN}/_trust/tuf/root.json` })).statusCode).toBe(404);
  });

  it('the backoff doubles up to its maximum and a success forgets it', () => {
    let now = 0;
    const b = new AuthBackoff(2, 8000, 60_000, () => now);
    for (let i = 0; i < 2; i++) b.failed('a');
    expect(b.blockedFor('a')).toBe(0);
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      b.failed('a');
      waits.push(b.blockedFor('a'));
    }
    expect(waits).toEqual([1, 2, 4, 8, 8, 8]);
    now += 9000;
    expect(b.blockedFor('a')).toBe(0);
    b.succeeded('a');
    b.failed('a');
    expect(b.blockedFor('a')).toBe(0);
  });
});

describe('publish body budget', () => {
  it('reserves Content-Length (or the body limit when unknown); beyond the budget 503 UNAVAILABLE', () => {
    const a = admission({ ...DEFAULT_SERVER_OPTIONS, maxInflightBodyBytes: 1000, bodyLimit: 800 }, false);
    const r1 = a.admit('publish', '1.2.3.4', '600');
    expect(r1).toBeTypeOf('function');
    let refused: unknown;
    try {
      a.admit('publish', '1.2.3.5', undefined); // unknown length counts as 800
    } catch (e) {
      refused = e;
    }
    expect(refused).toBeInstanceOf(HttpError);
    expect((refused as HttpError).status).toBe(503);
    expect((refused as HttpError).headers['retry-after']).toBe('1');
    const r2 = a.admit('publish', '1.2.3.6', '400');
    r1?.();
    r1?.(); // releasing twice gives back nothing more
    r2?.();
    expect(a.admit('publish', '1.2.3.7', '1000')).toBeTypeOf('function');
  });
});

describe('never-published server keys', () => {
  it('are deleted past the age threshold; keys of published repositories stay', async () => {
    const srv = await testServer();
    servers.push(srv);
    const app = srv.signet.app;
    expect(
      (await app.inject({ method: 'GET', url: '/v2/example.com/sweep/never/_trust/tuf/timestamp.key' })).statusCode,
    ).toBe(200);
    const repo = await new TestRepo(srv, 'example.com/sweep/published').init();
    expect((await repo.publish()).statusCode).toBe(200);
    expect(await srv.store.keys.deleteUnpublished(new Date(Date.now() - 60_000))).toBe(0); // too young
    expect(await srv.store.keys.deleteUnpublished(new Date(Date.now() + 1000))).toBe(1);
    expect(await srv.store.keys.listFor('example.com/sweep/never', 'timestamp')).toEqual([]);
    expect((await srv.store.keys.listFor('example.com/sweep/published', 'timestamp')).length).toBe(1);
  });
});

describe('health', () => {
  it('names the failed dependency, not its address', async () => {
    const srv = await testServer();
    servers.push(srv);
    await srv.store.close();
    const r = await srv.signet.app.inject({ method: 'GET', url: '/_notary_server/health' });
    expect(r.statusCode).toBe(503);
    expect(JSON.parse(r.body)).toEqual({ 'DB operational': 'database unavailable' });
    expect(r.body).not.toMatch(/\/tmp|127\.0\.0\.1|signet\.db|postgres/);
  });
});
