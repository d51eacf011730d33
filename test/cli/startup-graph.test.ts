// One-shot client commands must load only what they need: never the trust server, its storage or
// database drivers. A module-load hook (node:module register) records every module the built CLI
// loads through the ESM loader, for a client command that runs up to its first network request.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../harness/ports.js';
import { run } from '../harness/proc.js';
import { ensureBuilt, ROOT, SIGNET_MAIN, SIGNET_UNBUNDLED } from './signet.js';

const SERVER_SIDE = [
  /\/dist\/(server|storage|signer|validation)\//,
  /\/node_modules\/(fastify|@fastify|pg|pg-pool|kysely|better-sqlite3|pino|prom-client|busboy)\//,
  /^node:sqlite$/,
  // the native PKCS#11 binding: loaded only when a key on a token is used (src/keys/pkcs11/module.ts)
  /\/node_modules\/pkcs11js\//,
];

let dir: string;

beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(path.join(tmpdir(), 'signet-graph-'));
  writeFileSync(
    path.join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
let out;
export function initialize(data) { out = data.out; }
export async function load(url, context, next) { appendFileSync(out, url + '\\n'); return next(url, context); }
`,
  );
  writeFileSync(
    path.join(dir, 'register.mjs'),
    `import { register } from 'node:module';
register(${JSON.stringify(pathToFileURL(path.join(dir, 'hooks.mjs')).href)}, { data: { out: process.env.GRAPH_OUT } });
`,
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function loadedBy(
  name: string,
  args: string[],
  entry = SIGNET_UNBUNDLED,
  extra: { nodeArgs?: string[]; env?: Record<string, string> } = {},
): Promise<string[]> {
  const out = path.join(dir, `${name}.txt`);
  writeFileSync(out, '');
  const r = await run(
    process.execPath,
    [...(extra.nodeArgs ?? []), '--import', pathToFileURL(path.join(dir, 'register.mjs')).href, entry, ...args],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        GRAPH_OUT: out,
        DOCKER_CONFIG: path.join(dir, 'docker'),
        ...extra.env,
      },
      timeoutMs: 30_000,
    },
  );
  const urls = readFileSync(out, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  // the command ran (it fails at the unreachable server), so its own modules were loaded
  expect(
    urls.some((u) => u.endsWith(entry === SIGNET_UNBUNDLED ? '/dist/cli/main.js' : '/dist/bin/client.mjs')),
    `${r.stdout}\n${r.stderr}`,
  ).toBe(true);
  return urls;
}

/** A client command against a trust server on `port` where nothing listens (it fails there). */
const against = (port: number, ...cmd: string[]): string[] => [
  '--server',
  `https://127.0.0.1:${port}`,
  '--trust-dir',
  'td',
  ...cmd,
  `127.0.0.1:${port}/team/app:1.0`,
];

