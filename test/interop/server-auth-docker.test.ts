/**
 * The Docker CLI 28 (`docker trust`, no daemon) against Signet's server with token auth: Docker
 * learns the challenge from `GET /v2/`, then fetches tokens from the test token service with the
 * registry credentials in $DOCKER_CONFIG/config.json, for the GUN-named scope (C:cli/trust/trust.go).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerCli, type DockerCli } from '../harness/docker-cli.js';
import { TEST_TOKEN_USERS, startTokenAuthServer, type TokenAuthServer } from '../server/auth-helpers.js';
import type { StartedServer } from '../server/start-helper.js';

describe('docker trust against Signet with token auth', () => {
  let dir: string;
  let srv: StartedServer;
  let auth: TokenAuthServer | undefined;
  let docker: DockerCli;
  const tokenLog: string[] = [];
  // a loopback registry name: docker skips TLS verification of the trust server for it
  const registry = '127.0.0.1:5999';
  const gun = `${registry}/team/signed-app`;

  async function ok(args: string[]): Promise<string> {
    const r = await docker.run(args);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} → ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }
  const login = (user: string) => docker.setAuth(registry, user, TEST_TOKEN_USERS[user]?.password);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'signet-auth-docker-'));
    auth = await startTokenAuthServer(dir, { service: 'signet-docker', issuer: 'docker-token-issuer' }, tokenLog);
    srv = auth.srv;
    docker = dockerCli({ trustServer: srv.url, dir: path.join(dir, 'docker') });
  });
  afterAll(async () => {
    await auth?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a full-scope user initialises the repository and adds a signer; inspect shows it', async () => {
    await login('alice');
    await ok(['trust', 'key', 'generate', 'alice', '--dir', dir]);
    await ok(['trust', 'signer', 'add', '--key', path.join(dir, 'alice.pub'), 'alice', gun]);
    const i = JSON.parse(await ok(['trust', 'inspect', gun])) as { Signers: { Name: string }[] }[];
    expect(i[0]?.Signers.map((s) => s.Name)).toEqual(['alice']);
    expect(tokenLog).toContain(`alice signet-docker repository:${gun}:pull,push`);
  });

  it('a pull-only user inspects; adding a signer is refused with 401', async () => {
    await login('reader');
    const i = JSON.parse(await ok(['trust', 'inspect', gun])) as { Signers: { Name: string }[] }[];
    expect(i[0]?.Signers.map((s) => s.Name)).toEqual(['alice']);
    await ok(['trust', 'key', 'generate', 'bob', '--dir', dir]);
    const r = await docker.run(['trust', 'signer', 'add', '--key', path.join(dir, 'bob.pub'), 'bob', gun]);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/not authorized to perform this operation: server returned 401/);
    await login('alice');
    const after = JSON.parse(await ok(['trust', 'inspect', gun])) as { Signers: { Name: string }[] }[];
    expect(after[0]?.Signers.map((s) => s.Name)).toEqual(['alice']);
  });
});
