// The compile cache of Node ≥ 22.1 (src/cli/compile-cache.ts) lives in a folder of the user's own,
// never in the temp dir every user shares; on Node 20 (no such API) nothing is written. CI runs this
// file on 20, 22 and 24.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import module from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, SIGNET_MAIN } from './signet.js';

const hasCache = typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function';
const dirs: string[] = [];

function run(home: string, tmp: string, extra: Record<string, string> = {}): void {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: home, TMPDIR: tmp, ...extra };
  const r = spawnSync(process.execPath, [SIGNET_MAIN, '--help'], { env, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain('Usage: signet');
}

function fresh(): { home: string; tmp: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'signet-cc-'));
  dirs.push(root);
  const home = path.join(root, 'home');
  const tmp = path.join(root, 'tmp');
  mkdirSync(home);
  mkdirSync(tmp);
  return { home, tmp };
}

describe('module compile cache', () => {
  beforeAll(ensureBuilt);
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it(`${hasCache ? 'is kept in ~/.cache/signet/compile-cache (0700)' : 'is not written on this Node'}, never in the shared temp dir`, () => {
    const { home, tmp } = fresh();
    run(home, tmp);
    const cache = path.join(home, '.cache', 'signet', 'compile-cache');
    expect(existsSync(path.join(tmp, 'node-compile-cache'))).toBe(false);
    if (!hasCache) {
      expect(existsSync(cache)).toBe(false);
      return;
    }
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    expect(readdirSync(cache).length).toBeGreaterThan(0);
  });

  it('is not used in a folder others can write, and the command still runs', () => {
    const { home, tmp } = fresh();
    const cache = path.join(home, 'xdg', 'signet', 'compile-cache');
    mkdirSync(cache, { recursive: true });
    chmodSync(cache, 0o777);
    run(home, tmp, { XDG_CACHE_HOME: path.join(home, 'xdg') });
    expect(readdirSync(cache)).toEqual([]);
    expect(existsSync(path.join(tmp, 'node-compile-cache'))).toBe(false);
  });
});
