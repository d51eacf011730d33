/** The one GUN check (src/tuf/gun.ts `parseGun`, the only maker of a Gun) and the places that use it. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gunDir } from '../../src/client/index.js';
import { isSignetError } from '../../src/errors.js';
import { matchRoute } from '../../src/server/routes.js';
import { MAX_GUN_LENGTH, parseGun } from '../../src/tuf/index.js';
import { MetadataCache } from '../../src/updater/index.js';

function reason(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (!isSignetError(err, 'INVALID_GUN')) throw err;
    expect(err.fix).toBeTruthy();
    return String(err.details?.['reason']);
  }
}

const GOOD = [
  'docker.io/library/alpine',
  'registry.example.com:5000/team/app',
  '127.0.0.1:4443/a/b',
  'a',
  'a..b/c.d/.e/f.',
  'ünïcödé/名前',
  'x'.repeat(MAX_GUN_LENGTH),
];

const BAD: [string, string, RegExp][] = [
  ['empty', '', /empty/],
  ['too long', 'x'.repeat(MAX_GUN_LENGTH + 1), /longer than 255/],
  ['star', 'docker.io/library/*', /"\*"/],
  ['star inside', 'a*b', /"\*"/],
  ['backslash', 'a\\b', /backslash/],
  ['backslash traversal', '..\\..\\etc', /backslash/],
  ['NUL', 'a\0b', /control/],
  ['newline', 'a\nb', /control/],
  ['tab', 'a\tb', /control/],
  ['DEL', 'a\u007fb', /control/],
  ['leading slash', '/etc/passwd', /starts with "\/"/],
  ['dot', '.', /"\." or "\.\."/],
  ['dot dot', '..', /"\." or "\.\."/],
  ['dot segment', 'a/./b', /"\." or "\.\."/],
  ['dot-dot segment', 'a/../b', /"\." or "\.\."/],
  ['trailing dot-dot', 'a/..', /"\." or "\.\."/],
  ['empty segment', 'a//b', /empty path segment/],
  ['trailing slash', 'a/b/', /empty path segment/],
];

describe('parseGun', () => {
  it.each(GOOD)('accepts %j', (gun) => {
    expect(parseGun(gun)).toBe(gun);
  });

  it.each(BAD)('refuses %s with INVALID_GUN', (_what, gun, why) => {
    expect(reason(() => parseGun(gun))).toMatch(why);
    expect(reason(() => parseGun(gun, { url: true }))).toMatch(why);
  });

  it('names the GUN JSON-escaped in the message (no raw control characters)', () => {
    try {
      parseGun('a\u001b[31mb');
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toContain('"a\\u001b[31mb"');
    }
  });
});

/** What the server refuses a GUN from a request path with (400 INVALID_GUN), or null: matchRoute's check. */
function serverRefusal(gun: string): string | null {
  return reason(() => parseGun(gun, { url: true })) ?? null;
}

describe('the callers share the check', () => {
  const trustDir = path.join(path.sep, 'trust');

  it.each(GOOD)('client, updater and server accept %j', (gun) => {
    expect(gunDir(trustDir, gun)).toBe(path.join(trustDir, 'tuf', ...gun.split('/')));
    expect(new MetadataCache(trustDir, parseGun(gun)).dir).toBe(
      path.join(trustDir, 'tuf', ...gun.split('/'), 'metadata'),
    );
    expect(serverRefusal(gun)).toBeNull();
  });

  it.each(BAD)('client, updater and server refuse %s', (_what, gun, why) => {
    expect(reason(() => gunDir(trustDir, gun))).toMatch(why);
    expect(serverRefusal(gun)).toMatch(why); // the server answers 400 INVALID_GUN with this reason
  });

  it('the server alone also refuses whitespace (a GUN arrives in the URL path)', () => {
    for (const gun of ['a b', 'a\u00a0b', 'a\u2028b']) {
      expect(serverRefusal(gun)).toMatch(/whitespace/);
      expect(parseGun(gun)).toBe(gun);
    }
  });
});

describe('the server route table', () => {
  it('gives handlers a parsed Gun, and a refused GUN as gunError', () => {
    expect(matchRoute('GET', '/v2/docker.io/library/alpine/_trust/tuf/root.json').gun).toBe('docker.io/library/alpine');
    const refused = matchRoute('GET', '/v2/a%20b/_trust/tuf/root.json');
    expect(refused.route?.name).toBe('get_current');
    expect(refused.gun).toBeUndefined();
    expect(refused.gunError).toMatch(/whitespace/);
    expect(matchRoute('GET', '/v2/a/b*/_trust/tuf/root.json').gunError ?? '').not.toBe('');
  });
});
