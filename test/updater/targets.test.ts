// Docker's tag resolution (C:cli/command/image/trust.go) on hand-built metadata: resolveTag is pure.
import { describe, expect, it } from 'vitest';
import {
  newTargets,
  type DelegationRole,
  type FileMeta,
  type Metadata,
  type TargetsSigned,
} from '../../src/tuf/index.js';
import { listSignedTags, resolveTag, type TrustedRepo } from '../../src/updater/index.js';

const meta = (hexByte: string, length = 10): FileMeta => ({
  hashes: { sha256: Buffer.alloc(32, Number.parseInt(hexByte, 16)).toString('base64') },
  length,
});
const digest = (hexByte: string): string => 'sha256:' + hexByte.repeat(32);

function md(
  role: string,
  targets: Record<string, FileMeta>,
  roles: Array<Partial<DelegationRole> & { name: string }> = [],
): Metadata<TargetsSigned> {
  const signed = newTargets('2100-01-01T00:00:00Z');
  signed.targets = targets;
  signed.delegations = { keys: {}, roles: roles.map((r) => ({ keyids: [], threshold: 1, paths: [''], ...r })) };
  return { role, signed, signatures: [], bytes: Buffer.alloc(0), signedBytes: Buffer.alloc(0) };
}

function repo(targets: Metadata<TargetsSigned>, delegations: Array<Metadata<TargetsSigned>>): TrustedRepo {
  return {
    gun: 'g/a',
    root: undefined as never,
    timestamp: undefined as never,
    snapshot: undefined as never,
    targets,
    delegations: new Map(delegations.map((d) => [d.role, d])),
  };
}

describe('resolveTag (Docker order)', () => {
  it('prefers targets/releases over targets', () => {
    const r = repo(md('targets', { v: meta('01') }, [{ name: 'targets/releases' }]), [
      md('targets/releases', { v: meta('02') }),
    ]);
    expect(resolveTag(r, 'v')).toMatchObject({ role: 'targets/releases', digest: digest('02') });
  });

  it('refuses a tag only signed by another delegation (targets/alice)', () => {
    const r = repo(md('targets', {}, [{ name: 'targets/alice' }]), [md('targets/alice', { v: meta('03') })]);
    expect(resolveTag(r, 'v')).toBeNull();
  });

  it('lets a hit in targets/releases/x shadow targets, so the tag is refused', () => {
    const r = repo(md('targets', { v: meta('01') }, [{ name: 'targets/releases' }]), [
      md('targets/releases', {}, [{ name: 'targets/releases/x' }]),
      md('targets/releases/x', { v: meta('04') }),
    ]);
    expect(resolveTag(r, 'v')).toBeNull();
  });

  it('does not visit a delegation whose paths do not cover the tag', () => {
    const r = repo(md('targets', { other: meta('01') }, [{ name: 'targets/releases', paths: ['v'] }]), [
      md('targets/releases', { other: meta('05'), v1: meta('06') }),
    ]);
    expect(resolveTag(r, 'other')).toMatchObject({ role: 'targets', digest: digest('01') });
    expect(resolveTag(r, 'v1')).toMatchObject({ role: 'targets/releases', digest: digest('06') });
  });

  it('restricts a child delegation to its parent paths', () => {
    const r = repo(md('targets', {}, [{ name: 'targets/releases', paths: ['v'] }]), [
      md('targets/releases', {}, [{ name: 'targets/releases/x', paths: ['v2', 'w'] }]),
      md('targets/releases/x', { w1: meta('07'), v2: meta('08') }),
    ]);
    expect(resolveTag(r, 'w1', ['targets/releases/x'])).toBeNull();
    expect(resolveTag(r, 'v2', ['targets/releases/x'])?.digest).toBe(digest('08'));
  });

  it('ignores a delegation that is not a direct child', () => {
    const r = repo(md('targets', {}, [{ name: 'targets/a/b' }]), [md('targets/a/b', { v: meta('09') })]);
    expect(resolveTag(r, 'v', ['targets/a/b', 'targets'])).toBeNull();
  });
});

describe('listSignedTags', () => {
  it('lists released tags with the delegations that signed the same digest', () => {
    const r = repo(
      md('targets', { t: meta('01'), only: meta('0a') }, [
        { name: 'targets/releases' },
        { name: 'targets/alice' },
        { name: 'targets/bob' },
      ]),
      [
        md('targets/releases', { r: meta('02') }),
        md('targets/alice', { r: meta('02'), t: meta('01'), hidden: meta('0b') }),
        md('targets/bob', { r: meta('0c') }),
      ],
    );
    expect(listSignedTags(r)).toEqual([
      { tag: 'only', digest: digest('0a'), size: 10, role: 'targets', signers: ['Repo Admin'] },
      { tag: 'r', digest: digest('02'), size: 10, role: 'targets/releases', signers: ['alice'] },
      { tag: 't', digest: digest('01'), size: 10, role: 'targets', signers: ['alice'] },
    ]);
  });
});
