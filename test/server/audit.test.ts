/**
 * The audit trail: one chained entry per publish / delete / key creation and rotation, per refused
 * state change and per auth failure, with who, what and the result, and never a token, password
 * or key; the JSON-lines copy carries the same entries.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type MetaStore } from '../../src/storage/index.js';
import { LocalServerSigner } from '../../src/signer/index.js';
import {
  AuditTrail,
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
    log: { write: (l: string) => void lines.push(l), close: async () => undefined },
  };
}

async function chain(store: MetaStore): Promise<Record<string, unknown>[]> {
  const es = await store.audit.list({ afterSeq: 0, limit: 10_000 });
  return es.map((e) => ({ ...(JSON.parse(e.text) as Record<string, unknown>), hash: e.hash }));
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
    // the copy holds exactly the chain's entries, in order
    expect(recs).toEqual(await chain(store));
    // the key init created, then the publish; the authorised GET leaves nothing
    expect(recs.map((r) => [r.seq, r.event, r.status, r.user, r.reason ?? null])).toEqual([
      [1, 'create_key', 200, 'alice', null],
      [2, 'publish', 200, 'alice', null],
      [3, 'refused', 400, 'alice', null],
      [4, 'auth_failure', 401, 'bob', 'insufficient_scope'],
      [5, 'auth_failure', 401, null, 'invalid_token'],
      [6, 'rotate_key', 200, 'alice', null],
      [7, 'delete', 200, 'alice', null],
    ]);
    const [created, pub, refused, scope, , rotate, del] = recs as Record<string, unknown>[];
    expect(created).toMatchObject({ role: 'timestamp', gun: GUN, route: 'get_key', algorithm: 'ecdsa' });
    expect(pub).toMatchObject({ gun: GUN, method: 'POST', route: 'publish', remote: '127.0.0.1' });
    expect(pub?.reqId).toMatch(/^[0-9a-f]{12}-\d+$/);
    expect(Date.parse(pub?.time as string)).toBeGreaterThan(0);
    const stored = pub?.stored as { role: string; version: number; sha256: string; keyIds: string[] }[];
    expect(stored.map((x) => [x.role, x.version]).sort()).toEqual([
      ['root', 1],
      ['snapshot', 1],
      ['targets', 1],
      ['timestamp', 1],
    ]);
    for (const x of stored) {
      expect(x.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(x.keyIds.length).toBeGreaterThan(0);
    }
    expect(stored.find((x) => x.role === 'timestamp')?.keyIds).toEqual([created?.keyId]);
    expect(pub?.serverKeyIds).toContain(created?.keyId);
    expect(refused).toMatchObject({ route: 'publish', code: 'MALFORMED_JSON' });
    expect(refused?.stored).toBeUndefined();
    expect(scope).toMatchObject({ required: ['push', 'pull'], gun: GUN });
    expect(rotate).toMatchObject({ role: 'snapshot' });
    expect(rotate?.keyId).toMatch(/^[0-9a-f]{64}$/);
    expect(del).toMatchObject({ deleted: true });
    expect(pub?.prev).toBe(created?.hash);
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
      await new Promise((res) => setTimeout(res, 10));
      expect(sink.records()[0]).toMatchObject({ event: 'auth_failure', user: 'reader', reason: 'bad_credentials' });
      const all = sink.lines.join('');
      expect(all).not.toContain('guessed-pw');
      expect(all).not.toContain(wrong.slice(6));
      expect(all).not.toContain(sha256hex('s3cret-pw'));

      // the credential-less ping every client starts with is a handshake, not a failure
      await signet.app.inject({ method: 'GET', url: '/v2/' });
      expect(sink.lines).toHaveLength(1);
      // in parallel: each failure waits for its entry to commit, so sequential ones would span several windows
      await Promise.all(Array.from({ length: 80 }, () => signet.app.inject({ method: 'GET', url: '/nowhere' })));
      expect(sink.lines.length).toBeGreaterThanOrEqual(40);
      expect(sink.lines.length).toBeLessThanOrEqual(51);
    } finally {
      await signet.app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports how many failure entries it dropped on the next one it writes', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-audit-'));
    const store = await openStore({ dataDir: dir });
    try {
      let t = 0;
      const sink = memorySink();
      const trail = new AuditTrail(
        store,
        sink.log,
        (err) => {
          throw err;
        },
        () => t,
      );
      const actor = { reqId: 'r', remote: '::1', user: null, method: 'GET', route: 'ping', gun: undefined };
      for (let i = 0; i < 60; i++) await trail.refused(actor, 'auth_failure', { status: 401 });
      expect(sink.lines).toHaveLength(50);
      t = 1500;
      await trail.refused(actor, 'auth_failure', { status: 401 });
      expect(JSON.parse(sink.lines[50] as string)).toMatchObject({ suppressedAuthFailures: 10, seq: 51 });
      expect(sink.lines[50]).not.toContain('undefined');
      trail.close();
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
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
