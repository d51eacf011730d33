/**
 * The in-place canonical check and the targets splice must give exactly the encoder's bytes, or
 * give up: parseMetadata and signing use them in place of re-encoding, so any other answer would
 * change what a signature is checked or made over.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  canonicalSignedRange,
  canonicalSignedVersion,
  canonicalString,
  editedTargetsBytes,
  htmlEscapeJson,
  newTargets,
  parseTargets,
  type FileMeta,
  type JsonValue,
  type Metadata,
  type TargetsSigned,
} from '../../src/tuf/index.js';
import { Checker } from '../../src/tuf/structure.js';
import { jsonText, jsonValue } from '../helpers/json-arbitrary.js';

const text = jsonText(10);
const json = jsonValue({ textLength: 10, width: 4, numbers: [-0, 2 ** 60, 1.5] });

/** The bytes a re-encoding of the parsed `signed` gives, or undefined when it cannot be encoded. */
function reEncoded(file: string): Buffer | undefined {
  try {
    return canonicalJson((JSON.parse(file) as { signed: JsonValue }).signed);
  } catch {
    return undefined;
  }
}

/** The range's bytes must be the re-encoding; undefined is always allowed. */
function agrees(file: string): boolean {
  const bytes = Buffer.from(file, 'utf8');
  const r = canonicalSignedRange(bytes);
  if (r === undefined) return true;
  const want = reEncoded(file);
  return want !== undefined && want.equals(bytes.subarray(r.start, r.end));
}

const envelope = (body: string, rest = ',"signatures":[]'): string => `{"signed":${body}${rest}}`;

describe('canonicalSignedRange', () => {
  it('gives the encoder bytes or nothing, for canonical, re-ordered, spaced and escaped bodies', () => {
    fc.assert(
      fc.property(json, (v) => {
        const canonical = (() => {
          try {
            return canonicalString(v);
          } catch {
            return undefined;
          }
        })();
        const files = [envelope(JSON.stringify(v)), envelope(JSON.stringify(v, null, 1))];
        if (canonical !== undefined) {
          files.push(envelope(canonical), envelope(htmlEscapeJson(canonical)), envelope(canonical, ',"signed":{}'));
        }
        return files.every(agrees);
      }),
      { numRuns: 2000 },
    );
  });

  it('finds the body of a notary file in place', () => {
    const body = canonicalString({
      _type: 'Targets',
      targets: { a: { custom: 'say "hi" \\' }, é: { length: -2 } },
      version: 7,
    });
    const file = Buffer.from(envelope(body, ',"signatures":[{"keyid":"k","method":"ecdsa","sig":"AA=="}]'));
    const r = canonicalSignedRange(file);
    expect(r).toEqual({ start: 10, end: 10 + Buffer.byteLength(body) });
    expect(canonicalSignedVersion(file)).toBe(7);
  });

  it.each([
    ['a space', '{"a": 1}'],
    ['keys out of order', '{"b":1,"a":2}'],
    ['a repeated key', '{"a":1,"a":1}'],
    ['an escaped key', '{"\\u0061":1}'],
    ['a \\u escape', '{"a":"\\u0041"}'],
    ['a \\n escape', '{"a":"\\n"}'],
    ['-0', '{"a":-0}'],
    ['a fraction', '{"a":1.0}'],
    ['an exponent', '{"a":1e2}'],
    ['an unsafe integer', '{"a":12345678901234567890}'],
    ['nesting past the encoder limit', '{"a":' + '['.repeat(101) + ']'.repeat(101) + '}'],
  ])('gives up on %s', (_why, body) => {
    expect(canonicalSignedRange(Buffer.from(envelope(body)))).toBeUndefined();
  });

  it('gives up on invalid UTF-8, a byte-order mark and a later signed member', () => {
    const bad = Buffer.concat([
      Buffer.from('{"signed":{"a":"'),
      Buffer.from([0xff]),
      Buffer.from('"},"signatures":[]}'),
    ]);
    expect(canonicalSignedRange(bad)).toBeUndefined();
    expect(canonicalSignedRange(Buffer.from('\ufeff' + envelope('{"a":1}')))).toBeUndefined();
    expect(canonicalSignedRange(Buffer.from(envelope('{"a":1}', ',"sig\\u006eed":{"a":2}')))).toBeUndefined();
    expect(canonicalSignedRange(Buffer.from(envelope('{"a":1}', ' , "signatures" : [ ]')))).toEqual({
      start: 10,
      end: 17,
    });
  });
});

