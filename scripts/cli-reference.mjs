#!/usr/bin/env node
// Writes docs/cli-reference.md from the built command tree (run `npm run build` first).
// test/cli/reference.test.ts fails when the committed file differs from what this writes.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { buildProgram } = await import(path.join(root, 'dist/cli/program.js'));
const { renderReference } = await import(path.join(root, 'dist/cli/reference.js'));
writeFileSync(path.join(root, 'docs/cli-reference.md'), renderReference(buildProgram()));
console.log('wrote docs/cli-reference.md');
