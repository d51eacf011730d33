// `signet verify --policy`: report and skip rules, a signer requirement, and an invalid policy, run
// in-process against the simulated trust server and a tiny registry that serves the signed manifest.
import crypto from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { addGlobalOptions } from '../../src/cli/commands/common.js';
import { registerVerify } from '../../src/cli/commands/verify.js';
import { SimRepo } from '../simulator/repo.js';
import { startSimServer, type SimServer } from '../simulator/server.js';

const manifest = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json"}');
const hex = crypto.createHash('sha256').update(manifest).digest('hex');
let registry: http.Server;
let gun: string;
let sim: SimServer;
let tmp: string;

beforeAll(async () => {
  registry = http.createServer((req, res) => {
    if (req.url?.includes('/manifests/')) {
      res.writeHead(200, { 'content-type': 'application/vnd.docker.distribution.manifest.v2+json' });
      return void res.end(manifest); // by digest and by tag: the tag points at the signed manifest
    }
    res.end('{}');
  });
  await new Promise<void>((r) => registry.listen(0, '127.0.0.1', r));
  gun = `127.0.0.1:${(registry.address() as AddressInfo).port}/policy/app`;
  const repo = await SimRepo.create(gun);
  repo.addDelegation('targets/releases');
  repo.addDelegation('targets/alice');
  repo.setTarget('v1', hex, manifest.length, 'targets/releases');
  repo.setTarget('v1', hex, manifest.length, 'targets/alice');
  await repo.publish();
  sim = await startSimServer(repo);
  tmp = await mkdtemp(path.join(os.tmpdir(), 'signet-verify-policy-'));
});

afterAll(async () => {
  await sim?.close();
  await new Promise<void>((r) => registry?.close(() => r()));
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function verify(policy: unknown, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const file = path.join(tmp, `policy-${crypto.randomUUID()}.json`);
  await writeFile(file, typeof policy === 'string' ? policy : JSON.stringify(policy));
  const program = addGlobalOptions(new Command('signet').exitOverride());
  registerVerify(program);
  let stdout = '';
  let stderr = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    const base = ['node', 'signet', '--server', sim.url, '--trust-dir', path.join(tmp, 'trust'), '--tofu'];
    await program.parseAsync([...base, 'verify', '--policy', file, ...args]);
    return { code: Number(process.exitCode ?? 0), stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.exitCode = before;
  }
}

const rule = (extra: Record<string, unknown>): unknown => ({ version: 1, rules: [{ repository: '**', ...extra }] });

describe('signet verify --policy', () => {
  it('enforces a signer requirement (SIGNERS_REQUIRED, exit 4) and passes when met', async () => {
    const two = await verify(rule({ signers: { roles: ['targets/alice', 'targets/bob'], min: 2 } }), [`${gun}:v1`]);
    expect(two.code).toBe(4);
    expect(two.stderr).toContain('signed by targets/alice');
    const one = await verify(rule({ signers: { roles: ['targets/alice', 'targets/bob'], min: 1 } }), [`${gun}:v1`]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toBe(`sha256:${hex}\n`);
  });

  it('report: says what it would refuse and exits 0; skip: exits 0 without checking', async () => {
    const report = await verify(rule({ mode: 'report' }), ['--json', `${gun}:unsigned`]);
    expect(report.code).toBe(0);
    expect(JSON.parse(report.stdout)).toMatchObject({
      verified: false,
      mode: 'report',
      refusal: { code: 'NOT_SIGNED' },
    });
    const human = await verify(rule({ mode: 'report' }), [`${gun}:unsigned`]);
    expect(human.stderr).toContain('would refuse');
    const before = sim.requests.length;
    const skip = await verify(rule({ mode: 'skip' }), [`${gun}:unsigned`]);
    expect(skip.code).toBe(0);
    expect(skip.stderr).toContain('skips');
    expect(sim.requests.length).toBe(before);
  });

  it('an invalid policy is a usage error (exit 2) naming the file and the JSON path', async () => {
    const r = await verify(rule({ maxStale: 'soon' }), [`${gun}:v1`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('$.rules[0].maxStale');
    expect(r.stderr).toContain('policy-');
  });
});
