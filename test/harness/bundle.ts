// A TypeScript entry bundled by esbuild into one ESM file that node runs as a real process.
import { symlinkSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** `entry` (a path in the repo) bundled to `dir`/`outName`; its node_modules resolve through a symlink in `dir`. */
export async function bundleEntry(entry: string, dir: string, outName: string): Promise<string> {
  const { build } = await import('esbuild');
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  const outfile = path.join(dir, outName);
  await build({
    entryPoints: [path.join(ROOT, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile,
    logLevel: 'error',
  });
  return outfile;
}
