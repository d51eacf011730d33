import { describe, expect, it } from 'vitest';
import type { SignetErrorCode } from '../../src/errors.js';
import {
  delegationRoleKeys,
  parseMetadata,
  parseRoot,
  parseTargets,
  rootRoleKeys,
  verifyRole,
  type TargetsSigned,
} from '../../src/tuf/index.js';
import { thrownCode } from '../helpers/errors.js';
import { vector } from './helpers.js';

const root = parseRoot(vector('notary', 'root.json')).signed;

/** Parse and verify a (possibly tampered) copy of a notary-capture file against the right keys. */
function load(role: string, bytes: Buffer): void {
  const md = parseMetadata(role, bytes);
  if (role === 'targets/releases') {
    const parent = parseTargets('targets', vector('notary', 'targets.json')).signed as TargetsSigned;
    verifyRole(md, delegationRoleKeys(parent, role));
  } else {
    verifyRole(md, rootRoleKeys(role === 'root' ? (md.signed as typeof root) : root, role));
  }
}

/** Replace the `nth` occurrence (0-based) of `find` with `repl` (same length keeps every other offset). */
function swap(bytes: Buffer, find: string, repl: string, nth = 0): Buffer {
  const s = bytes.toString('latin1');
  let at = -1;
  for (let i = 0; i <= nth; i++) at = s.indexOf(find, at + 1);
  if (at < 0) throw new Error(`fixture has no ${find}`);
  return Buffer.from(s.slice(0, at) + repl + s.slice(at + find.length), 'latin1');
}

describe('single-byte changes inside signed', () => {
  const targets = vector('notary', 'targets.json');
  const hash = '0MPkPZ7Ot0P+RTd86QOTEuahEBx4LnBcWZxJd/uc+14=';
  const cases: [string, Buffer, SignetErrorCode][] = [
    ['a letter of a target name (1.0 → 2.0)', swap(targets, '"1.0":', '"2.0":'), 'THRESHOLD'],
    ['a character of a target hash', swap(targets, hash, hash.replace('Ot0', 'Ot1')), 'THRESHOLD'],
    ['a digit of a target length', swap(targets, '"length":423', '"length":424'), 'THRESHOLD'],
    ['the version', swap(targets, '"version":5}', '"version":6}'), 'THRESHOLD'],
    ['a digit of expires', swap(targets, '"expires":"2029', '"expires":"2039'), 'THRESHOLD'],
    ['a delegation role name', swap(targets, '"targets/releases"', '"targets/releaser"'), 'THRESHOLD'],
    ['the delegation threshold to 0', swap(targets, '"threshold":1', '"threshold":0'), 'MALFORMED_METADATA'],
    ['_type', swap(targets, '"Targets"', '"Targetz"'), 'MALFORMED_METADATA'],
    ['a delegated key ID in roles', swap(targets, '"keyids":["8aeb', '"keyids":["9aeb'), 'MALFORMED_METADATA'],
    ['a structural character', swap(targets, '"targets":{', '"targets":['), 'MALFORMED_METADATA'],
  ];
  it('the untouched file verifies', () => {
    expect(thrownCode(() => load('targets', targets))).toBe('OK');
  });
  for (const [what, bytes, code] of cases) {
    it(`refuses targets.json with a changed ${what} (${code})`, () => {
      expect(bytes.length).toBe(targets.length);
      expect(thrownCode(() => load('targets', bytes))).toBe(code);
    });
  }

  it('a key listed under an ID its content does not hash to is INVALID_KEY_ID', () => {
    // change one base64 character of the snapshot key inside root: the key ID no longer matches
    const rootBytes = vector('notary', 'root.json');
    const md = parseRoot(rootBytes);
    const snapId = md.signed.roles['snapshot']?.keyids[0] ?? '';
    const pub = md.signed.keys[snapId]?.keyval.public ?? '';
    const forged = pub.slice(0, 40) + (pub[40] === 'A' ? 'B' : 'A') + pub.slice(41);
    const tampered = swap(rootBytes, pub, forged);
    const forgedRoot = parseRoot(tampered);
    const snapshot = parseMetadata('snapshot', vector('notary', 'snapshot.json'));
    expect(thrownCode(() => verifyRole(snapshot, rootRoleKeys(forgedRoot.signed, 'snapshot')))).toBe('INVALID_KEY_ID');
  });

  for (const [role, file] of [
    ['root', 'root.json'],
    ['targets', 'targets.json'],
    ['targets/releases', 'targets/releases.json'],
    ['snapshot', 'snapshot.json'],
    ['timestamp', 'timestamp.json'],
  ] as const) {
    it(`every single-byte change inside signed of ${file} fails to load`, () => {
      const bytes = vector('notary', file);
      const start = '{"signed":'.length;
      const end = bytes.indexOf(',"signatures":');
      let checked = 0;
      for (let i = start; i < end; i++) {
        const b = bytes[i] ?? 0;
        const c = String.fromCharCode(b);
        // stay in the same character class so most changes still parse and reach signature checks
        const repl = /[0-8]/.test(c)
          ? b + 1
          : c === '9'
            ? 0x30
            : /[a-yA-Y]/.test(c)
              ? b + 1
              : /[zZ]/.test(c)
                ? b - 1
                : 0x78;
        const t = Buffer.from(bytes);
        t[i] = repl;
        expect(
          thrownCode(() => load(role, t)),
          `byte ${i} (${c})`,
        ).not.toBe('OK');
        checked++;
      }
      expect(checked).toBe(end - start);
      expect(checked).toBeGreaterThan(200);
    });
  }
});

