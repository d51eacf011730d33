import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const VECTORS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'vectors');

/** Exact bytes of a captured file, e.g. vector('notary', 'targets/releases.json'). */
export function vector(capture: 'notary' | 'docker', file: string): Buffer {
  return readFileSync(path.join(VECTORS, capture, 'tuf', file));
}

/** Names of the captured key files (their names carry the canonical key ID). */
export function keyFiles(capture: 'notary' | 'docker'): string[] {
  return readdirSync(path.join(VECTORS, capture, 'keys'));
}
