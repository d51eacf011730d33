import { describe, expect, it } from 'vitest';
import {
  findDelegation,
  isDelegationRole,
  isDirectChild,
  isValidRoleName,
  parentRole,
  parseTargets,
  pathAllowed,
  restrictPaths,
  type TargetsSigned,
} from '../../src/tuf/index.js';
import { vector } from './helpers.js';

describe('delegation role names', () => {
  it.each([
    ['targets/releases', true],
    ['targets/a/b-c_d/0', true],
    ['targets', false],
    ['targets/', false],
    ['targets//a', false],
    ['targets/a/', false],
    ['targets/./a', false],
    ['targets/../root', false],
    ['targets/Upper', false],
    ['targets/a b', false],
    ['root/x', false],
    [`targets/${'a'.repeat(248)}`, false], // 256 chars
    [`targets/${'a'.repeat(247)}`, true], // 255 chars
  ])('%s is a delegation: %s', (name, ok) => {
    expect(isDelegationRole(name)).toBe(ok);
  });

  it('accepts the base roles and delegations as role names', () => {
    expect(['root', 'targets', 'snapshot', 'timestamp', 'targets/x'].every(isValidRoleName)).toBe(true);
    expect(isValidRoleName('Root')).toBe(false);
  });

  it('finds parents and direct children', () => {
    expect(parentRole('targets/a/b')).toBe('targets/a');
    expect(parentRole('targets/a')).toBe('targets');
    expect(parentRole('targets')).toBeUndefined();
    expect(isDirectChild('targets', 'targets/a')).toBe(true);
    expect(isDirectChild('targets/a', 'targets/a/b')).toBe(true);
    expect(isDirectChild('targets', 'targets/a/b')).toBe(false);
    expect(isDirectChild('targets/a', 'targets/ab')).toBe(false);
    expect(isDirectChild('root', 'root/a')).toBe(false);
  });
});

describe('delegation paths', () => {
  it('treats paths as plain string prefixes; "" matches all; none matches nothing', () => {
    expect(pathAllowed([''], 'anything')).toBe(true);
    expect(pathAllowed(['v1/'], 'v1/x')).toBe(true);
    expect(pathAllowed(['v1/'], 'v2/x')).toBe(false);
    expect(pathAllowed(['v1'], 'v10')).toBe(true);
    expect(pathAllowed(['*'], 'x')).toBe(false);
    expect(pathAllowed([], 'x')).toBe(false);
    expect(pathAllowed(undefined, 'x')).toBe(false);
  });

  it("keeps only the child paths that lie within one of the parent's paths", () => {
    expect(restrictPaths(['a/'], ['a/b', 'b/', 'a/'])).toEqual(['a/b', 'a/']);
    expect(restrictPaths([''], ['x', ''])).toEqual(['x', '']);
    expect(restrictPaths(['a/b'], ['a/'])).toEqual([]);
  });

  it('finds the delegations listed in the docker capture', () => {
    const t = parseTargets('targets', vector('docker', 'targets.json')).signed as TargetsSigned;
    expect(findDelegation(t, 'targets/releases')?.keyids).toHaveLength(2);
    expect(findDelegation(t, 'targets/alice')?.paths).toEqual(['']);
    expect(findDelegation(t, 'targets/carol')).toBeUndefined();
  });
});
