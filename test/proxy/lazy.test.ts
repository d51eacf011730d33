/**
 * `signet proxy` is loaded lazily: other commands never load src/proxy (nor the proxy's CLI body).
 * A resolve hook (node:module register) records every module the CLI process loads.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNET_UNBUNDLED, ensureBuilt } from '../cli/signet.js';
import { run } from '../harness/proc.js';

// The hooks run on their own thread: a line written synchronously to a file is kept even when the
// process ends before that thread's stderr is flushed (a proxy run stopped at the timeout).
const HOOKS = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.SIGNET_MODULE_LOG, r.url + '\\n');
  return r;
}
`;

describe('signet proxy is loaded only by its own command', () => {
  let dir: string;
  let register: string;
  beforeAll(async () => {
    await ensureBuilt();
    dir = await mkdtemp(path.join(os.tmpdir(), 'signet-lazy-'));
    await writeFile(path.join(dir, 'hooks.mjs'), HOOKS);
    register = path.join(dir, 'register.mjs');
    await writeFile(
      register,
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(path.join(dir, 'hooks.mjs')).href)});\n`,
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  let runs = 0;
  const loaded = async (args: string[]): Promise<string[]> => {
    const log = path.join(dir, `modules-${++runs}.txt`);
    await writeFile(log, '');
    await run(process.execPath, ['--import', register, SIGNET_UNBUNDLED, ...args], {
      timeoutMs: 30_000,
      env: { ...process.env, SIGNET_MODULE_LOG: log },
    });
    return (await readFile(log, 'utf8')).split('\n').filter((l) => l !== '');
  };

  it.each(['verify --help', 'sign --help', '--help'])('signet %s loads no proxy module', async (cmd) => {
    const urls = await loaded(cmd.split(' '));
    expect(urls.some((u) => u.endsWith('/dist/cli/main.js'))).toBe(true);
    expect(urls.filter((u) => u.includes('/dist/proxy/') || u.endsWith('/proxy-run.js'))).toEqual([]);
  });

  it('signet proxy loads them', async () => {
    const urls = await loaded(['proxy', '--upstream', 'http://127.0.0.1:1']);
    expect(urls.some((u) => u.includes('/dist/proxy/'))).toBe(true);
  });
});
