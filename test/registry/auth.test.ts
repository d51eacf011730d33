/**
 * Registry auth: a Bearer token flow (in-test token server + registry), Basic auth with
 * credentials from a temp Docker config.json, identity tokens (OAuth refresh POST), and a
 * credsStore helper program.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RegistryClient, credentialHostKey } from '../../src/registry/index.js';
import { expectCode } from '../helpers/errors.js';
import { closeNow, listenLoopback } from '../helpers/http.js';
import { withClient } from './helpers.js';

const MT = 'application/vnd.oci.image.manifest.v1+json';
const BODY = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT, config: {}, layers: [] }));
const DIGEST = `sha256:${createHash('sha256').update(BODY).digest('hex')}`;
const b64 = (s: string): string => Buffer.from(s).toString('base64');

interface TokenRequest {
  method: string;
  query: URLSearchParams;
  authorization: string | undefined;
  form?: URLSearchParams;
}

describe('registry auth', () => {
  let server: Server;
  let host: string;
  let dir: string;
  const tokenRequests: TokenRequest[] = [];
  let validTokens = new Set<string>();
  let tokenSerial = 0;
  let registryHits = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'signet-auth-'));
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const u = new URL(req.url ?? '/', 'http://x');
      const json = (status: number, v: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
        res.end(JSON.stringify(v));
      };
      const manifest = (): void => {
        res.writeHead(200, { 'Content-Type': MT, 'Docker-Content-Digest': DIGEST });
        res.end(BODY);
      };
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (u.pathname === '/token') {
          const r: TokenRequest = {
            method: req.method ?? '',
            query: u.searchParams,
            authorization: req.headers.authorization,
          };
          if (req.method === 'POST') r.form = new URLSearchParams(Buffer.concat(chunks).toString());
          tokenRequests.push(r);
          const scope = r.form?.get('scope') ?? u.searchParams.get('scope');
          const service = r.form?.get('service') ?? u.searchParams.get('service');
          if (service !== 'test-registry') return json(400, { details: 'bad service' });
          if (req.method === 'POST') {
            if (r.form?.get('grant_type') !== 'refresh_token' || r.form.get('refresh_token') !== 'id-token-123') {
              return json(401, { details: 'bad refresh token' });
            }
            const t = `oauth-${++tokenSerial}`;
            validTokens.add(t);
            return json(200, { access_token: t, expires_in: 300 });
          }
          if (scope === 'repository:public/app:pull' && !r.authorization) {
            const t = `anon-${++tokenSerial}`;
            validTokens.add(t);
            return json(200, { access_token: t });
          }
          if (r.authorization !== `Basic ${b64('alice:s3cret')}`) return json(401, { details: 'bad credentials' });
          if (scope !== 'repository:private/app:pull') return json(403, { details: 'scope' });
          const t = `tok-${++tokenSerial}`;
          validTokens.add(t);
          return json(200, { token: t, expires_in: 300, issued_at: new Date().toISOString() });
        }
        if (u.pathname.startsWith('/v2/private/') || u.pathname.startsWith('/v2/public/')) {
          registryHits++;
          const auth = req.headers.authorization ?? '';
          if (auth.startsWith('Bearer ') && validTokens.has(auth.slice(7))) return manifest();
          const repo = u.pathname.split('/').slice(2, 4).join('/');
          return json(
            401,
            { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
            {
              'WWW-Authenticate': `Bearer realm="http://${host}/token",service="test-registry",scope="repository:${repo}:pull"`,
            },
          );
        }
        if (u.pathname.startsWith('/v2/basic/')) {
          if (req.headers.authorization === `Basic ${b64('bob:pa:ss')}`) return manifest();
          return json(
            401,
            { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
            {
              'WWW-Authenticate': 'Basic realm="Registry Realm"',
            },
          );
        }
        if (u.pathname.startsWith('/v2/helper/')) {
          if (req.headers.authorization === `Basic ${b64('carol:helper-pw')}`) return manifest();
          return json(401, {}, { 'WWW-Authenticate': 'Basic realm="x"' });
        }
        json(404, { errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] });
      });
    });
    host = await listenLoopback(server);
  });
  afterAll(async () => {
    await closeNow(server);
    await rm(dir, { recursive: true, force: true });
  });

  it('maps Docker config keys to hosts', () => {
    expect(credentialHostKey('https://index.docker.io/v1/')).toBe('docker.io');
    expect(credentialHostKey('registry-1.docker.io')).toBe('docker.io');
    expect(credentialHostKey('http://127.0.0.1:5000/v2/')).toBe('127.0.0.1:5000');
    expect(credentialHostKey('Reg.Example.com')).toBe('reg.example.com');
  });

  it('Bearer flow with basic credentials; tokens are cached per scope', async () => {
    tokenRequests.length = 0;
    await withClient({ credentials: { [host]: { username: 'alice', password: 's3cret' } } }, async (c) => {
      const m = await c.resolve(`${host}/private/app:1`);
      expect(m.digest).toBe(DIGEST);
      const m2 = await c.resolve(`${host}/private/app:2`);
      expect(m2.digest).toBe(DIGEST);
      expect(tokenRequests).toHaveLength(1);
      const t = tokenRequests[0]!;
      expect(t.method).toBe('GET');
      expect(t.query.get('service')).toBe('test-registry');
      expect(t.query.get('scope')).toBe('repository:private/app:pull');
      expect(t.query.get('account')).toBe('alice');
      expect(t.authorization).toBe(`Basic ${b64('alice:s3cret')}`);
    });
  });

  it('concurrent resolves share one token request', async () => {
    tokenRequests.length = 0;
    await withClient({ credentials: { [host]: { username: 'alice', password: 's3cret' } } }, async (c) => {
      const all = await Promise.all(Array.from({ length: 10 }, (_, i) => c.resolve(`${host}/private/app:${i}`)));
      expect(all.every((m) => m.digest === DIGEST)).toBe(true);
      expect(tokenRequests).toHaveLength(1);
    });
  });

  it('a revoked token is replaced after a fresh challenge', async () => {
    tokenRequests.length = 0;
    await withClient({ credentials: { [host]: { username: 'alice', password: 's3cret' } } }, async (c) => {
      await c.resolve(`${host}/private/app:1`);
      validTokens = new Set(); // server forgets every token
      await c.resolve(`${host}/private/app:1`);
      expect(tokenRequests).toHaveLength(2);
    });
  });

  it('anonymous Bearer token (access_token field) for a public repository', async () => {
    tokenRequests.length = 0;
    const before = registryHits;
    await withClient({}, async (c) => {
      expect((await c.resolve(`${host}/public/app:1`)).digest).toBe(DIGEST);
      expect((await c.resolve(`${host}/public/app:1`)).digest).toBe(DIGEST);
      expect(tokenRequests).toHaveLength(1);
      expect(tokenRequests[0]!.authorization).toBeUndefined();
      expect(registryHits - before).toBe(3); // 401, then 2 authorised GETs
    });
  });

  it('no or wrong credentials → UNAUTHORIZED with a fix', async () => {
    const anon = new RegistryClient();
    const wrong = new RegistryClient({ credentials: { [host]: { username: 'alice', password: 'nope' } } });
    try {
      const e = await expectCode(anon.resolve(`${host}/private/app:1`), 'UNAUTHORIZED');
      expect((e as { fix?: string }).fix).toMatch(/docker login/);
      await expectCode(wrong.resolve(`${host}/private/app:1`), 'UNAUTHORIZED');
      await expectCode(anon.resolve(`${host}/basic/app:1`), 'UNAUTHORIZED');
    } finally {
      await anon.close();
      await wrong.close();
    }
  });

  it('Basic auth from a Docker config.json (base64 auth, username/password)', async () => {
    const cfgA = join(dir, 'a');
    const cfgB = join(dir, 'b');
    await Promise.all([mkdir(cfgA), mkdir(cfgB)]);
    await writeFile(join(cfgA, 'config.json'), JSON.stringify({ auths: { [host]: { auth: b64('bob:pa:ss') } } }));
    await writeFile(
      join(cfgB, 'config.json'),
      JSON.stringify({ auths: { [`http://${host}/v2/`]: { username: 'bob', password: 'pa:ss' } } }),
    );
    for (const d of [cfgA, cfgB]) {
      await withClient({ dockerConfigDir: d }, async (c) => {
        expect((await c.resolve(`${host}/basic/app:1`)).digest).toBe(DIGEST);
      });
    }
  });

  it('identity token from config.json → OAuth refresh-token POST', async () => {
    tokenRequests.length = 0;
    const d = join(dir, 'idt');
    await mkdir(d);
    await writeFile(
      join(d, 'config.json'),
      JSON.stringify({ auths: { [host]: { auth: '', identitytoken: 'id-token-123' } } }),
    );
    await withClient({ dockerConfigDir: d }, async (c) => {
      expect((await c.resolve(`${host}/private/app:1`)).digest).toBe(DIGEST);
      expect(tokenRequests).toHaveLength(1);
      const f = tokenRequests[0]!.form!;
      expect(tokenRequests[0]!.method).toBe('POST');
      expect(f.get('grant_type')).toBe('refresh_token');
      expect(f.get('client_id')).toBe('docker');
      expect(f.get('scope')).toBe('repository:private/app:pull');
    });
  });

  it('a missing config dir means anonymous; a malformed config.json → USAGE', async () => {
    const none = new RegistryClient({ dockerConfigDir: join(dir, 'does-not-exist') });
    const d = join(dir, 'bad');
    await mkdir(d);
    await writeFile(join(d, 'config.json'), '{not json');
    const bad = new RegistryClient({ dockerConfigDir: d });
    try {
      expect((await none.resolve(`${host}/public/app:1`)).digest).toBe(DIGEST);
      await expectCode(bad.resolve(`${host}/basic/app:1`), 'USAGE');
    } finally {
      await none.close();
      await bad.close();
    }
  });

  it('credsStore helper program (docker-credential-<name> get)', async () => {
    const bin = join(dir, 'bin');
    await mkdir(bin);
    const script = join(bin, 'docker-credential-signettest');
    await writeFile(
      script,
      `#!/bin/sh\nread url\nif [ "$1" = get ] && [ "$url" = "${host}" ]; then\n  printf '{"ServerURL":"%s","Username":"carol","Secret":"helper-pw"}' "$url"\nelse\n  echo "credentials not found in native keychain"; exit 1\nfi\n`,
    );
    await chmod(script, 0o755);
    const d = join(dir, 'helper');
    await mkdir(d);
    await writeFile(join(d, 'config.json'), JSON.stringify({ credsStore: 'signettest' }));
    vi.stubEnv('PATH', `${bin}:${process.env['PATH'] ?? ''}`);
    const c = new RegistryClient({ dockerConfigDir: d });
    try {
      expect((await c.resolve(`${host}/helper/app:1`)).digest).toBe(DIGEST);
    } finally {
      vi.unstubAllEnvs();
      await c.close();
    }
  });
});
