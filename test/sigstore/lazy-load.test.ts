/**
 * src/sigstore (and its cipher dependency) is loaded only by the commands that use it: a module
 * resolve hook records every module the built CLI loads.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNET_UNBUNDLED, ensureBuilt } from '../cli/signet.js';
import { childEnv, run } from '../harness/proc.js';

const HOOK = `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(
  "import { appendFileSync } from 'node:fs';\\n" +
  "export async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(process.env.SIGNET_MODULE_LOG, r.url + '\\\\n'); return r; }"));
`;

describe('src/sigstore is loaded lazily', () => {
  let dir: string;

  beforeAll(async () => {
    await ensureBuilt();
    dir = await mkdtemp(path.join(os.tmpdir(), 'signet-lazy-'));
    await writeFile(path.join(dir, 'hook.mjs'), HOOK);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function loaded(name: string, args: string[]): Promise<string[]> {
    const log = path.join(dir, `${name}.log`);
    await run(
      process.execPath,
      ['--import', path.join(dir, 'hook.mjs'), SIGNET_UNBUNDLED, '--retries', '0', '--timeout', '2000', ...args],
      {
        env: childEnv({ SIGNET_MODULE_LOG: log, HOME: dir, DOCKER_CONFIG: path.join(dir, 'docker') }),
      },
    );
    return (await readFile(log, 'utf8')).split('\n').filter((l) => l !== '');
  }

  it('plain signet verify does not load it; verify --sigstore-key does', async () => {
    const plain = await loaded('plain', ['verify', '127.0.0.1:1/lazy/app:v1']);
    expect(plain.some((u) => u.includes('/dist/cli/commands/verify.js'))).toBe(true);
    expect(plain.filter((u) => /\/sigstore\/|@noble|bridge-run/.test(u))).toEqual([]);
    const sig = await loaded('sigstore', [
      'verify',
      '--sigstore-key',
      path.join(dir, 'missing.pub'),
      '127.0.0.1:1/lazy/app:v1',
    ]);
    expect(sig.some((u) => u.includes('/dist/sigstore/index.js'))).toBe(true);
  });
});
