#!/usr/bin/env node
// `npm run bench` entry point: type-check and compile the TypeScript benchmark (bench/*.ts plus the
// test harness it reuses) into bench/.build, then run it. Arguments are passed on, e.g.
//   npm run bench -- --only 1,3 --quick
// See docs/performance.md.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!existsSync(tsc)) {
  console.error('bench: typescript is not installed; run `npm ci` first');
  process.exit(2);
}
const c = spawnSync(process.execPath, [tsc, '-p', path.join(here, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
if (c.status !== 0) {
  console.error('bench: compiling bench/ failed');
  process.exit(c.status ?? 2);
}
const r = spawnSync(process.execPath, [path.join(here, '.build', 'bench', 'main.js'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(r.status ?? 1);
