/**
 * The audit trail: one JSON line per publish / delete / key rotation and per auth failure, with
 * who, what and the result, and never a token, password or key.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type MetaStore } from '../../src/storage/index.js';
import { LocalServerSigner } from '../../src/signer/index.js';
import {
  auditWriter,
  buildApp,
  createAuthorizer,
  startServer,
  type AuditLog,
  type SignetApp,
} from '../../src/server/index.js';
import { TestRepo, type Injector } from './helpers.js';
import { sha256hex, tokenIssuer, type TokenIssuer } from './auth-helpers.js';

const GUN = 'example.com/team/audited';

function memorySink(): { lines: string[]; records(): Record<string, unknown>[]; log: AuditLog } {
  const lines: string[] = [];
  return {
    lines,
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    log: auditWriter({ write: (l) => void lines.push(l), close: async () => undefined }),
  };
}

function withAuth(app: SignetApp['app'], authorization: string): Injector {
  return {
    inject: (o) =>
      app.inject({ ...o, headers: { ...(o.headers ?? {}), authorization } }) as ReturnType<Injector['inject']>,
  };
}

describe('audit trail with token auth', () => {
  let iss: TokenIssuer;
  let dir: string;
  let store: MetaStore;
  let signet: SignetApp;
  const sink = memorySink();
  let tokens: string[] = [];

  beforeAll(async () => {
    iss = tokenIssuer();
    dir = mkdtempSync(path.join(os.tmpdir(), 'signet-audit-'));
    store = await openStore({ dataDir: dir });
    signet = buildApp({
      store,
      signer: new LocalServerSigner({ keys: store.keys, passphrase: 'test-passphrase' }),
      auth: createAuthorizer({
        type: 'token',
        realm: iss.realm,
        service: iss.service,
        issuer: iss.issuer,
        rootCertsPem: iss.caPem,
      }),
      audit: sink.log,
    });
    await signet.app.ready();
  });
  afterAll(async () => {
    await signet?.app.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records publishes (roles and versions), refusals, rotation, delete and auth failures; not reads', async () => {
    const full = iss.token(iss.claims([{ type: 'repository', name: GUN, actions: ['*'] }], { sub: 'alice' }));
    const pull = iss.token(iss.claims([{ type: 'repository', name: GUN, actions: ['pull'] }], { sub: 'bob' }));
    tokens = [full, pull];
    const repo = new TestRepo(withAuth(signet.app, `Bearer ${full}`), GUN);
    await repo.init();
    repo.addTarget('v1', 'one');
    expect((await repo.publish()).statusCode).toBe(200);
    // a refused publish
    const again = await repo.post([['targets', Buffer.from('not json')]]);
    expect(again.statusCode).toBe(400);
    await signet.app.inject({
      method: 'GET',
      url: `/v2/${GUN}/_trust/tuf/root.json`,
      headers: { authorization: `Bearer ${pull}` },
    });
    const denied = await signet.app.inject({
      method: 'POST',
      url: `/v2/${GUN}/_trust/tuf/`,
      headers: { authorization: `Bearer ${pull}` },
    });
    expect(denied.statusCode).toBe(401);
    await signet.app.inject({
      method: 'GET',
      url: `/v2/${GUN}/_trust/tuf/root.json`,
      headers: { authorization: `Bearer ${pull}x` },
    });
    const rot = await signet.app.inject({
      method: 'POST',
      url: `/v2/${GUN}/_trust/tuf/snapshot.key`,
      headers: { authorization: `Bearer ${full}` },
    });
    expect(rot.statusCode).toBe(200);
    await signet.app.inject({
      method: 'DELETE',
      url: `/v2/${GUN}/_trust/tuf/`,
      headers: { authorization: `Bearer ${full}` },
    });

    const recs = sink.records();
    // the GET key requests of init, and the authorised GET, leave nothing
    expect(recs.map((r) => [r.event, r.status, r.user ?? null, r.reason ?? null])).toEqual([
      ['publish', 200, 'alice', null],
      ['publish', 400, 'alice', null],
      ['auth_failure', 401, 'bob', 'insufficient_scope'],
      ['auth_failure', 401, null, 'invalid_token'],
      ['rotate_key', 200, 'alice', null],
      ['delete', 200, 'alice', null],
    ]);
    const [pub, refused, scope, , rotate] = recs as Record<string, unknown>[];
    expect(pub).toMatchObject({ gun: GUN, method: 'POST', route: 'publish', remote: '127.0.0.1' });
    expect(typeof pub?.reqId).toBe('string');
    expect(Date.parse(pub?.time as string)).toBeGreaterThan(0);
    expect(pub?.stored).toEqual(
      expect.arrayContaining([
        { role: 'root', version: 1 },
        { role: 'targets', version: 1 },
        { role: 'snapshot', version: 1 },
        { role: 'timestamp', version: 1 },
      ]),
    );
    expect(refused).toMatchObject({ code: 'MALFORMED_JSON' });
    expect(refused?.stored).toBeUndefined();
    expect(scope).toMatchObject({ required: ['push', 'pull'], gun: GUN });
    expect(rotate).toMatchObject({ role: 'snapshot' });
    expect(rotate?.keyId).toMatch(/^[0-9a-f]{64}$/);
  });

  it('holds no token, signature or key material', () => {
    const all = sink.lines.join('');
    for (const t of tokens) {
      for (const part of t.split('.')) expect(all).not.toContain(part);
    }
    expect(all).not.toMatch(/Bearer|BEGIN|PRIVATE|keyval|"public"/);
  });
});

describe('audit trail with basic auth', () => {
  it('names the user of a failed login, never the password; floods of failures are rate-limited', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-audit-'));
    const store = await openStore({ dataDir: dir });
    const sink = memorySink();
    const signet = buildApp({
      store,
      signer: new LocalServerSigner({ keys: store.keys, passphrase: 'test-passphrase' }),
      auth: createAuthorizer({
        type: 'basic',
        users: { reader: { passwordSha256: sha256hex('s3cret-pw'), repositories: { [GUN]: ['pull'] } } },
      }),
      audit: sink.log,
    });
    try {
      const wrong = `Basic ${Buffer.from('reader:guessed-pw').toString('base64')}`;
      const r = await signet.app.inject({
        method: 'GET',
        url: `/v2/${GUN}/_trust/tuf/root.json`,
        headers: { authorization: wrong },
      });
      expect(r.statusCode).toBe(401);
      expect(sink.records()[0]).toMatchObject({ event: 'auth_failure', user: 'reader', reason: 'bad_credentials' });
      const all = sink.lines.join('');
      expect(all).not.toContain('guessed-pw');
      expect(all).not.toContain(wrong.slice(6));
      expect(all).not.toContain(sha256hex('s3cret-pw'));

      // the credential-less ping every client starts with is a handshake, not a failure
      await signet.app.inject({ method: 'GET', url: '/v2/' });
      expect(sink.lines).toHaveLength(1);
      for (let i = 0; i < 80; i++) await signet.app.inject({ method: 'GET', url: '/nowhere' });
      expect(sink.lines.length).toBeGreaterThanOrEqual(40);
      expect(sink.lines.length).toBeLessThanOrEqual(51);
    } finally {
      await signet.app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports how many failure lines it dropped on the next line it writes', () => {
    let t = 0;
    const lines: string[] = [];
    const log = auditWriter({ write: (l) => void lines.push(l), close: async () => undefined }, () => t);
    const fail = {
      event: 'auth_failure' as const,
      reqId: 'r',
      remote: '::1',
      user: undefined,
      method: 'GET',
      route: 'ping',
      gun: undefined,
      status: 401,
    };
    for (let i = 0; i < 60; i++) log.write(fail);
    expect(lines).toHaveLength(50);
    t = 1500;
    log.write(fail);
    expect(JSON.parse(lines[50] as string)).toMatchObject({ suppressedAuthFailures: 10 });
    expect(lines[50]).not.toContain('undefined');
  });
});

describe('startServer audit file', () => {
  it('writes <dataDir>/audit.log by default (mode 0600), and none with auditLog: false', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'signet-audit-srv-'));
    try {
      const s = await startServer({
        listen: '127.0.0.1:0',
        dataDir,
        tls: { mode: 'insecure-http' },
        signerPassphrase: 'p',
        logger: pino({ level: 'silent' }),
        handleSignals: false,
      });
      const del = await fetch(`${s.url}/v2/example.com/x/_trust/tuf/`, { method: 'DELETE' });
      expect(del.status).toBe(200);
      await s.close();
      const file = path.join(dataDir, 'audit.log');
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toMatchObject([
        { event: 'delete', gun: 'example.com/x', status: 200 },
      ]);
      expect(statSync(file).mode & 0o777).toBe(0o600);

      const dir2 = path.join(dataDir, 'second');
      const s2 = await startServer({
        listen: '127.0.0.1:0',
        dataDir: dir2,
        tls: { mode: 'insecure-http' },
        signerPassphrase: 'p',
        logger: pino({ level: 'silent' }),
        handleSignals: false,
        auditLog: false,
      });
      await fetch(`${s2.url}/v2/example.com/x/_trust/tuf/`, { method: 'DELETE' });
      await s2.close();
      expect(existsSync(path.join(dir2, 'audit.log'))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
