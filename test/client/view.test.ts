// docker trust inspect's JSON, rebuilt from the metadata docker itself published (fixture), must be
// byte-for-byte what docker 28 printed for it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatInspectJson, inspectRepo, naturalLess, signedTagRows, type RepoView } from '../../src/client/index.js';
import { parseRoot, parseTargets, publicKeyFromJson } from '../../src/tuf/index.js';

const FIX = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'vectors', 'docker');
const read = (p: string): Buffer => readFileSync(path.join(FIX, p));

function dockerRepo(): RepoView {
  const delegations = new Map();
  for (const name of ['releases', 'alice', 'bob']) {
    delegations.set(`targets/${name}`, parseTargets(`targets/${name}`, read(`tuf/targets/${name}.json`)));
  }
  return {
    root: parseRoot(read('tuf/root.json')),
    targets: parseTargets('targets', read('tuf/targets.json')),
    delegations,
  };
}

const canonical = (k: Parameters<typeof publicKeyFromJson>[0]): string => publicKeyFromJson(k).canonicalId;

describe('inspect view', () => {
  it('reproduces docker trust inspect JSON byte for byte', () => {
    const gun = '127.0.0.1:5000/library/dockerhello';
    const got = formatInspectJson([inspectRepo(gun, dockerRepo(), '', canonical)]);
    expect(got).toBe(read('cli/trust-inspect.json').toString('utf8'));
  });

  it('limits the signed tags to the requested tag', () => {
    const rows = signedTagRows(dockerRepo(), '2.0');
    expect(rows.map((r) => r.SignedTag)).toEqual(['2.0']);
    expect(signedTagRows(dockerRepo(), 'nope')).toEqual([]);
  });

  it('sorts tags naturally, as docker does', () => {
    const tags = ['v10', 'v9', 'v1.10', 'v1.9', 'latest'];
    expect([...tags].sort(naturalLess)).toEqual(['latest', 'v1.9', 'v1.10', 'v9', 'v10']);
  });

  it('shows a tag signed only into targets as signed by "Repo Admin"', () => {
    const repo = dockerRepo();
    const targets = structuredClone(repo.targets.signed);
    targets.targets = { solo: { hashes: { sha256: Buffer.alloc(32, 7).toString('base64') }, length: 5 } };
    const rows = signedTagRows({ ...repo, targets: { ...repo.targets, signed: targets } }, 'solo');
    expect(rows).toEqual([{ SignedTag: 'solo', Digest: '07'.repeat(32), Signers: ['Repo Admin'] }]);
  });
});
