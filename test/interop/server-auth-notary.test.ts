/**
 * The real notary 0.7 CLI against Signet's server with token auth (N:utils/http.go): a tiny token
 * server in the test checks `NOTARY_AUTH` basic credentials and issues ES256 JWTs (x5c chain to a
 * test CA) for the intersection of the requested scope and the user's rights, like docker_auth.
 * A full-scope user runs init/publish/list/delete; a pull-only user lists, and its publish fails
 * cleanly with notary's 401 message. The audit log names both.
 */
import crypto from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notaryCli, type NotaryCli } from '../harness/notary-cli.js';
import { TEST_TOKEN_USERS, startTokenAuthServer, type TokenAuthServer } from '../server/auth-helpers.js';
import type { StartedServer } from '../server/start-helper.js';

const sha = (s: string): string => crypto.createHash('sha256').update(s).digest('hex');

const USERS = TEST_TOKEN_USERS;

describe('notary CLI against Signet with token auth', () => {
  let dir: string;
  let srv: StartedServer;
  let auth: TokenAuthServer | undefined;
  let notary: NotaryCli;
  const tokenLog: string[] = [];
  const gun = '127.0.0.1:5000/interop/auth';
  const as = (user: string) => ({
    env: { NOTARY_AUTH: Buffer.from(`${user}:${USERS[user]?.password}`).toString('base64') },
  });

  async function ok(args: string[], user = 'alice'): Promise<string> {
    const r = await notary.run(args, as(user));
    if (r.code !== 0) throw new Error(`notary ${args.join(' ')} → ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout + r.stderr;
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'signet-auth-it-'));
    auth = await startTokenAuthServer(dir, { service: 'signet-interop', issuer: 'interop-token-issuer' }, tokenLog);
    srv = auth.srv;
    notary = notaryCli({ server: srv.url, caFile: srv.caFile as string, trustDir: path.join(dir, 'trust') });
  });
  afterAll(async () => {
    await auth?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a full-scope user: init, publish, addhash + publish, list', async () => {
    await ok(['init', gun]);
    await ok(['publish', gun]);
    await ok(['addhash', gun, 'v1', '3', '--sha256', sha('one')]);
    await ok(['publish', gun]);
    const out = await ok(['list', gun]);
    expect(out).toContain(sha('one'));
    // notary asked for the GUN-named scope with push,pull
    expect(tokenLog).toContain(`alice signet-interop repository:${gun}:push,pull`);
  });

  it('a pull-only user lists; its publish fails cleanly with 401', async () => {
    const out = await ok(['list', gun], 'reader');
    expect(out).toContain(sha('one'));
    await ok(['addhash', gun, 'v2', '3', '--sha256', sha('two')], 'reader');
    const r = await notary.run(['publish', gun], as('reader'));
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/not authorized to perform this operation: server returned 401/);
    // nothing changed on the server
    const after = await ok(['list', gun], 'reader');
    expect(after).not.toContain(sha('two'));
  });

  it('without credentials nothing is readable', async () => {
    const cold = notaryCli({ server: srv.url, caFile: srv.caFile as string, trustDir: path.join(dir, 'cold') });
    const r = await cold.run(['list', gun]);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/401|not authorized/);
  });

  it('delete --remote needs *, which alice has; the audit log names the users, without tokens', async () => {
    // drop reader's pending change first, then delete everything remotely as alice
    await ok(['delete', gun, '--remote']);
    // the JSON-lines copy is written after the commit, through a buffered stream (docs/server.md),
    // so the delete's line may land just after the reply
    const read = (): Record<string, unknown>[] =>
      readFileSync(path.join(dir, 'data', 'audit.log'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    let lines = read();
    for (let i = 0; i < 50 && !lines.some((l) => l.event === 'delete'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      lines = read();
    }
    const pubs = lines.filter((l) => l.event === 'publish' && l.status === 200);
    expect(pubs.length).toBeGreaterThanOrEqual(2);
    expect(pubs.every((l) => l.user === 'alice' && l.gun === gun)).toBe(true);
    expect(lines).toContainEqual(
      expect.objectContaining({
        event: 'auth_failure',
        user: 'reader',
        reason: 'insufficient_scope',
        route: 'publish',
      }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ event: 'delete', user: 'alice', status: 200 }));
    expect(readFileSync(path.join(dir, 'data', 'audit.log'), 'utf8')).not.toMatch(/eyJ|Bearer|Basic/);
  });
});
