// The pure trusted set on REAL notary 0.7 / docker 28 output (test/fixtures/vectors).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGun, parseTimestamp } from '../../src/tuf/index.js';
import { TrustedSet, listSignedTags, resolveTag, type TrustedRepo } from '../../src/updater/index.js';
import { thrownCode } from '../helpers/errors.js';

const V = path.join(import.meta.dirname, '../fixtures/vectors');
const read = (p: string): Buffer => readFileSync(path.join(V, p));
const DAY = 24 * 3600 * 1000;

/** A moment when the fixture timestamp is still valid (it expires 14 days after capture). */
function fixtureNow(dir: string): Date {
  return new Date(Date.parse(parseTimestamp(read(`${dir}/tuf/timestamp.json`)).signed.expires) - 13 * DAY);
}

function load(
  dir: string,
  gun: string,
  roles: string[],
  opts: { tofu?: boolean } = {},
): { set: TrustedSet; repo: TrustedRepo } {
  const now = fixtureNow(dir);
  const set = TrustedSet.fromNewRoot(read(`${dir}/tuf/root.json`), {
    gun: parseGun(gun),
    now,
    tofu: opts.tofu ?? true,
  });
  set.updateTimestamp(read(`${dir}/tuf/timestamp.json`));
  set.updateSnapshot(read(`${dir}/tuf/snapshot.json`));
  set.updateTargets(read(`${dir}/tuf/targets.json`));
  for (const r of roles) set.updateDelegation(r, read(`${dir}/tuf/${r}.json`));
  const repo: TrustedRepo = {
    gun,
    root: set.root,
    timestamp: set.timestamp!,
    snapshot: set.snapshot!,
    targets: set.targets!,
    delegations: new Map(set.delegations),
  };
  return { set, repo };
}

describe('TrustedSet on real notary output', () => {
  const GUN = parseGun('127.0.0.1:5000/library/hello');

  it('verifies the whole notary CLI repository and resolves tags like docker', () => {
    const { repo } = load('notary', GUN, ['targets/releases']);
    expect(resolveTag(repo, '1.0')?.role).toBe('targets');
    expect(resolveTag(repo, '2.0')?.role).toBe('targets/releases');
    expect(resolveTag(repo, '3.0')).toBeNull();
    expect(resolveTag(repo, '1.0')?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('walks root v1 → v2 (snapshot key rotated to the server)', () => {
    const now = fixtureNow('notary');
    const set = TrustedSet.fromTrustedRoot(read('notary/tuf/1.root.json'), { gun: GUN, now });
    set.updateRoot(read('notary/tuf/2.root.json'), { final: true });
    expect(set.root.signed.version).toBe(2);
    set.updateTimestamp(read('notary/tuf/timestamp.json'));
    set.updateSnapshot(read('notary/tuf/snapshot.json'));
    expect(set.rootMatchesSnapshot()).toBe(true);
  });

  it('refuses the fixture root for another GUN (CERTIFICATE)', () => {
    expect(
      thrownCode(() =>
        TrustedSet.fromNewRoot(read('notary/tuf/root.json'), {
          gun: parseGun('127.0.0.1:5000/library/other'),
          now: fixtureNow('notary'),
          tofu: true,
        }),
      ),
    ).toBe('CERTIFICATE');
  });

  it('refuses the fixture timestamp two weeks later (EXPIRED)', () => {
    const set = TrustedSet.fromNewRoot(read('notary/tuf/root.json'), {
      gun: GUN,
      now: new Date(fixtureNow('notary').getTime() + 14 * DAY),
      tofu: true,
    });
    expect(thrownCode(() => set.updateTimestamp(read('notary/tuf/timestamp.json')))).toBe('EXPIRED');
  });

  it('refuses a root older than the trusted one (ROLLBACK)', () => {
    const set = TrustedSet.fromTrustedRoot(read('notary/tuf/2.root.json'), { gun: GUN, now: fixtureNow('notary') });
    expect(thrownCode(() => set.updateRoot(read('notary/tuf/1.root.json'), { final: true }))).toBe('ROLLBACK');
  });

  it('refuses a snapshot not listed by the timestamp (MIX_AND_MATCH)', () => {
    const set = TrustedSet.fromNewRoot(read('notary/tuf/root.json'), {
      gun: GUN,
      now: fixtureNow('notary'),
      tofu: true,
    });
    set.updateTimestamp(read('notary/tuf/timestamp.json'));
    const snap = Buffer.concat([read('notary/tuf/snapshot.json'), Buffer.from(' ')]);
    expect(thrownCode(() => set.updateSnapshot(snap))).toBe('MIX_AND_MATCH');
  });

  it('refuses a first-seen root without pin or TOFU (UNTRUSTED_ROOT)', () => {
    expect(
      thrownCode(() => TrustedSet.fromNewRoot(read('notary/tuf/root.json'), { gun: GUN, now: fixtureNow('notary') })),
    ).toBe('UNTRUSTED_ROOT');
  });

  it('accepts it when pinned by the root certificate key ID', () => {
    const root = JSON.parse(read('notary/tuf/root.json').toString()) as {
      signed: { roles: { root: { keyids: string[] } } };
    };
    const set = TrustedSet.fromNewRoot(read('notary/tuf/root.json'), {
      gun: GUN,
      now: fixtureNow('notary'),
      pin: { kind: 'certs', pattern: GUN, certs: root.signed.roles.root.keyids },
    });
    expect(set.root.signed.version).toBe(2);
  });
});

describe('TrustedSet on real docker trust output', () => {
  const GUN = parseGun('127.0.0.1:5000/library/dockerhello');

  it('lists the signed tags with their signers as docker trust inspect does', () => {
    const { repo } = load('docker', GUN, ['targets/alice', 'targets/releases', 'targets/bob']);
    const inspect = JSON.parse(read('docker/cli/trust-inspect.json').toString()) as Array<{
      SignedTags: Array<{ SignedTag: string; Digest: string; Signers: string[] }>;
    }>;
    const want = inspect[0]?.SignedTags.map((t) => ({
      tag: t.SignedTag,
      digest: `sha256:${t.Digest}`,
      signers: t.Signers,
    }));
    const got = listSignedTags(repo).map((t) => ({ tag: t.tag, digest: t.digest, signers: t.signers }));
    expect(got).toEqual(want);
  });

  it('resolves 1.0 through targets/releases first', () => {
    const { repo } = load('docker', GUN, ['targets/alice', 'targets/releases', 'targets/bob']);
    expect(resolveTag(repo, '1.0')?.role).toBe('targets/releases');
  });

  it('refuses a delegation before its parent is trusted (INVALID_ROLE)', () => {
    const now = fixtureNow('docker');
    const set = TrustedSet.fromNewRoot(read('docker/tuf/root.json'), { gun: GUN, now, tofu: true });
    set.updateTimestamp(read('docker/tuf/timestamp.json'));
    set.updateSnapshot(read('docker/tuf/snapshot.json'));
    expect(thrownCode(() => set.updateDelegation('targets/alice', read('docker/tuf/targets/alice.json')))).toBe(
      'INVALID_ROLE',
    );
  });
});
