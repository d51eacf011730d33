// `signet inspect --pretty` prints what `docker trust inspect --pretty` printed for the same metadata.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { prettyInspect } from '../../src/cli/commands/inspect.js';
import { inspectRepo } from '../../src/client/index.js';
import { parseRoot, parseTargets, publicKeyFromJson } from '../../src/tuf/index.js';

const FIX = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'vectors', 'docker');
const read = (p: string): Buffer => readFileSync(path.join(FIX, p));

describe('inspect --pretty', () => {
  it('matches docker 28 byte for byte', () => {
    const delegations = new Map();
    for (const n of ['releases', 'alice', 'bob'])
      delegations.set(`targets/${n}`, parseTargets(`targets/${n}`, read(`tuf/targets/${n}.json`)));
    const repo = {
      root: parseRoot(read('tuf/root.json')),
      targets: parseTargets('targets', read('tuf/targets.json')),
      delegations,
    };
    const gun = '127.0.0.1:5000/library/dockerhello';
    const r = inspectRepo(gun, repo, '', (k) => publicKeyFromJson(k).canonicalId);
    expect(prettyInspect(r)).toBe(read('cli/trust-inspect-pretty.txt').toString('utf8'));
  });
});
