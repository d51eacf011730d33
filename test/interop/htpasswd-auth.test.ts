/**
 * The default auth matrix: one htpasswd file made by `htpasswd -B` (Debian apache2-utils)
 * serves Signet (`--auth-htpasswd`) and docker-registry 2.8 (`auth: htpasswd`) alike; without auth,
 * a loopback server takes anonymous writes while a server with anonymous writes off refuses them;
 * anonymous reads stay open. Real binaries on 127.0.0.1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { notaryCli } from '../harness/notary-cli.js';
import { requireBinary, run } from '../harness/proc.js';
import { REGISTRY_BINARY, startRegistry } from '../harness/registry.js';
import { startTestServer } from '../server/start-helper.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-htpasswd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const HTPASSWD = '/usr/bin/htpasswd';
const basic = (user: string, pw: string): string => 'Basic ' + Buffer.from(`${user}:${pw}`).toString('base64');

describe('one htpasswd -B file for Signet and docker-registry', () => {
  it('the same credentials work against both; wrong ones fail against both', async () => {
    await requireBinary(HTPASSWD, 'apache2-utils');
    await requireBinary(REGISTRY_BINARY, 'docker-registry');
    const file = path.join(dir, 'htpasswd');
    const made = await run(HTPASSWD, ['-B', '-c', '-b', file, 'ci-signer', 'correct horse']);
    expect(made.code, made.stderr).toBe(0);
    const registry = await startRegistry({ dir: path.join(dir, 'registry'), auth: { htpasswd: file } });
    const signet = await startTestServer({ insecureHttp: true, auth: { type: 'htpasswd', file } });
    try {
      const good = basic('ci-signer', 'correct horse');
      const bad = basic('ci-signer', 'wrong');
      const reg = `http://${registry.host}/v2/`;
      expect((await fetch(reg, { headers: { authorization: good } })).status).toBe(200);
      expect((await fetch(reg, { headers: { authorization: bad } })).status).toBe(401);
      expect((await fetch(reg)).status).toBe(401);

      const gun = 'example.com/htpasswd/app';
      expect((await fetch(`${signet.url}/v2/`, { headers: { authorization: good } })).status).toBe(200);
      expect((await fetch(`${signet.url}/v2/`, { headers: { authorization: bad } })).status).toBe(401);
      // anonymous reads are open, anonymous key creation is not
      expect((await fetch(`${signet.url}/v2/${gun}/_trust/tuf/root.json`)).status).toBe(404);
      const anonKey = await fetch(`${signet.url}/v2/${gun}/_trust/tuf/timestamp.key`);
      expect(anonKey.status).toBe(401);
      expect(anonKey.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
      const key = await fetch(`${signet.url}/v2/${gun}/_trust/tuf/timestamp.key`, { headers: { authorization: good } });
      expect(key.status).toBe(200);

      // the notary client publishes with those credentials (NOTARY_AUTH = base64 user:password)
      const notary = notaryCli({ server: signet.url, trustDir: path.join(dir, 'trust') });
      const env = { NOTARY_AUTH: Buffer.from('ci-signer:correct horse').toString('base64') };
      const init = await notary.run(['init', '-p', gun], { env });
      expect(init.code, init.stderr).toBe(0);
      // what it published reads anonymously (notary's own read-only commands send no basic
      // credentials at all: cmd/notary/tuf.go passwordStore{anonymous: true})
      expect((await fetch(`${signet.url}/v2/${gun}/_trust/tuf/root.json`)).status).toBe(200);
    } finally {
      await signet.dispose();
      await registry.stop();
    }
  });
});
