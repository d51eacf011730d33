// The one WWW-Authenticate parser, fed what registries and trust servers send.
import { describe, expect, it } from 'vitest';
import { basicAuthorization, parseChallenges } from '../../src/http/index.js';

describe('parseChallenges', () => {
  it('reads Bearer challenges with quoted params, commas inside quotes included', () => {
    expect(
      parseChallenges(
        'Bearer realm="https://a/token",service="notary, x",scope="repository:g/h:push,pull",error="insufficient_scope"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://a/token',
          service: 'notary, x',
          scope: 'repository:g/h:push,pull',
          error: 'insufficient_scope',
        },
      },
    ]);
  });

  it('reads several values, escapes, bare tokens and several challenges in one value', () => {
    expect(parseChallenges(['Basic realm="a \\"b\\""', 'Bearer realm=x, error=insufficient_scope'])).toEqual([
      { scheme: 'basic', params: { realm: 'a "b"' } },
      { scheme: 'bearer', params: { realm: 'x', error: 'insufficient_scope' } },
    ]);
    expect(parseChallenges('Basic realm="r", Bearer realm="t"').map((c) => c.scheme)).toEqual(['basic', 'bearer']);
    expect(parseChallenges(['Basic realm="r"', 'Bearer realm=x'])).toEqual([
      { scheme: 'basic', params: { realm: 'r' } },
      { scheme: 'bearer', params: { realm: 'x' } },
    ]);
    expect(parseChallenges('BEARER Realm="u"')).toEqual([{ scheme: 'bearer', params: { realm: 'u' } }]);
    expect(parseChallenges(undefined)).toEqual([]);
    expect(parseChallenges('')).toEqual([]);
  });

  it('builds Basic headers from UTF-8', () => {
    expect(basicAuthorization('bob', 'pa:ss')).toBe('Basic ' + Buffer.from('bob:pa:ss').toString('base64'));
  });
});
