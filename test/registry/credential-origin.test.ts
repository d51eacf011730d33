/**
 * Registry credentials go only to the registry's own origin: hostile
 * servers on 127.0.0.1 record every credential they receive.
 *  - A redirects a manifest to B; B answers 401 naming its own realm: B gets nothing.
 *  - A names a plain-http realm on another port: it gets nothing, unless that exact host:port is
 *    an insecure registry (`127.0.0.1` alone does not cover it).
 *  - A names an https realm on another origin (test CA): it gets the credentials (Docker Hub's shape).
 *  - `--insecure-registry 0.0.0.0` (no port) does not make `0.0.0.0:<port>` plain http.
 *  - A registry that stalls mid-body is TIMEOUT with a fix.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCA } from '../harness/tls.js';
import { expectCode } from '../helpers/errors.js';
import { credentialsIn, hostileServer, type HostileServer, type Recorded } from '../helpers/hostile-http.js';
import { withClient } from './helpers.js';

const MT = 'application/vnd.oci.image.manifest.v1+json';
const BODY = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT, config: {}, layers: [] }));
const DIGEST = `sha256:${createHash('sha256').update(BODY).digest('hex')}`;
const USER = 'carol';
const PASSWORD = 'OnlyForA';
const IDENTITY = 'identity-token-only-for-a';
const SECRETS = [PASSWORD, `${USER}:${PASSWORD}`, IDENTITY];
const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

describe('registry credentials stay with their origin', () => {
  let dir: string;
  let a: HostileServer; // the registry the credentials belong to (http: loopback)
  let b: HostileServer; // a foreign host: redirect target, plain-http realm
  let c: HostileServer; // a legitimate https token service on another origin
  const logA: Recorded[] = [];
  const logB: Recorded[] = [];
  const logC: Recorded[] = [];
  let caPem: Buffer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'signet-cred-origin-'));
    const ca = await makeTestCA(join(dir, 'ca'));
    caPem = readFileSync(ca.caCert);
    const leaf = await ca.issue('token-service');
    b = await hostileServer(logB, (req, res) => {
      if ((req.url ?? '').startsWith('/token')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ token: 'from-b', expires_in: 300 }));
      }
      const basicOnly = (req.url ?? '').includes('/basic/');
      res.writeHead(401, {
        'www-authenticate': basicOnly ? 'Basic realm="evil"' : `Bearer realm="${b.origin}/token",service="evil"`,
      });
      res.end();
    });
    c = await hostileServer(
      logC,
      (req, res) => {
        if (req.headers.authorization !== basic) return void res.writeHead(401).end();
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token: 'good-token', expires_in: 300 }));
      },
      leaf,
    );
    a = await hostileServer(logA, (req, res) => {
      const url = req.url ?? '';
      const repo = url.split('/')[2] ?? '';
      if (repo === 'redir' || repo === 'basic') {
        res.writeHead(307, { location: `${b.origin}${url}` });
        return void res.end();
      }
      if (repo === 'stall') {
        res.writeHead(200, { 'content-type': MT, 'content-length': '1000' });
        return void res.write('{"schemaVersion":'); // and nothing more
      }
      if (repo === 'https-realm' && req.headers.authorization === 'Bearer good-token') {
        res.writeHead(200, { 'content-type': MT, 'docker-content-digest': DIGEST });
        return void res.end(BODY);
      }
      const realm = repo === 'https-realm' ? `${c.origin}/token` : `${b.origin}/token`;
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="reg"` });
      res.end();
    });
  });
  afterAll(async () => {
    await Promise.all([a, b, c].map((s) => s?.close()));
    await rm(dir, { recursive: true, force: true });
  });

  const creds = (): { credentials: Record<string, { username: string; password: string }> } => ({
    credentials: { [a.host]: { username: USER, password: PASSWORD } },
  });

  it('a cross-origin redirect ending in a 401 with a foreign realm gets no credentials', async () => {
    logB.length = 0;
    await withClient({ ...creds(), retries: 0 }, async (cl) => {
      const e = await expectCode(cl.resolve(`${a.host}/redir/app:1`), 'UNAUTHORIZED');
      expect(e.message).toContain(b.origin);
    });
    expect(logB.length).toBeGreaterThan(0); // the redirect was followed
    expect(credentialsIn(logB, SECRETS)).toEqual([]);
  });

  it('…nor when the foreign host asks for Basic, nor with config.json logins and identity tokens', async () => {
    logB.length = 0;
    for (const [name, entry] of [
      ['auth', { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') }],
      ['identity', { auth: '', identitytoken: IDENTITY }],
    ] as const) {
      const cfg = join(dir, `cfg-${name}`);
      await mkdir(cfg, { recursive: true });
      await writeFile(join(cfg, 'config.json'), JSON.stringify({ auths: { [a.host]: entry } }));
      await withClient({ dockerConfigDir: cfg, retries: 0 }, async (cl) => {
        await expectCode(cl.resolve(`${a.host}/redir/app:1`), 'UNAUTHORIZED');
        await expectCode(cl.resolve(`${a.host}/basic/app:1`), 'UNAUTHORIZED');
      });
    }
    expect(logB.length).toBeGreaterThanOrEqual(4);
    expect(credentialsIn(logB, SECRETS)).toEqual([]);
  });

  it('a plain-http realm on another port gets no credentials; `127.0.0.1` without a port does not open it', async () => {
    logB.length = 0;
    for (const insecureRegistries of [[], ['127.0.0.1'], [`http://127.0.0.1/`]]) {
      await withClient({ ...creds(), insecureRegistries, retries: 0 }, async (cl) => {
        const e = await expectCode(cl.resolve(`${a.host}/http-realm/app:1`), 'UNAUTHORIZED');
        expect(e.message).toMatch(/plain http/);
        expect((e as { fix?: string }).fix).toContain(`--insecure-registry ${b.host}`);
      });
    }
    expect(credentialsIn(logB, SECRETS)).toEqual([]);
  });

  it('the exact host:port marked insecure is the one http realm that may get them (the recorder sees them)', async () => {
    logB.length = 0;
    await withClient({ ...creds(), insecureRegistries: [b.host], retries: 0 }, async (cl) => {
      await expectCode(cl.resolve(`${a.host}/http-realm/app:1`), 'UNAUTHORIZED'); // b's token is no good at a
    });
    expect(credentialsIn(logB, SECRETS).map((r) => r.authorization)).toContain(basic);
  });

  it('an https realm on another origin gets the credentials and the pull succeeds', async () => {
    logC.length = 0;
    await withClient({ ...creds(), ca: caPem, retries: 0 }, async (cl) => {
      expect((await cl.resolve(`${a.host}/https-realm/app:1`)).digest).toBe(DIGEST);
    });
    expect(logC.map((r) => r.authorization)).toEqual([basic]);
    expect(new URL(logC[0]!.url, 'https://x').searchParams.get('account')).toBe(USER);
  });

  it('a registry that stops sending the body is TIMEOUT with a fix, not an unexpected error', async () => {
    await withClient({ timeoutMs: 300, retries: 0 }, async (cl) => {
      const e = await expectCode(cl.resolve(`${a.host}/stall/app:1`), 'TIMEOUT');
      expect((e as { fix?: string }).fix).toMatch(/--timeout/);
      expect(e.message).toContain(a.host);
    });
  });
});

describe('--insecure-registry matches host:port exactly (as moby isSecureIndex)', () => {
  // 0.0.0.0 reaches this machine like 127.0.0.1 but is not loopback by name, so the scheme is
  // decided by the insecure list alone.
  let plain: HostileServer;
  const log: Recorded[] = [];
  beforeAll(async () => {
    plain = await hostileServer(log, (_req, res) => {
      res.writeHead(200, { 'content-type': MT, 'docker-content-digest': DIGEST });
      res.end(BODY);
    });
  });
  afterAll(async () => plain?.close());

  it('a host without a port does not downgrade another port of that host to plain http', async () => {
    await withClient({ insecureRegistries: ['0.0.0.0'], retries: 0, timeoutMs: 5000 }, async (cl) => {
      await expectCode(cl.resolve(`0.0.0.0:${plain.port}/app:1`), 'NETWORK'); // https to a plain server
    });
    expect(log).toEqual([]); // no HTTP request was ever served in plain text
  });

  it('the exact host:port is plain http', async () => {
    await withClient({ insecureRegistries: [`0.0.0.0:${plain.port}`], retries: 0 }, async (cl) => {
      expect((await cl.resolve(`0.0.0.0:${plain.port}/app:1`)).digest).toBe(DIGEST);
    });
    expect(log).toHaveLength(1);
  });
});
