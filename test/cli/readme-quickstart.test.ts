/**
 * README.md's client quick start, run as written: its shell block line by line in bash, against a
 * real registry (docker-registry 2.8, images pushed with skopeo) and Signet's server whose data dir
 * is the README's `~/.signet/server` (HOME is a temp dir). Only what cannot be the same here is
 * replaced: the server's port (4443 → a free port), the registry host (registry.example.com → the
 * test registry on 127.0.0.1), the `…` passphrases, and `npm link` (a `signet` shim on PATH). Lines
 * that need what is not here are left out and named: `docker pull` (no daemon) and `--policy
 * policy.json` (the README does not write one).
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { run } from '../harness/proc.js';
import { pushImages } from '../harness/push-image.js';
import { startRegistry, type TestRegistry } from '../harness/registry.js';
import { ensureBuilt, ROOT, SIGNET_MAIN } from './signet.js';

let tmp: string;
let server: RunningServer;
let registry: TestRegistry;

beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'signet-readme-'));
  mkdirSync(path.join(tmp, 'home'));
  mkdirSync(path.join(tmp, 'bin'));
  writeFileSync(path.join(tmp, 'bin', 'signet'), `#!/bin/sh\nexec "${process.execPath}" "${SIGNET_MAIN}" "$@"\n`);
  chmodSync(path.join(tmp, 'bin', 'signet'), 0o755);
  server = await startServer({
    listen: '127.0.0.1:0',
    dataDir: path.join(tmp, 'home', '.signet', 'server'),
    tls: { mode: 'auto' },
    signerPassphrase: 'readme-signer-pass',
    logger: pino({ level: 'silent' }),
    handleSignals: false,
    auditLog: false,
  });
  registry = await startRegistry();
  await pushImages(registry.host, 'team/app', ['1.0', '1.1']);
}, 180_000);

afterAll(async () => {
  await server?.close();
  await registry?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function quickStartLines(): string[] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.split('## Quick start: the client')[1] ?? '';
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block.split('\n').filter((l) => l.trim() !== '');
}

describe('README client quick start', () => {
  it('signs and verifies as written', async () => {
    const lines = quickStartLines();
    expect(lines.some((l) => l.startsWith('signet sign '))).toBe(true);
    const script = lines
      .filter((l) => !l.startsWith('npm link') && !l.startsWith('docker pull') && !l.includes('--policy policy.json'))
      .map((l) =>
        l
          .replaceAll('https://127.0.0.1:4443', server.url)
          .replaceAll('registry.example.com', registry.host)
          .replaceAll('=…', '=readme-pass'),
      );
    expect(script.filter((l) => l.startsWith('signet ')).length).toBe(4);
    const r = await run('bash', ['-euxc', script.join('\n')], {
      cwd: tmp,
      env: {
        PATH: `${path.join(tmp, 'bin')}:${process.env.PATH ?? ''}`,
        HOME: path.join(tmp, 'home'),
        NO_PROXY: '127.0.0.1',
      },
      timeoutMs: 180_000,
    });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Signed ${registry.host}/team/app:1\\.0 sha256:[0-9a-f]{64}`));
    const inspect = JSON.parse(r.stdout.slice(r.stdout.indexOf('['), r.stdout.lastIndexOf(']') + 1));
    expect(inspect[0].SignedTags.map((t: { SignedTag: string }) => t.SignedTag).sort()).toEqual(['1.0', '1.1']);
  }, 240_000);
});