describe('client start-up graph', () => {
  it.each([
    ['verify', (port: number) => against(port, 'verify')],
    ['sign', (port: number) => against(port, 'sign')],
    ['--help', () => ['--help']],
  ])('%s loads no server, storage, database or PKCS#11 module', async (name, args) => {
    const port = await freePort(); // nothing listens there
    const urls = await loadedBy(name, args(port));
    const serverSide = urls.filter((u) => SERVER_SIDE.some((re) => re.test(u)));
    expect(serverSide).toEqual([]);
    expect(urls.filter((u) => u.includes('/dist/cli/commands/')).length).toBeGreaterThan(0);
  });

  it('--help loads only the command registrations: no client library, no undici, no ASN.1 parser', async () => {
    // registering a command must not import what its action runs (cli/commands/common.ts)
    const urls = await loadedBy('help-only', ['--help']);
    const beyond = urls.filter(
      (u) =>
        !u.startsWith('node:') &&
        // the CLI's own small modules: the compile cache, the program tree, hints, the reference/completion text, the y/N prompt
        !/\/dist\/cli\/(main|compile-cache|output|program|hints|reference|confirm)\.js$/.test(u) &&
        !/\/dist\/cli\/commands\/[^/]+\.js$/.test(u) &&
        !u.endsWith('/dist/errors.js') &&
        !u.endsWith('/dist/digest.js') &&
        !/\/node_modules\/commander\//.test(u),
    );
    expect(beyond).toEqual([]);
    expect(urls.some((u) => u.endsWith('/dist/cli/commands/context.js'))).toBe(false);
  });

  it("verify loads no key store and none of the client's write side (working copy, signing, proposals)", async () => {
    const port = await freePort();
    const urls = await loadedBy('verify-reader', against(port, 'verify'));
    expect(urls.some((u) => u.endsWith('/dist/client/verify-image.js'))).toBe(true);
    expect(urls.filter((u) => /\/dist\/keys\/|\/dist\/client\/(?!verify-image\.js$)/.test(u))).toEqual([]);
    expect(urls.some((u) => u.endsWith('/dist/cli/commands/context.js'))).toBe(false);
  });

  it('the installed bin runs verify from the bundle: a handful of files, no server-side package', async () => {
    // dist/bin/signet.js (package.json "bin") sends one-shot commands to the esbuild bundle of
    // scripts/bundle-cli.mjs; the module graph above is what the bundle's chunks are cut from
    const port = await freePort();
    const urls = await loadedBy('bundle-verify', against(port, 'verify'), SIGNET_MAIN);
    expect(urls.filter((u) => SERVER_SIDE.some((re) => re.test(u)))).toEqual([]);
    // nothing from the unbundled dist/ tree, and no package outside the bundle
    expect(urls.filter((u) => /\/dist\/(?!bin\/)/.test(u))).toEqual([]);
    expect(urls.filter((u) => u.includes('/node_modules/'))).toEqual([]);
  });

  it.each([
    ['verify', ['verify', '--trust-only']],
    ['sign', ['sign']],
  ])(
    "the bin's %s loads no zod, no ASN.1 library, no undici, no node:http2 and no node:child_process",
    async (name, cmd) => {
      const port = await freePort();
      const builtins = path.join(dir, `${name}-builtins.txt`);
      writeFileSync(
        path.join(dir, 'builtins.cjs'),
        // Node's built-ins, then every CommonJS file loaded through require (createRequire included)
        `process.on('exit', () => require('node:fs').writeFileSync(process.env.BUILTINS_OUT, [...process.moduleLoadList, ...Object.keys(require.cache)].join('\\n')));\n`,
      );
      const urls = await loadedBy(`bundle-${name}`, against(port, ...cmd), SIGNET_MAIN, {
        nodeArgs: ['--require', path.join(dir, 'builtins.cjs')],
        env: { BUILTINS_OUT: builtins },
      });
      // esbuild marks each bundled file with a `// node_modules/<package>/…` comment
      const bundled = urls
        .filter((u) => u.includes('/dist/bin/'))
        .flatMap((u) => readFileSync(new URL(u), 'utf8').match(/^\/\/ node_modules\/(@[^/]+\/)?[^/]+/gm) ?? []);
      const packages = new Set(bundled.map((m) => m.slice('// node_modules/'.length)));
      expect([...packages].filter((p) => /^(zod|@peculiar\/asn1-x509|@peculiar\/asn1-schema|asn1js)$/.test(p))).toEqual(
        [],
      );
      // the HTTP floor is Node's http/https: undici and its WebAssembly parser stay with the proxy
      expect(packages.has('undici')).toBe(false);
      const loaded = readFileSync(builtins, 'utf8').split('\n');
      // nor Node's own undici (Node ≥ 22 loads it when node:http is imported as an ES module: transport.ts)
      expect(
        loaded.filter((m) => /^NativeModule (http2|child_process|internal\/deps\/undici\/undici)$/.test(m)),
      ).toEqual([]);
      // nor the key store's ASN.1 library, which the bundle requires from node_modules on first use
      expect(loaded.filter((m) => m.includes('/node_modules/'))).toEqual([]);
    },
  );
});
