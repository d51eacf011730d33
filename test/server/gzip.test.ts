/**
 * Metadata GETs with `Accept-Encoding: gzip` (what Go's client sends): compressed once per stored
 * version, identical after decompression, with Content-Length of the compressed body and Vary, on
 * the raw fast path (cached current metadata) and the Fastify path (first GET, by checksum/version).
 */
import crypto from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptsGzip } from '../../src/server/encoding.js';
import { httpInjector, TestRepo, type Injector } from './helpers.js';
import { startTestServer, type StartedServer } from './start-helper.js';

let srv: StartedServer;
let http: Injector & { close(): Promise<void> };
let repo: TestRepo;

beforeAll(async () => {
  srv = await startTestServer({ insecureHttp: true });
  http = await httpInjector(srv.url);
  repo = new TestRepo(http, 'gzip/test');
  await repo.init();
  for (let i = 0; i < 300; i++) repo.addTarget(`t${i}`, `content ${i}`);
  expect((await repo.publish()).statusCode).toBe(200);
});

afterAll(async () => {
  await http.close();
  await srv.dispose();
});

const get = (url: string, encoding?: string) =>
  http.inject({ method: 'GET', url, ...(encoding !== undefined ? { headers: { 'accept-encoding': encoding } } : {}) });

describe('gzip metadata GETs', () => {
  it('sends targets.json gzip-compressed to a client that accepts it, on the first and the cached GET', async () => {
    const plain = await get(repo.url('targets.json'));
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toBe('Accept-Encoding');
    expect(Number(plain.headers['content-length'])).toBe(plain.rawPayload.length);
    srv.signet.clearCaches(); // the first compressed GET takes the Fastify path, the second the cached fast path
    for (let i = 0; i < 2; i++) {
      const z = await get(repo.url('targets.json'), 'gzip');
      expect(z.statusCode).toBe(200);
      expect(z.headers['content-encoding']).toBe('gzip');
      expect(z.headers.vary).toBe('Accept-Encoding');
      expect(Number(z.headers['content-length'])).toBe(z.rawPayload.length);
      expect(z.rawPayload.length).toBeLessThan(plain.rawPayload.length);
      expect(gunzipSync(z.rawPayload).equals(plain.rawPayload)).toBe(true);
    }
  });

  it('compresses by-checksum and by-version GETs the same way', async () => {
    const plain = await get(repo.url('targets.json'));
    const sha = crypto.createHash('sha256').update(plain.rawPayload).digest('hex');
    for (const url of [repo.url(`targets.${sha}.json`), repo.url('1.targets.json')]) {
      const z = await get(url, 'gzip, deflate');
      expect(z.statusCode).toBe(200);
      expect(z.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(z.rawPayload).equals(plain.rawPayload)).toBe(true);
    }
  });

  it('sends plain bytes when gzip is refused, and small files uncompressed', async () => {
    const refused = await get(repo.url('targets.json'), 'gzip;q=0, identity');
    expect(refused.headers['content-encoding']).toBeUndefined();
    const ts = await get(repo.url('timestamp.json'), 'gzip');
    expect(ts.statusCode).toBe(200);
    expect(ts.headers['content-encoding']).toBeUndefined();
    expect(ts.headers.vary).toBe('Accept-Encoding');
    expect(JSON.parse(ts.body)).toHaveProperty('signed');
  });
});

describe('acceptsGzip', () => {
  it.each([
    ['gzip', true],
    ['gzip, deflate, br', true],
    ['deflate, GZIP;q=0.5', true],
    ['x-gzip', true],
    ['gzip;q=0', false],
    ['identity', false],
    ['*', true],
    ['*;q=0', false],
    ['gzip;q=0, *', false],
    ['', false],
  ])('%j → %s', (header, ok) => {
    expect(acceptsGzip(header)).toBe(ok);
  });
  it('reads no header as identity only', () => expect(acceptsGzip(undefined)).toBe(false));
});
