// fast-check arbitraries of JSON values, shared by the canonical-JSON property tests: strings of
// whole code points (no lone surrogates) without control characters, safe integers, nesting.
import fc from 'fast-check';
import type { JsonValue } from '../../src/tuf/index.js';

export function jsonText(maxLength: number): fc.Arbitrary<string> {
  // eslint-disable-next-line no-control-regex
  return fc.string({ unit: 'binary', maxLength }).filter((s) => !/[\u0000-\u001f]/.test(s));
}

/** JSON values; `numbers` adds number literals beyond safe integers (e.g. -0, 2 ** 60, 1.5). */
export function jsonValue(opts: { textLength: number; width: number; numbers?: number[] }): fc.Arbitrary<JsonValue> {
  const text = jsonText(opts.textLength);
  return fc.letrec<{ value: JsonValue }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant(null),
      fc.boolean(),
      fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
      ...(opts.numbers !== undefined ? [fc.constantFrom(...opts.numbers)] : []),
      text,
      fc.array(tie('value'), { maxLength: opts.width }),
      fc.dictionary(text, tie('value'), { maxKeys: opts.width }),
    ),
  })).value;
}
