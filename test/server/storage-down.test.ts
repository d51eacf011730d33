/** With the database down the server answers notary's 500 envelopes (never a hang or a crash), health says 503. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignetError } from '../../src/errors.js';
import { buildApp, type SignetApp } from '../../src/server/index.js';
import type { MetaStore } from '../../src/storage/index.js';
import { errorOf, multipart, testServer, type TestServer } from './helpers.js';

let srv: TestServer;
let down: SignetApp;
beforeAll(async () => {
  srv = await testServer();
  const fail = (): never => {
    throw new SignetError('STORAGE', 'database health check failed: connect ECONNREFUSED 10.20.30.40:5432');
  };
  const broken = new Proxy(srv.store, {
    get(target, prop, recv) {
      if (
        [
          'getLatest',
          'getByVersion',
          'getByChecksum',
          'withGun',
          'deleteGun',
          'getChanges',
          'ping',
          'countGuns',
        ].includes(String(prop))
      ) {
        return async () => fail();
      }
      return Reflect.get(target, prop, recv);
    },
  }) as MetaStore;
  down = buildApp({ store: broken, signer: srv.signer });
  await down.app.ready();
});
afterAll(async () => {
  await down.app.close();
  await srv.close();
});

describe('storage unavailable', () => {
  it('GET answers 500 UNKNOWN in the envelope', async () => {
    const r = await down.app.inject({ method: 'GET', url: '/v2/example.com/x/_trust/tuf/root.json' });
    expect(r.statusCode).toBe(500);
    expect(r.body).toBe('{"errors":[{"code":"UNKNOWN","message":"unknown error"}]}\n');
  });

  it('a publish answers 500 UPDATING', async () => {
    const { body, contentType } = multipart([['targets', Buffer.from('{"signed":{},"signatures":[]}')]]);
    const r = await down.app.inject({
      method: 'POST',
      url: '/v2/example.com/x/_trust/tuf/',
      headers: { 'content-type': contentType },
      payload: body,
    });
    expect(r.statusCode).toBe(500);
    expect(errorOf(r.body).code).toBe('UPDATING');
  });

  it('health answers 503 naming the failed dependency, not its address', async () => {
    const r = await down.app.inject({ method: 'GET', url: '/_notary_server/health' });
    expect(r.statusCode).toBe(503);
    expect(JSON.parse(r.body)).toEqual({ 'DB operational': 'database unavailable' });
    expect(r.body).not.toContain('10.20.30.40');
  });
});