describe('signature changes', () => {
  for (const [role, file] of [
    ['root', 'root.json'],
    ['targets', 'targets.json'],
    ['snapshot', 'snapshot.json'],
    ['timestamp', 'timestamp.json'],
    ['targets/releases', 'targets/releases.json'],
  ] as const) {
    it(`refuses ${file} with one changed signature character (THRESHOLD)`, () => {
      const bytes = vector('notary', file);
      const s = bytes.toString('latin1');
      const at = s.indexOf('"sig":"') + '"sig":"'.length + 20;
      const t = Buffer.from(bytes);
      t[at] = s[at] === 'A' ? 0x42 : 0x41;
      expect(thrownCode(() => load(role, t))).toBe('THRESHOLD');
    });
  }

  it('counts two signatures by the same key once', () => {
    const md = parseMetadata('timestamp', vector('notary', 'timestamp.json'));
    const sig = md.signatures[0];
    if (sig === undefined) throw new Error('fixture has no signature');
    const set = rootRoleKeys(root, 'timestamp');
    const doubled = { ...md, signatures: [sig, { ...sig }] };
    expect(thrownCode(() => verifyRole(doubled, { ...set, threshold: 2 }))).toBe('THRESHOLD');
    expect(thrownCode(() => verifyRole(doubled, set))).toBe('OK');
  });

  it('ignores signatures by keys the role does not list', () => {
    const md = parseMetadata('timestamp', vector('notary', 'timestamp.json'));
    const sig = md.signatures[0];
    if (sig === undefined) throw new Error('fixture has no signature');
    const withStranger = { ...md, signatures: [{ keyid: 'ab'.repeat(32), method: 'ecdsa', sig: 'AAAA' }, sig] };
    expect(thrownCode(() => verifyRole(withStranger, rootRoleKeys(root, 'timestamp')))).toBe('OK');
  });

  it('refuses a file with no signatures', () => {
    const md = parseMetadata('timestamp', vector('notary', 'timestamp.json'));
    expect(thrownCode(() => verifyRole({ ...md, signatures: [] }, rootRoleKeys(root, 'timestamp')))).toBe('THRESHOLD');
  });
});
