/**
 * Basic auth of the trust server (N:utils/http.go), through `app.inject()`, and an app without
 * auth behaving as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizer } from '../../src/server/index.js';
import { TestRepo, type Injector } from './helpers.js';
import { sha256hex } from './auth-helpers.js';
import { authServer, GUN, send, withAuth, type AuthServer, type Method } from './auth-server.js';

describe('basic auth', () => {
  let srv: AuthServer;
  const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

  beforeAll(async () => {
    srv = await authServer({
      type: 'basic',
      realm: 'Signet test',
      users: {
        admin: { passwordSha256: sha256hex('admin-pw'), repositories: { '*': ['*'] } },
        ci: { passwordSha256: sha256hex('ci-pw'), repositories: { 'example.com/team/*': ['push', 'pull'] } },
        reader: { passwordSha256: sha256hex('reader-pw'), repositories: { [GUN]: ['pull'] } },
      },
    });
  });
  afterAll(async () => srv?.close());

  const req = (method: Method, url: string, authorization?: string) => send(srv, method, url, authorization);

  it('no credentials, a wrong password, an unknown user: 401 with a Basic challenge', async () => {
    for (const a of [undefined, basic('reader', 'nope'), basic('nobody', 'x'), 'Basic !!!', 'Bearer abc']) {
      const r = await req('GET', `/v2/${GUN}/_trust/tuf/root.json`, a);
      expect(r.statusCode, String(a)).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Basic realm="Signet test"');
      expect(JSON.parse(r.body).errors[0].code).toBe('UNAUTHORIZED');
    }
  });

  it('per-repository actions, prefix patterns, and `*` for the catalog', async () => {
    expect((await req('GET', `/v2/${GUN}/_trust/tuf/root.json`, basic('reader', 'reader-pw'))).statusCode).toBe(404);
    expect((await req('POST', `/v2/${GUN}/_trust/tuf/`, basic('reader', 'reader-pw'))).statusCode).toBe(401);
    expect((await req('GET', '/v2/other/x/_trust/tuf/root.json', basic('reader', 'reader-pw'))).statusCode).toBe(401);
    const repoClient = new TestRepo(withAuth(srv.signet.app, basic('ci', 'ci-pw')), GUN);
    await repoClient.init();
    expect((await repoClient.publish()).statusCode).toBe(200);
    expect((await req('DELETE', `/v2/${GUN}/_trust/tuf/`, basic('ci', 'ci-pw'))).statusCode).toBe(401);
    expect((await req('GET', '/v2/', basic('ci', 'ci-pw'))).statusCode).toBe(401);
    expect((await req('GET', '/v2/', basic('admin', 'admin-pw'))).statusCode).toBe(200);
    expect((await req('DELETE', `/v2/${GUN}/_trust/tuf/`, basic('admin', 'admin-pw'))).statusCode).toBe(200);
  });

  it('refuses a malformed digest in the settings', () => {
    expect(() =>
      createAuthorizer({ type: 'basic', users: { a: { passwordSha256: 'abc', repositories: {} } } }),
    ).toThrow(/64 hex digits/);
  });
});

describe('auth off (the default)', () => {
  it('answers everything as before: no challenges, publish and delete without credentials', async () => {
    const srv = await authServer(undefined);
    try {
      const ping = await send(srv, 'GET', '/v2/');
      expect(ping.statusCode).toBe(200);
      expect(ping.body).toBe('{}');
      const r = new TestRepo(srv.signet.app as unknown as Injector, GUN);
      await r.init();
      expect((await r.publish()).statusCode).toBe(200);
      const del = await send(srv, 'DELETE', `/v2/${GUN}/_trust/tuf/`);
      expect(del.statusCode).toBe(200);
      const nf = await send(srv, 'GET', '/nowhere');
      expect(nf.statusCode).toBe(404);
      expect(nf.headers['www-authenticate']).toBeUndefined();
      const head = await send(srv, 'HEAD', '/metrics');
      expect(head.statusCode).toBe(404);
    } finally {
      await srv.close();
    }
  });
});
