/**
 * Issue 12, expiry on the client: `signet status --expiring 30d` lists, for the repositories the
 * trust dir caches, the roles and root certificates expiring within the window, exit code 10 when
 * any (0 when none), also as JSON. The repository is made by the real CLI against a real Signet
 * server: `init`, a signer (delegation targets/alice, signed with the client's key), a target
 * published into it; the clock is moved with `--at`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signetCli, type SignetCli } from './signet.js';
import { startTestServer, type StartedServer } from '../server/start-helper.js';

const GUN = 'registry.example.com/expiry/app';
const YEAR = 365 * 24 * 3600 * 1000;

interface Listed {
  at: string;
  windowSeconds: number;
  repositories: number;
  expiring: {
    gun: string;
    role: string;
    kind: string;
    version: number;
    keyId?: string;
    secondsLeft: number;
    expired: boolean;
  }[];
}

let dir: string;
let server: StartedServer;
let cli: SignetCli;
let published: number;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'signet-status-exp-'));
  server = await startTestServer({ insecureHttp: true });
  cli = signetCli({ server: server.url, trustDir: path.join(dir, 'trust') });
  published = Date.now(); // every role below is signed after this
  await cli.ok(['init', GUN]);
  await cli.ok(['key', 'generate', 'alice', '--dir', path.join(dir, 'pub')]);
  await cli.ok(['signer', 'add', 'alice', GUN, '--key', path.join(dir, 'pub', 'alice.pub')]);
  await cli.ok(['target', 'add', GUN, 'v1', '--sha256', 'ab'.repeat(32), '--size', '1234', '-r', 'targets/alice']);
  await cli.ok(['publish', GUN]);
  // the cache now holds what the publish verified; list reads it back through the updater
  await cli.ok(['target', 'list', GUN]);
});
afterAll(async () => {
  await server?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('signet status --expiring', () => {
  it('lists nothing and exits 0 today', async () => {
    const r = await cli.run(['status', '--expiring', '30d']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Nothing expires within 30d in 1 repositories of /);
  });

  it('three years on (--at), lists the client-signed delegation, targets and snapshot, exit 10', async () => {
    const at = new Date(published + 3 * YEAR - 10 * 24 * 3600 * 1000).toISOString();
    const r = await cli.run(['status', '--expiring', '30d', '--at', at]);
    expect(r.code, r.stderr).toBe(10);
    expect(r.stdout).toMatch(/^REPOSITORY\s+ROLE\s+KIND\s+VERSION\s+EXPIRES\s+LEFT$/m);
    expect(r.stdout).toMatch(
      new RegExp(`^${GUN.replace(/\./g, '\\.')}\\s+targets/alice\\s+metadata\\s+1\\s+\\S+\\s+10d`, 'm'),
    );

    const j = await cli.run(['status', GUN, '--expiring', '30d', '--at', at, '--json']);
    expect(j.code, j.stderr).toBe(10);
    const listed = JSON.parse(j.stdout) as Listed;
    expect(listed).toMatchObject({ at, windowSeconds: 30 * 86400, repositories: 1 });
    const roles = listed.expiring.map((e) => e.role).sort();
    expect(roles).toContain('targets/alice');
    expect(roles).toContain('targets');
    expect(roles).not.toContain('timestamp');
    expect(roles).not.toContain('root');
    const alice = listed.expiring.find((e) => e.role === 'targets/alice');
    expect(alice).toMatchObject({ gun: GUN, kind: 'metadata', version: 1, expired: false });
    // signed after `published`: 10 days left, plus the seconds the set-up took
    expect(alice?.secondsLeft).toBeGreaterThanOrEqual(10 * 86400);
    expect(alice?.secondsLeft).toBeLessThan(10 * 86400 + 600);
  });

  it('ten years on, the root and its certificate are listed as expired', async () => {
    const at = new Date(published + 11 * YEAR).toISOString();
    const j = await cli.run(['status', '--expiring', '0', '--at', at, '--json']);
    expect(j.code).toBe(10);
    const listed = JSON.parse(j.stdout) as Listed;
    const cert = listed.expiring.find((e) => e.kind === 'certificate');
    expect(cert).toMatchObject({ gun: GUN, role: 'root', expired: true });
    expect(cert?.keyId).toMatch(/^[0-9a-f]{64}$/);
    expect(listed.expiring.every((e) => e.expired)).toBe(true);
  });

  it('refuses a window that is not a duration and a repository the trust dir does not know', async () => {
    const bad = await cli.run(['status', '--expiring', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--expiring');
    const unknown = await cli.run(['status', 'registry.example.com/other', '--expiring', '30d']);
    expect(unknown.code).toBe(3);
    // the fix repeats the -d the test gave (cli/hints.ts)
    expect(unknown.stderr).toMatch(/signet -d \S+ .*target list/);
    const noRepo = await cli.run(['status']);
    expect(noRepo.code).toBe(2);
  });
});
