/**
 * Token auth of the trust server (N:utils/http.go), through `app.inject()`:
 * every refusal branch with its exact challenge and body, the `*` action, public health/metrics,
 * and the cached-GET fast path.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizer } from '../../src/server/index.js';
import { issueCertificate } from '../../src/tuf/x509-issue.js';
import { TestRepo } from './helpers.js';
import { tokenIssuer, type TokenIssuer } from './auth-helpers.js';
import { authServer, GUN, repo, send, withAuth, type AuthServer } from './auth-server.js';

describe('token auth', () => {
  let iss: TokenIssuer;
  let srv: AuthServer;
  let full: string;
  let pullOnly: string;

  beforeAll(async () => {
    iss = tokenIssuer();
    srv = await authServer({
      type: 'token',
      realm: iss.realm,
      service: iss.service,
      issuer: iss.issuer,
      rootCertsPem: iss.caPem,
    });
    full = iss.token(iss.claims([repo(GUN, ['push', 'pull'])]));
    pullOnly = iss.token(iss.claims([repo(GUN, ['pull'])], { sub: 'bob' }));
  });
  afterAll(async () => srv?.close());

  const get = (url: string, authorization?: string) => send(srv, 'GET', url, authorization);
  const challenge = (scope: string, error?: string): string =>
    `Bearer realm="${iss.realm}",service="${iss.service}",scope="${scope}"` + (error ? `,error="${error}"` : '');

  it('no Authorization header: 401, the challenge and the exact notary body', async () => {
    const r = await get(`/v2/${GUN}/_trust/tuf/root.json`);
    expect(r.statusCode).toBe(401);
    expect(r.headers['www-authenticate']).toBe(challenge(`repository:${GUN}:pull`));
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(r.body).toBe(
      `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository","Class":"","Name":"${GUN}","Action":"pull"}]}]}\n`,
    );
  });

  it('asks push,pull for publish and GET key, * for delete, rotate and the global changefeed', async () => {
    const pub = await send(srv, 'POST', `/v2/${GUN}/_trust/tuf/`);
    expect(pub.statusCode).toBe(401);
    expect(pub.headers['www-authenticate']).toBe(challenge(`repository:${GUN}:push,pull`));
    expect(JSON.parse(pub.body).errors[0].detail.map((d: { Action: string }) => d.Action)).toEqual(['push', 'pull']);
    const key = await get(`/v2/${GUN}/_trust/tuf/timestamp.key`);
    expect(key.headers['www-authenticate']).toBe(challenge(`repository:${GUN}:push,pull`));
    const del = await send(srv, 'DELETE', `/v2/${GUN}/_trust/tuf/`);
    expect(del.headers['www-authenticate']).toBe(challenge(`repository:${GUN}:*`));
    const rot = await send(srv, 'POST', `/v2/${GUN}/_trust/tuf/snapshot.key`);
    expect(rot.headers['www-authenticate']).toBe(challenge(`repository:${GUN}:*`));
    for (const url of ['/v2/', '/v2/_trust/changefeed?records=10', '/nowhere']) {
      const r = await get(url);
      expect(r.statusCode, url).toBe(401);
      expect(r.headers['www-authenticate']).toBe(challenge('registry:catalog:*'));
      expect(JSON.parse(r.body).errors[0].detail).toEqual([
        { Type: 'registry', Class: '', Name: 'catalog', Action: '*' },
      ]);
    }
  });

  it('health stays public; metrics need the catalog scope', async () => {
    for (const url of ['/_notary_server/health', '//_notary_server/health']) {
      const r = await get(url);
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['www-authenticate']).toBeUndefined();
    }
    for (const url of ['/metrics', '/metrics/', '//metrics']) {
      const r = await get(url);
      expect(r.statusCode, url).toBe(401);
      expect(r.headers['www-authenticate']).toBe(challenge('registry:catalog:*'));
      expect(r.body).not.toContain('signet_guns');
      expect((await get(url, `Bearer ${full}`)).statusCode, url).toBe(401);
    }
    const catalog = iss.token(iss.claims([{ type: 'registry', name: 'catalog', actions: ['*'] }]));
    const m = await get('/metrics', `Bearer ${catalog}`);
    expect(m.statusCode).toBe(200);
    expect(m.body).toContain('signet_guns');
  });

  it('a refused GUN is answered 400 before auth (as notary’s prefix filter)', async () => {
    const r = await get('/v2/a%5Cb/_trust/tuf/root.json');
    expect(r.statusCode).toBe(400);
  });

  it('a pull token reads; on publish it gets insufficient_scope', async () => {
    expect((await get(`/v2/${GUN}/_trust/tuf/root.json`, `Bearer ${pullOnly}`)).statusCode).toBe(404);
    const r = await send(srv, 'POST', `/v2/${GUN}/_trust/tuf/`, `Bearer ${pullOnly}`);
    expect(r.statusCode).toBe(401);
    expect(r.headers['www-authenticate']).toBe(challenge(`repository:${GUN}:push,pull`, 'insufficient_scope'));
    // a token for another GUN does not reach this one; nor does catalog access without `*`
    const other = iss.token(iss.claims([repo('example.com/other', ['*'])]));
    expect((await get(`/v2/${GUN}/_trust/tuf/root.json`, `Bearer ${other}`)).headers['www-authenticate']).toBe(
      challenge(`repository:${GUN}:pull`, 'insufficient_scope'),
    );
  });

  it('a push,pull token initialises and publishes; delete needs *, which a * token has', async () => {
    const repoClient = new TestRepo(withAuth(srv.signet.app, `Bearer ${full}`), GUN);
    await repoClient.init();
    repoClient.addTarget('v1', 'one');
    expect((await repoClient.publish()).statusCode).toBe(200);
    expect((await get(`/v2/${GUN}/_trust/tuf/targets.json`, `Bearer ${pullOnly}`)).statusCode).toBe(200);
    const del = await send(srv, 'DELETE', `/v2/${GUN}/_trust/tuf/`, `Bearer ${full}`);
    expect(del.statusCode).toBe(401);
    expect(del.headers['www-authenticate']).toBe(challenge(`repository:${GUN}:*`, 'insufficient_scope'));
    const star = iss.token(iss.claims([repo(GUN, ['*'])]));
    const rot = await send(srv, 'POST', `/v2/${GUN}/_trust/tuf/timestamp.key`, `Bearer ${star}`);
    expect(rot.statusCode).toBe(200);
    const ok = await send(srv, 'DELETE', `/v2/${GUN}/_trust/tuf/`, `Bearer ${star}`);
    expect(ok.statusCode).toBe(200);
    const catalog = iss.token(iss.claims([{ type: 'registry', name: 'catalog', actions: ['*'] }]));
    expect((await get('/v2/', `Bearer ${catalog}`)).statusCode).toBe(200);
    expect((await get('/v2/_trust/changefeed?records=10', `Bearer ${catalog}`)).statusCode).toBe(200);
  });

  it('invalid tokens: signature, issuer, audience, expiry, nbf, key, shape → invalid_token', async () => {
    const t = Math.floor(Date.now() / 1000);
    const good = iss.claims([repo(GUN, ['*'])]);
    const otherCa = tokenIssuer();
    const tampered = (() => {
      const [h, , s] = iss.token(good).split('.');
      const c = Buffer.from(JSON.stringify({ ...good, sub: 'mallory' })).toString('base64url');
      return `${h}.${c}.${s}`;
    })();
    const cases: Record<string, string> = {
      tampered,
      issuer: iss.token({ ...good, iss: 'someone-else' }),
      audience: iss.token({ ...good, aud: 'other-service' }),
      expired: iss.token({ ...good, exp: t - 61 }),
      noExp: iss.token({ ...good, exp: undefined }),
      notYet: iss.token({ ...good, nbf: t + 120 }),
      otherCa: otherCa.token({ ...good }),
      unknownKid: iss.token(good, { mode: 'kid', key: otherCa.caKey }),
      untrustedJwk: iss.token(good, { mode: 'jwk', key: iss.leafKey }),
      algMismatch: iss.token(good, { alg: 'ES384' }),
      algNone: iss.token(good, { header: { alg: 'none' } }),
      noSignature: iss.token(good).split('.').slice(0, 2).join('.') + '.',
      twoParts: 'abc.def',
      badBase64: 'a*b.c.d',
      notJson: `${Buffer.from('x').toString('base64url')}.${Buffer.from('y').toString('base64url')}.AA`,
      expAsString: iss.token({ ...good, exp: String(t + 100) as unknown as number }),
    };
    for (const [name, tok] of Object.entries(cases)) {
      const r = await get(`/v2/${GUN}/_trust/tuf/root.json`, `Bearer ${tok}`);
      expect(r.statusCode, name).toBe(401);
      expect(r.headers['www-authenticate'], name).toBe(challenge(`repository:${GUN}:pull`, 'invalid_token'));
    }
    // not a Bearer header at all: no error parameter (distribution's ErrTokenRequired)
    for (const h of [`Basic ${Buffer.from('a:b').toString('base64')}`, `Bearer  ${full}`, `Bearer`]) {
      const r = await get(`/v2/${GUN}/_trust/tuf/root.json`, h);
      expect(r.headers['www-authenticate'], h).toBe(challenge(`repository:${GUN}:pull`));
    }
  });

  it('accepts 60 s of clock skew, kid and jwk headers, an aud list, and "bearer" in any case', async () => {
    const t = Math.floor(Date.now() / 1000);
    const acc = [repo(GUN, ['pull'])];
    const toks = {
      skewExp: iss.token(iss.claims(acc, { exp: t - 30 })),
      skewNbf: iss.token(iss.claims(acc, { nbf: t + 30 })),
      kid: iss.token(iss.claims(acc), { mode: 'kid' }),
      jwk: iss.token(iss.claims(acc), { mode: 'jwk' }),
      audList: iss.token(iss.claims(acc, { aud: ['x', iss.service] })),
    };
    for (const [name, tok] of Object.entries(toks)) {
      expect((await get(`/v2/${GUN}/_trust/tuf/root.json`, `Bearer ${tok}`)).statusCode, name).toBe(404);
    }
    expect((await get(`/v2/${GUN}/_trust/tuf/root.json`, `bEaReR ${toks.kid}`)).statusCode).toBe(404);
  });

  it('x5c chains: through an intermediate CA; not through a non-CA, an expired or a looping chain', async () => {
    const now = Date.now();
    const mk = (
      cn: string,
      key: crypto.KeyObject,
      issuer: { key: crypto.KeyObject; certificate: string },
      ca: boolean,
      notAfter = now + 3600_000,
    ) =>
      issueCertificate({
        subjectCN: cn,
        subjectKey: key,
        issuer,
        notBefore: new Date(now - 3600_000),
        notAfter: new Date(notAfter),
        ca,
        keyUsage: ca ? ['keyCertSign', 'digitalSignature'] : ['digitalSignature'],
        keyIdentifiers: true,
      });
    const ec = () => crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const interKey = ec();
    const inter = mk('intermediate', interKey, { key: iss.caKey, certificate: iss.caPem }, true);
    const leafKey = ec();
    const leaf = mk('leaf', leafKey, { key: interKey, certificate: inter.pem }, false);
    const claims = iss.claims([repo(GUN, ['pull'])]);
    const use = async (tok: string) => (await get(`/v2/${GUN}/_trust/tuf/root.json`, `Bearer ${tok}`)).statusCode;
    expect(await use(iss.token(claims, { key: leafKey, x5c: [leaf.der, inter.der] }))).toBe(404);
    expect(await use(iss.token(claims, { key: leafKey, x5c: [leaf.der] }))).toBe(401);
    const notCa = mk('not-a-ca', interKey, { key: iss.caKey, certificate: iss.caPem }, false);
    const leaf2 = mk('leaf', leafKey, { key: interKey, certificate: notCa.pem }, false);
    expect(await use(iss.token(claims, { key: leafKey, x5c: [leaf2.der, notCa.der] }))).toBe(401);
    const expired = mk('old', leafKey, { key: interKey, certificate: inter.pem }, false, now - 1000);
    expect(await use(iss.token(claims, { key: leafKey, x5c: [expired.der, inter.der] }))).toBe(401);
    // attacker-made CAs sharing one key and name: refused without an exponential search
    const evilKey = ec();
    const evil = Array.from({ length: 7 }, () =>
      issueCertificate({
        subjectCN: 'evil',
        subjectKey: evilKey,
        issuer: { key: evilKey, cn: 'evil' },
        notBefore: new Date(now - 3600_000),
        notAfter: new Date(now + 3600_000),
        ca: true,
        keyUsage: ['keyCertSign'],
      }),
    );
    const evilLeaf = mk('leaf', leafKey, { key: evilKey, certificate: evil[0]!.pem }, false);
    const t0 = Date.now();
    expect(await use(iss.token(claims, { key: leafKey, x5c: [evilLeaf.der, ...evil.map((e) => e.der)] }))).toBe(401);
    expect(Date.now() - t0).toBeLessThan(2000);
    const tooLong = Array.from({ length: 9 }, () => inter.der);
    expect(await use(iss.token(claims, { key: leafKey, x5c: [leaf.der, ...tooLong] }))).toBe(401);
  });

  it('RS256 tokens from an RSA issuer', async () => {
    const rsa = tokenIssuer({ rsa: true });
    const s = await authServer({
      type: 'token',
      realm: rsa.realm,
      service: rsa.service,
      issuer: rsa.issuer,
      rootCertsPem: rsa.caPem,
    });
    try {
      const tok = rsa.token(rsa.claims([repo(GUN, ['pull'])]));
      const r = await send(s, 'GET', `/v2/${GUN}/_trust/tuf/root.json`, `Bearer ${tok}`);
      expect(r.statusCode).toBe(404);
      const es = await send(
        s,
        'GET',
        `/v2/${GUN}/_trust/tuf/root.json`,
        `Bearer ${rsa.token(rsa.claims([repo(GUN, ['pull'])]), { alg: 'RS512' })}`,
      );
      expect(es.statusCode).toBe(401);
    } finally {
      await s.close();
    }
  });

  it('refuses a bundle without certificates', () => {
    expect(() =>
      createAuthorizer({ type: 'token', realm: 'r', service: 's', issuer: 'i', rootCertsPem: 'nothing' }),
    ).toThrow(/at least one token signing root certificate/);
  });

  it('keeps the 401 body under 1 KiB for a 255-character GUN', async () => {
    const long = 'example.com/' + 'a'.repeat(243);
    const r = await send(srv, 'POST', `/v2/${long}/_trust/tuf/`);
    expect(r.statusCode).toBe(401);
    expect(r.rawPayload.length).toBeLessThan(1024);
  });
});

describe('token auth over HTTP: the cached GET fast path authorises too', () => {
  it('serves a cached file only with a valid token', async () => {
    const iss = tokenIssuer();
    const srv = await authServer(
      { type: 'token', realm: iss.realm, service: iss.service, issuer: iss.issuer, rootCertsPem: iss.caPem },
      true,
    );
    try {
      const tok = iss.token(iss.claims([repo(GUN, ['push', 'pull'])]));
      const r = new TestRepo(withAuth(srv.signet.app, `Bearer ${tok}`), GUN);
      await r.init();
      expect((await r.publish()).statusCode).toBe(200);
      const url = `${srv.url}/v2/${GUN}/_trust/tuf/root.json`;
      for (let i = 0; i < 2; i++)
        expect((await fetch(url, { headers: { authorization: `Bearer ${tok}` } })).status).toBe(200);
      const anon = await fetch(url);
      expect(anon.status).toBe(401);
      expect(anon.headers.get('www-authenticate')).toContain(`scope="repository:${GUN}:pull"`);
      const bad = await fetch(url, { headers: { authorization: `Bearer ${tok}x` } });
      expect(bad.status).toBe(401);
    } finally {
      await srv.close();
    }
  });
});
