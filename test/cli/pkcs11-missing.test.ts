// Without the optional native package pkcs11js, a command that uses a pkcs11: key fails with the
// install instructions (and exit 1), while commands without token keys never try to load it
// (test/cli/startup-graph.test.ts). The package's absence is simulated by a resolve hook.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../harness/proc.js';
import { ensureBuilt, ROOT, SIGNET_MAIN } from './signet.js';

let dir: string;

beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(path.join(tmpdir(), 'signet-nopkcs11-'));
  writeFileSync(
    path.join(dir, 'hooks.mjs'),
    `export async function resolve(specifier, context, next) {
  if (specifier === 'pkcs11js') {
    const e = new Error("Cannot find package 'pkcs11js'");
    e.code = 'ERR_MODULE_NOT_FOUND';
    throw e;
  }
  return next(specifier, context);
}
`,
  );
  writeFileSync(
    path.join(dir, 'register.mjs'),
    `import { register } from 'node:module';
register(${JSON.stringify(pathToFileURL(path.join(dir, 'hooks.mjs')).href)});
`,
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pkcs11js not installed', () => {
  it('says how to install it when a pkcs11: key is used', async () => {
    const r = await run(
      process.execPath,
      [
        '--import',
        pathToFileURL(path.join(dir, 'register.mjs')).href,
        SIGNET_MAIN,
        '--trust-dir',
        path.join(dir, 'trust'),
        'key',
        'list',
        '--pkcs11',
        'pkcs11:token=L',
      ],
      { cwd: ROOT, env: { PATH: process.env.PATH, HOME: dir }, timeoutMs: 30_000 },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/PKCS#11 keys need the native package pkcs11js, which is not installed/);
    expect(r.stderr).toMatch(
      /fix: install the optional package: `npm install pkcs11js`.*python3, make and a C\+\+ compiler/,
    );
  });
});
