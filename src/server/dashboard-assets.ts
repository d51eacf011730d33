/**
 * The dashboard's static files: an allow-list of names, read once and kept in memory. The page, its
 * script and style live in `dashboard-assets/` beside this module; the chart library (uPlot) is
 * copied from node_modules into `dashboard-assets/vendor/` by the build (scripts/copy-dashboard-assets.mjs),
 * so the server serves it itself. Run from the sources (tests), the copy is absent and uPlot is read
 * from node_modules instead.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { HttpError } from './errors.js';

export interface Asset {
  bytes: Buffer;
  type: string;
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** name → [file beside this module, node_modules fallback, content type] */
const ASSETS: Readonly<Record<string, readonly [string, string | undefined, string]>> = {
  'index.html': ['dashboard-assets/index.html', undefined, 'text/html; charset=utf-8'],
  'app.js': ['dashboard-assets/app.js', undefined, JS],
  'app.css': ['dashboard-assets/app.css', undefined, CSS],
  'uPlot.iife.min.js': ['dashboard-assets/vendor/uPlot.iife.min.js', 'uplot/dist/uPlot.iife.min.js', JS],
  'uPlot.min.css': ['dashboard-assets/vendor/uPlot.min.css', 'uplot/dist/uPlot.min.css', CSS],
};

const loaded = new Map<string, Promise<Asset>>();

async function read(name: string): Promise<Asset> {
  const [own, fallback, type] = ASSETS[name] as readonly [string, string | undefined, string];
  try {
    return { bytes: await readFile(fileURLToPath(new URL(own, import.meta.url))), type };
  } catch (err) {
    if (fallback === undefined) throw err;
    return { bytes: await readFile(createRequire(import.meta.url).resolve(fallback)), type };
  }
}

export async function loadAsset(name: string): Promise<Asset> {
  if (!Object.hasOwn(ASSETS, name)) throw new HttpError('METADATA_NOT_FOUND', undefined, 'no such dashboard asset');
  let p = loaded.get(name);
  if (p === undefined) {
    p = read(name);
    loaded.set(name, p);
    p.catch(() => loaded.delete(name));
  }
  try {
    return await p;
  } catch {
    throw new HttpError('METADATA_NOT_FOUND', undefined, `dashboard asset ${name} is not installed`);
  }
}
