/**
 * The built CLI gives trust-server credentials only to a trust server the user named. A hostile
 * https trust server on 127.0.0.1 (trusted through $DOCKER_CONFIG/tls, as a real one would be) asks for a token on every request and records every credential it receives.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCA } from '../harness/tls.js';
import { credentialsIn, hostileServer, type HostileServer, type Recorded } from '../helpers/hostile-http.js';
import { signetCli, type SignetCli } from './signet.js';

const USER = 'erin';
const PASSWORD = 'NotaryAuthSecret';
const LOGIN = 'RegistryLoginSecret';
const SECRETS = [PASSWORD, `${USER}:${PASSWORD}`, LOGIN, `${USER}:${LOGIN}`];
const NOTARY_AUTH = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');

describe('signet sends trust-server credentials only to a trust server the user named', () => {
  let dir: string;
  let trust: HostileServer;
  let cli: SignetCli;
  const log: Recorded[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'signet-cli-creds-'));
    const ca = await makeTestCA(path.join(dir, 'ca'));
    const leaf = await ca.issue('trust');
    trust = await hostileServer(
      log,
      (req, res) => {
        if ((req.url ?? '').startsWith('/token')) {
          res.writeHead(200, { 'content-type': 'application/json' });
          return void res.end(JSON.stringify({ token: 'lure', expires_in: 300 }));
        }
        res.writeHead(401, { 'www-authenticate': `Bearer realm="${trust.origin}/token",service="evil"` });
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      },
      leaf,
    );
    const trustDir = path.join(dir, 'trust');
    mkdirSync(trustDir);
    // Docker's place for a registry's CA; the derived trust server https://<registry host> uses it too.
    const dockerConfig = path.join(dir, 'docker-config');
    mkdirSync(path.join(dockerConfig, 'tls', trust.host), { recursive: true });
    copyFileSync(ca.caCert, path.join(dockerConfig, 'tls', trust.host, 'ca.crt'));
    writeFileSync(
      path.join(dockerConfig, 'config.json'),
      JSON.stringify({ auths: { [trust.host]: { auth: Buffer.from(`${USER}:${LOGIN}`).toString('base64') } } }),
    );
    cli = signetCli({ trustDir });
  });
  afterAll(async () => {
    await trust?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const inspect = (extra: string[], env: NodeJS.ProcessEnv = {}) =>
    cli.run(['--retries', '0', ...extra, 'inspect', `${trust.host}/team/app`], { env });

  it('NOTARY_AUTH and config.json logins never reach a trust server derived from the image name', async () => {
    log.length = 0;
    const r = await inspect([], { NOTARY_AUTH });
    expect(r.code).toBe(5); // UNAUTHORIZED
    expect(r.stderr).toMatch(
      /NOTARY_AUTH is not sent to https:\/\/127\.0\.0\.1:\d+: it was derived from the image name/,
    );
    expect(log.length).toBeGreaterThan(0);
    expect(credentialsIn(log, SECRETS)).toEqual([]);
  });

  it('config.json logins do not reach a named trust server either', async () => {
    log.length = 0;
    const r = await inspect(['--server', trust.origin]);
    expect(r.code).toBe(5);
    expect(log.length).toBeGreaterThan(0);
    expect(credentialsIn(log, SECRETS)).toEqual([]);
  });

  it('a trust server named with --server gets NOTARY_AUTH (the recorder sees it)', async () => {
    log.length = 0;
    await inspect(['--server', trust.origin], { NOTARY_AUTH });
    const basic = `Basic ${NOTARY_AUTH}`;
    expect(log.some((q) => q.url.startsWith('/token') && q.authorization === basic)).toBe(true);
    // the password went only to the token realm; the server itself saw only the token
    expect(log.filter((q) => !q.url.startsWith('/token')).map((q) => q.authorization ?? 'none')).not.toContain(basic);
  });

  it('so does one named with DOCKER_CONTENT_TRUST_SERVER', async () => {
    log.length = 0;
    await inspect([], { NOTARY_AUTH, DOCKER_CONTENT_TRUST_SERVER: trust.origin });
    expect(credentialsIn(log, SECRETS).length).toBeGreaterThan(0);
  });
});
