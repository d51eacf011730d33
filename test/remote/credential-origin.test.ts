/**
 * Trust-server credentials go only to the trust server's origin and to a token realm over https:
 * hostile servers on 127.0.0.1 record every credential they receive.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotaryRemote } from '../../src/remote/index.js';
import { makeTestCA } from '../harness/tls.js';
import { expectCode } from '../helpers/errors.js';
import { credentialsIn, hostileServer, type HostileServer, type Recorded } from '../helpers/hostile-http.js';

const GUN = '127.0.0.1:5000/team/app';
const AUTH = { username: 'dave', password: 'OnlyForTheTrustServer' };
const SECRETS = [AUTH.password, `${AUTH.username}:${AUTH.password}`];
const basic = `Basic ${Buffer.from(`${AUTH.username}:${AUTH.password}`).toString('base64')}`;

describe('trust-server credentials and token realms', () => {
  let dir: string;
  let ca: Buffer;
  let trust: HostileServer; // https, names the realm given by the path
  let httpRealm: HostileServer; // plain http on another port
  let httpsRealm: HostileServer; // https on another port (test CA)
  const logTrust: Recorded[] = [];
  const logHttp: Recorded[] = [];
  const logHttps: Recorded[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'signet-remote-origin-'));
    const testCa = await makeTestCA(join(dir, 'ca'));
    ca = readFileSync(testCa.caCert);
    const leafA = await testCa.issue('trust');
    const leafB = await testCa.issue('realm');
    const tokenHandler = (
      req: { headers: { authorization?: string } },
      res: import('node:http').ServerResponse,
    ): void => {
      if (req.headers.authorization !== basic) return void res.writeHead(401).end();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token: 'realm-token', expires_in: 300 }));
    };
    httpRealm = await hostileServer(logHttp, tokenHandler);
    httpsRealm = await hostileServer(logHttps, tokenHandler, leafB);
    trust = await hostileServer(
      logTrust,
      (req, res) => {
        if (req.headers.authorization === 'Bearer realm-token') return void res.end('{}');
        const realm = (req.url ?? '').includes('/via-https/') ? httpsRealm.origin : httpRealm.origin;
        res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}/token",service="notary-server"` });
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      },
      leafA,
    );
  });
  afterAll(async () => {
    await Promise.all([trust, httpRealm, httpsRealm].map((s) => s?.close()));
    await rm(dir, { recursive: true, force: true });
  });

  const remote = (plainHttpHosts: string[] = []): NotaryRemote =>
    new NotaryRemote({ serverUrl: trust.origin, ca, auth: AUTH, retries: 0, plainHttpHosts });

  it('an https trust server naming an http realm on another port: the realm gets no credentials', async () => {
    const r = remote();
    try {
      const e = await expectCode(r.getRole(`${GUN}/via-http`, 'root', { maxBytes: 1000 }), 'UNAUTHORIZED');
      expect(e.message).toContain(httpRealm.origin);
    } finally {
      await r.close();
    }
    expect(credentialsIn(logHttp, SECRETS)).toEqual([]);
    expect(logHttp).toEqual([]); // not even an anonymous visit with the account name
    expect(credentialsIn(logTrust, SECRETS)).toEqual([]); // nothing was sent up front either
  });

  it('--insecure-registry 127.0.0.1 (no port) does not open the http realm; its exact host:port does', async () => {
    logHttp.length = 0;
    const loose = remote(['127.0.0.1']);
    try {
      await expectCode(loose.getRole(`${GUN}/via-http`, 'root', { maxBytes: 1000 }), 'UNAUTHORIZED');
    } finally {
      await loose.close();
    }
    expect(logHttp).toEqual([]);
    const exact = remote([httpRealm.host]);
    try {
      expect((await exact.getRole(`${GUN}/via-http`, 'root', { maxBytes: 1000 })).toString()).toBe('{}');
    } finally {
      await exact.close();
    }
    expect(logHttp.map((q) => q.authorization)).toEqual([basic]);
  });

  it('an https realm on another origin gets them, and the token goes to the trust server only', async () => {
    logTrust.length = 0;
    const r = remote();
    try {
      expect((await r.getRole(`${GUN}/via-https`, 'root', { maxBytes: 1000 })).toString()).toBe('{}');
    } finally {
      await r.close();
    }
    expect(logHttps.map((q) => q.authorization)).toEqual([basic]);
    expect(logTrust.map((q) => q.authorization)).toEqual([undefined, 'Bearer realm-token']);
  });
});