const meta = (n: number): FileMeta => ({
  hashes: { sha256: Buffer.alloc(32, n % 256).toString('base64') },
  length: n,
});

/** A parsed targets file of `names`, as the updater hands it on. */
function parsed(names: string[]): Metadata<TargetsSigned> {
  const body = newTargets('2030-01-01T00:00:00Z', 3);
  names.forEach((n, i) => Object.defineProperty(body.targets, n, { value: meta(i), enumerable: true }));
  const file = `{"signed":${htmlEscapeJson(canonicalString(body as unknown as JsonValue))},"signatures":[]}`;
  return parsed0(file);
}
const parsed0 = (file: string): Metadata<TargetsSigned> => parseTargets('targets', Buffer.from(file, 'utf8'));

describe('editedTargetsBytes', () => {
  const name = fc.oneof(
    fc.stringMatching(/^[a-z0-9._-]{1,6}$/),
    text.filter((s) => s.length > 0),
  );
  it('is the encoding of the edited body whenever it answers', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(name, { maxLength: 12 }),
        fc.array(fc.tuple(name, fc.option(fc.nat(5000), { nil: undefined })), { maxLength: 5 }),
        (names, edits) => {
          const base = parsed(names);
          const signed: TargetsSigned = { ...base.signed, targets: { ...base.signed.targets }, version: 4 };
          const changed = new Set<string>();
          for (const [n, v] of edits) {
            changed.add(n);
            if (v === undefined) delete signed.targets[n];
            else Object.defineProperty(signed.targets, n, { value: meta(v), enumerable: true, configurable: true });
          }
          const got = editedTargetsBytes('targets', base, signed, changed);
          const want = canonicalJson(signed as unknown as JsonValue);
          const plain = [...names, ...edits.map(([n]) => n)].every((n) => !/["\\]/.test(n));
          return got === undefined ? !plain : got.equals(want);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('takes a first publish of 150,000 staged targets (pieces joined without a spread)', () => {
    const base = parsed([]);
    const signed: TargetsSigned = { ...base.signed, targets: {} };
    const changed = new Set<string>();
    for (let i = 0; i < 150_000; i++) {
      signed.targets[`t${i}`] = meta(i);
      changed.add(`t${i}`);
    }
    const got = editedTargetsBytes('targets', base, signed, changed);
    expect(got?.equals(canonicalJson(signed as unknown as JsonValue))).toBe(true);
  });

  it('gives up when an entry was added or removed without being named', () => {
    const base = parsed(['a', 'b']);
    const added: TargetsSigned = { ...base.signed, targets: { a: meta(1), b: meta(2), c: meta(3) } };
    expect(editedTargetsBytes('targets', base, added, new Set(['a']))).toBeUndefined();
    const removed: TargetsSigned = { ...base.signed, targets: { a: meta(1) } };
    expect(editedTargetsBytes('targets', base, removed, new Set(['a']))).toBeUndefined();
  });

  it('checks the structure of the changed entries', () => {
    const base = parsed(['a']);
    const bad = { length: -1, hashes: {} } as unknown as FileMeta;
    const signed: TargetsSigned = { ...base.signed, targets: { a: meta(1), b: bad } };
    expect(() => editedTargetsBytes('targets', base, signed, new Set(['b']))).toThrow(/signed\.targets\["b"\]\.length/);
  });
});

describe('the base64 check of target hashes', () => {
  it('takes exactly what /^[A-Za-z0-9+/]*={0,2}$/ takes (length a multiple of 4)', () => {
    const alphabet = fc.constantFrom(...'AZaz09+/=-_. é\u0100'.split(''));
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 12 }), (chars) => {
        const s = chars.join('');
        const want = s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s);
        let got = true;
        try {
          new Checker('x').base64Text(s, 'h');
        } catch {
          got = false;
        }
        return got === want;
      }),
      { numRuns: 3000 },
    );
  });
});
