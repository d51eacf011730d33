import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  canonicalString,
  compareUtf8,
  htmlEscapeJson,
  nonIntegerNumberLiteral,
  parseJsonBytes,
  type JsonValue,
} from '../../src/tuf/index.js';
import { thrownCode } from '../helpers/errors.js';
import { jsonText, jsonValue } from '../helpers/json-arbitrary.js';

const text = jsonText(12);
const json = jsonValue({ textLength: 12, width: 5 });

/** The same value with every object's keys inserted in reverse order. */
function reverseKeys(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(reverseKeys);
  if (v !== null && typeof v === 'object') {
    // fromEntries defines own properties: a key named __proto__ stays a key (assignment would set the prototype)
    return Object.fromEntries(
      Object.keys(v)
        .reverse()
        .map((k) => [k, reverseKeys(v[k] as JsonValue)]),
    );
  }
  return v;
}

describe('canonical JSON (docker/go canonical/json)', () => {
  it('parses back to a deep-equal value', () => {
    fc.assert(
      fc.property(json, (v) => {
        expect(parseJsonBytes(canonicalJson(v), 'test')).toEqual(v);
      }),
    );
  });

  it('is idempotent: re-encoding the parsed output gives the same bytes', () => {
    fc.assert(
      fc.property(json, (v) => {
        const once = canonicalJson(v);
        expect(canonicalJson(parseJsonBytes(once, 'test')).equals(once)).toBe(true);
      }),
    );
  });

  it('does not depend on the key order of the input objects', () => {
    fc.assert(
      fc.property(json, (v) => {
        expect(canonicalString(reverseKeys(v))).toBe(canonicalString(v));
      }),
    );
  });

  it('writes object keys sorted bytewise on their UTF-8 encoding, without whitespace', () => {
    fc.assert(
      fc.property(fc.dictionary(text, fc.integer(), { maxKeys: 8 }), (obj) => {
        const keys = Object.keys(obj).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
        const expected = '{' + keys.map((k) => `"${k.replace(/[\\"]/g, (c) => '\\' + c)}":${obj[k]}`).join(',') + '}';
        expect(canonicalString(obj)).toBe(expected);
      }),
    );
  });

  it('orders a supplementary-plane key after U+FFFF (UTF-8 order, not UTF-16)', () => {
    expect(canonicalString({ '\u{10000}': 1, '\uffff': 2 })).toBe('{"\uffff":2,"\u{10000}":1}');
    expect(compareUtf8('\u{10000}', '\uffff')).toBeGreaterThan(0);
  });

  it('escapes only quote and backslash; writes <>&, non-ASCII and U+2028 raw', () => {
    expect(canonicalString({ b: 'a"b\\c', a: ['<>&é\u2028', null, true, -5] })).toBe(
      '{"a":["<>&é\u2028",null,true,-5],"b":"a\\"b\\\\c"}',
    );
  });

  it('prints integral numbers as integers (1.0 → 1, -0 → 0)', () => {
    expect(canonicalString(parseJsonBytes(Buffer.from('[1.0,-0,1e3]'), 't'))).toBe('[1,0,1000]');
  });

  it('refuses non-integral numbers with CANONICAL_JSON', () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: false }).filter((d) => !Number.isInteger(d)),
        (d) => {
          expect(thrownCode(() => canonicalJson({ n: d }))).toBe('CANONICAL_JSON');
        },
      ),
    );
  });

  it('refuses integers beyond 2^53 with CANONICAL_JSON', () => {
    expect(thrownCode(() => canonicalJson(2 ** 60))).toBe('CANONICAL_JSON');
  });

  it('refuses strings and keys holding control characters with CANONICAL_JSON', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 0x1f }), text, (a, c, b) => {
        const s = a + String.fromCharCode(c) + b;
        expect(thrownCode(() => canonicalJson([s]))).toBe('CANONICAL_JSON');
        expect(thrownCode(() => canonicalJson({ [s]: 1 }))).toBe('CANONICAL_JSON');
      }),
    );
  });

  it('HTML-escapes <, >, &, U+2028 and U+2029 for the envelope', () => {
    expect(htmlEscapeJson('"a<b>&\u2028\u2029"')).toBe('"a\\u003cb\\u003e\\u0026\\u2028\\u2029"');
  });
});

describe('nonIntegerNumberLiteral', () => {
  it('finds fraction and exponent literals that Go cannot decode into integer fields', () => {
    expect(nonIntegerNumberLiteral('{"version":2.0}')).toBe('2.0');
    expect(nonIntegerNumberLiteral('{"length":1e3}')).toBe('1e3');
    expect(nonIntegerNumberLiteral('[1,-2,3.5]')).toBe('3.5');
    expect(nonIntegerNumberLiteral('{"n":-0.1E-2}')).toBe('-0.1E-2');
  });

  it('ignores integers and anything inside strings, escaped quotes included', () => {
    expect(nonIntegerNumberLiteral('{"version":2,"length":-10,"threshold":1}')).toBeUndefined();
    expect(nonIntegerNumberLiteral('{"name":"v1.2.3","x":"2e5"}')).toBeUndefined();
    expect(nonIntegerNumberLiteral('{"a":"say \\"1.5\\" here","b":7}')).toBeUndefined();
    expect(nonIntegerNumberLiteral('{"a":"\\\\","b":1.5}')).toBe('1.5');
  });
});
