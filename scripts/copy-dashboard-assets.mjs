// Build step (npm run build, after tsc): copies the dashboard's page, script and style, and the
// chart library uPlot from node_modules, into dist/server/dashboard-assets/, so `signet server`
// serves them itself (no CDN). See src/server/dashboard-assets.ts.
import { cpSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist', 'server', 'dashboard-assets');
const require = createRequire(import.meta.url);

mkdirSync(path.join(out, 'vendor'), { recursive: true });
for (const f of ['index.html', 'app.js', 'app.css']) {
  cpSync(path.join(root, 'src', 'server', 'dashboard-assets', f), path.join(out, f));
}
for (const f of ['uPlot.iife.min.js', 'uPlot.min.css']) {
  cpSync(require.resolve(`uplot/dist/${f}`), path.join(out, 'vendor', f));
}
cpSync(require.resolve('uplot/LICENSE'), path.join(out, 'vendor', 'uPlot.LICENSE'));
