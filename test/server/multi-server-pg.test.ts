/** Several Signet servers on one PostgreSQL database: publishes serialise, reads converge within the cache TTL. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTargets, parseTimestamp } from '../../src/tuf/index.js';
import { startPostgres } from '../harness/postgres.js';
import { TestRepo, testServer, type TestServer } from './helpers.js';

let pg: { url: string; stop(): Promise<void> };
let a: TestServer;
let b: TestServer;
beforeAll(async () => {
  pg = await startPostgres();
  a = await testServer({ database: pg.url, options: { cacheTtlMs: 200 } });
  b = await testServer({ database: pg.url, options: { cacheTtlMs: 200 } });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await pg?.stop();
});

describe('two servers, one PostgreSQL database', () => {
  it('a publish through one server is served by the other within the cache TTL, signed with the shared keys', async () => {
    const viaA = await new TestRepo(a, 'example.com/multi/app').init({ serverSnapshot: true });
    viaA.addTarget('v1', '1');
    expect((await viaA.publish()).statusCode).toBe(200);
    const viaB = new TestRepo(b, viaA.gun);
    expect((await viaB.get('targets.json')).rawPayload.equals(viaA.files.get('targets') as Buffer)).toBe(true);
    viaA.addTarget('v2', '2');
    expect((await viaA.publish()).statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, 250));
    expect(Object.keys(parseTargets('targets', (await viaB.get('targets.json')).rawPayload).signed.targets)).toEqual([
      'v1',
      'v2',
    ]);
    // server B can publish too: it decrypts the timestamp/snapshot keys A created
    viaA.http = b.signet.app as never;
    viaA.addTarget('v3', '3');
    const r = await viaA.publish();
    expect(r.statusCode, r.body).toBe(200);
    expect(parseTimestamp((await viaB.get('timestamp.json')).rawPayload).signed.version).toBe(3);
  });

  it('concurrent publishes of the same version through both servers: exactly one wins, the other gets VERSION', async () => {
    const repo = await new TestRepo(a, 'example.com/multi/race').init({ serverSnapshot: true });
    expect((await repo.publish()).statusCode).toBe(200);
    repo.addTarget('x', 'x');
    const parts = await repo.parts();
    const { multipart } = await import('./helpers.js');
    const send = (srv: TestServer) => {
      const { body, contentType } = multipart(parts);
      return srv.signet.app.inject({
        method: 'POST',
        url: repo.url(''),
        headers: { 'content-type': contentType },
        payload: body,
      });
    };
    const [ra, rb] = await Promise.all([send(a), send(b)]);
    expect([ra.statusCode, rb.statusCode].sort()).toEqual([200, 400]);
    const loser = ra.statusCode === 400 ? ra : rb;
    expect(JSON.parse(loser.body).errors[0].code).toBe('VERSION');
  });
});
