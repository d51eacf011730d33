// `signet verify` / `signet pin` commands, run in-process against the simulator and a tiny registry.
import crypto from 'node:crypto';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { addGlobalOptions } from '../../src/cli/commands/common.js';
import { registerPin } from '../../src/cli/commands/pin.js';
import { registerVerify } from '../../src/cli/commands/verify.js';
import { SimRepo } from '../simulator/repo.js';
import { startSimServer, type SimServer } from '../simulator/server.js';

const manifest = Buffer.from(
  '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{}}',
);
const digestHex = crypto.createHash('sha256').update(manifest).digest('hex');

let registry: http.Server;
let gun: string;
let repo: SimRepo;
let sim: SimServer;
let tmp: string;

beforeAll(async () => {
  registry = http.createServer((req, res) => {
    if (req.url === '/v2/') return void res.end('{}');
    if (req.url?.endsWith(`/manifests/sha256:${digestHex}`)) {
      res.writeHead(200, {
        'content-type': 'application/vnd.docker.distribution.manifest.v2+json',
        'content-length': String(manifest.length),
      });
      return void res.end(manifest);
    }
    res.writeHead(404);
    res.end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
  });
  await new Promise<void>((r) => registry.listen(0, '127.0.0.1', r));
  gun = `127.0.0.1:${(registry.address() as AddressInfo).port}/cli/app`;
  repo = await SimRepo.create(gun);
  repo.setTarget('v1', digestHex, manifest.length);
  await repo.publish();
  sim = await startSimServer(repo);
  tmp = await mkdtemp(path.join(os.tmpdir(), 'signet-cli-verify-'));
});

afterAll(async () => {
  await sim?.close();
  await new Promise<void>((r) => registry?.close(() => r()));
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function run(args: string[], trustDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const program = addGlobalOptions(new Command('signet').exitOverride());
  registerVerify(program);
  registerPin(program);
  let stdout = '';
  let stderr = '';
  const o = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const e = vi
    .spyOn(process.stderr, 'write')
    .mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    await program.parseAsync(['node', 'signet', '--server', sim.url, '--trust-dir', trustDir, ...args]);
    return { code: Number(process.exitCode ?? 0), stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.exitCode = before;
  }
}

describe('signet verify', () => {
  it('refuses a first-seen root without pin (exit 4, UNTRUSTED_ROOT, shows the pin command)', async () => {
    const r = await run(['verify', `${gun}:v1`], path.join(tmp, 'a'));
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`signet pin ${gun} ${repo.rootKeys[0]?.pub.id}`);
  });

  it('verifies with --tofu and prints the digest; --digest-only prints NAME@sha256', async () => {
    const dir = path.join(tmp, 'b');
    const r = await run(['verify', '--tofu', `${gun}:v1`], dir);
    expect(r.stderr).toContain('TOFU');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`sha256:${digestHex}\n`);
    const d = await run(['verify', '--digest-only', `${gun}:v1`], dir);
    expect(d.code).toBe(0);
    expect(d.stdout).toBe(`${gun}@sha256:${digestHex}\n`);
  });

  it('verifies after signet pin with the root key ID, and reports JSON', async () => {
    const dir = path.join(tmp, 'c');
    const p = await run(['pin', gun, repo.rootKeys[0]?.pub.id as string], dir);
    expect(p.code).toBe(0);
    const l = await run(['pin', '--list', '--json'], dir);
    expect(JSON.parse(l.stdout)).toEqual([{ pattern: gun, certs: [repo.rootKeys[0]?.pub.id] }]);
    const r = await run(['verify', '--json', `${gun}:v1`], dir);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      verified: true,
      digest: `sha256:${digestHex}`,
      role: 'targets',
      registryChecked: true,
    });
  });

  it('refuses an unsigned tag with NOT_SIGNED (exit 3), also as JSON', async () => {
    const dir = path.join(tmp, 'd');
    const r = await run(['verify', '--tofu', '--json', `${gun}:nope`], dir);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stderr.split('\n').find((l) => l.startsWith('{')) ?? '{}')).toMatchObject({
      error: { code: 'NOT_SIGNED' },
    });
    expect(r.stderr).toContain(`tag nope is not signed in ${gun}`);
  });

  it('verifies offline from the cache without any request', async () => {
    const dir = path.join(tmp, 'e');
    expect((await run(['verify', '--tofu', `${gun}:v1`], dir)).code).toBe(0);
    sim.requests.length = 0;
    const r = await run(['verify', '--offline', `${gun}:v1`], dir);
    expect(r.code).toBe(0);
    expect(sim.requests).toEqual([]);
  });

  it('rejects pin usage errors with exit 2', async () => {
    expect((await run(['pin', gun], path.join(tmp, 'f'))).code).toBe(2);
    expect((await run(['pin', gun, 'xyz'], path.join(tmp, 'f'))).code).toBe(2);
  });
});
