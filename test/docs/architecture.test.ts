// docs/architecture.md lists what each folder of src/ imports today; this keeps the list true.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs script without type declarations
import { layerImports } from '../../scripts/layer-imports.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');

function documented(): Record<string, string[]> {
  const md = readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8');
  const section = md.split('### What each folder imports today')[1]?.split('\n## ')[0] ?? '';
  const out: Record<string, string[]> = {};
  for (const m of section.matchAll(/^- `src\/([a-z-]+)(?:\/|\.ts)`: (.*)$/gm)) {
    out[m[1]!] = m[2] === '–' ? [] : m[2]!.split(', ');
  }
  return out;
}

describe('docs/architecture.md', () => {
  it('lists exactly what each folder of src/ imports (node scripts/layer-imports.mjs)', () => {
    const actual = (layerImports as () => Record<string, string[]>)();
    expect(Object.keys(actual).length).toBeGreaterThan(10);
    expect(documented()).toEqual(actual);
  });
});
