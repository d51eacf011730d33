// `signet admission` is registered lazily: no other command loads the webhook (src/admission) or
// its body (src/cli/admission-run.ts); only the command's action imports them.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../cli/signet.js';

const STATIC_IMPORT = /^\s*(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gm;

async function staticImports(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  return [...text.matchAll(STATIC_IMPORT)].map((m) => m[1] as string);
}

describe('signet admission is loaded lazily', () => {
  it('no CLI module statically imports src/admission or admission-run', async () => {
    const cli = path.join(ROOT, 'src', 'cli');
    const files = [
      path.join(cli, 'main.ts'),
      ...(await readdir(path.join(cli, 'commands'))).map((f) => path.join(cli, 'commands', f)),
    ];
    for (const f of files) {
      for (const spec of await staticImports(f)) {
        // commands/admission.ts (flags only, a type import of the body) is the one allowed
        expect(spec, `${path.relative(ROOT, f)} imports ${spec}`).not.toMatch(/\/admission\/|admission-run/);
      }
    }
    expect(await staticImports(path.join(cli, 'commands', 'admission.ts'))).toEqual([]);
    const command = await readFile(path.join(cli, 'commands', 'admission.ts'), 'utf8');
    expect(command).toContain("await import('../admission-run.js')");
    expect(await staticImports(path.join(cli, 'admission-run.ts'))).toContain('../admission/index.js');
  });
});
