#!/usr/bin/env node
// What each folder of src/ actually imports from the others (static, dynamic and type-only imports),
// as listed in docs/architecture.md; test/docs/architecture.test.ts compares the two.
// Usage: node scripts/layer-imports.mjs [--json]
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');
const SPEC = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)'(\.{1,2}\/[^']+)'/g;

function tsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

/** The unit of a path under src/: its top-level folder, or the root file's name without `.ts`. */
function unitOf(file) {
  const [first, ...rest] = path.relative(SRC, file).split(path.sep);
  return rest.length > 0 ? first : first.replace(/\.(ts|js)$/, '');
}

/** folder (or root file) → sorted list of the other folders and root files it imports */
export function layerImports() {
  const map = new Map();
  for (const file of tsFiles(SRC)) {
    const from = unitOf(file);
    const set = map.get(from) ?? new Set();
    map.set(from, set);
    for (const m of readFileSync(file, 'utf8').matchAll(SPEC)) {
      const to = unitOf(path.resolve(path.dirname(file), m[1]));
      if (to !== from) set.add(to);
    }
  }
  return Object.fromEntries([...map].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...v].sort()]));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = layerImports();
  if (process.argv.includes('--json')) console.log(JSON.stringify(result, null, 2));
  else for (const [k, v] of Object.entries(result)) console.log(`${k}: ${v.join(', ') || '–'}`);
}
