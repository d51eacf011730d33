import { describe, expect, it } from 'vitest';
import { isSignetError } from '../../src/errors.js';
import {
  familiarString,
  parseImageReference,
  referenceString,
  registryBaseUrl,
  isLoopbackRegistry,
} from '../../src/registry/index.js';

const D = 'sha256:' + 'ab'.repeat(32);

describe('parseImageReference: valid references', () => {
  const cases: [string, { registry: string; repository: string; tag?: string; digest?: string; familiar: string }][] = [
    ['hello', { registry: 'docker.io', repository: 'library/hello', familiar: 'hello' }],
    ['hello:1.0', { registry: 'docker.io', repository: 'library/hello', tag: '1.0', familiar: 'hello' }],
    ['library/hello', { registry: 'docker.io', repository: 'library/hello', familiar: 'hello' }],
    ['docker.io/hello', { registry: 'docker.io', repository: 'library/hello', familiar: 'hello' }],
    ['index.docker.io/hello:x', { registry: 'docker.io', repository: 'library/hello', tag: 'x', familiar: 'hello' }],
    ['docker.io/library/hello', { registry: 'docker.io', repository: 'library/hello', familiar: 'hello' }],
    ['user/app', { registry: 'docker.io', repository: 'user/app', familiar: 'user/app' }],
    ['docker.io/library/a/b', { registry: 'docker.io', repository: 'library/a/b', familiar: 'library/a/b' }],
    ['localhost/app', { registry: 'localhost', repository: 'app', familiar: 'localhost/app' }],
    [
      'localhost:5000/team/app:v2',
      { registry: 'localhost:5000', repository: 'team/app', tag: 'v2', familiar: 'localhost:5000/team/app' },
    ],
    ['127.0.0.1:5000/a', { registry: '127.0.0.1:5000', repository: 'a', familiar: '127.0.0.1:5000/a' }],
    [
      'registry.example.com/a.b/c_d/e__f/g-h--i',
      {
        registry: 'registry.example.com',
        repository: 'a.b/c_d/e__f/g-h--i',
        familiar: 'registry.example.com/a.b/c_d/e__f/g-h--i',
      },
    ],
    ['Example.COM/app', { registry: 'Example.COM', repository: 'app', familiar: 'Example.COM/app' }],
    ['Upper/app', { registry: 'Upper', repository: 'app', familiar: 'Upper/app' }],
    ['[::1]:5000/app:t', { registry: '[::1]:5000', repository: 'app', tag: 't', familiar: '[::1]:5000/app' }],
    [`hello@${D}`, { registry: 'docker.io', repository: 'library/hello', digest: D, familiar: 'hello' }],
    [`hello:1@${D}`, { registry: 'docker.io', repository: 'library/hello', tag: '1', digest: D, familiar: 'hello' }],
    [
      `localhost:5000/app@${D}`,
      { registry: 'localhost:5000', repository: 'app', digest: D, familiar: 'localhost:5000/app' },
    ],
    [
      'hello:_weird.Tag-1',
      { registry: 'docker.io', repository: 'library/hello', tag: '_weird.Tag-1', familiar: 'hello' },
    ],
    [
      `hello:${'a'.repeat(128)}`,
      { registry: 'docker.io', repository: 'library/hello', tag: 'a'.repeat(128), familiar: 'hello' },
    ],
    ['localhost:5000', { registry: 'docker.io', repository: 'library/localhost', tag: '5000', familiar: 'localhost' }],
  ];
  for (const [input, want] of cases) {
    it(input.length > 60 ? input.slice(0, 60) + '…' : input, () => {
      const r = parseImageReference(input);
      expect(r.registry).toBe(want.registry);
      expect(r.repository).toBe(want.repository);
      expect(r.tag).toBe(want.tag);
      expect(r.digest).toBe(want.digest);
      expect(r.name).toBe(`${want.registry}/${want.repository}`);
      expect(r.familiar).toBe(want.familiar);
    });
  }

  it('defaultTag applies only to name-only references', () => {
    expect(parseImageReference('hello', { defaultTag: 'latest' }).tag).toBe('latest');
    expect(parseImageReference('hello:1', { defaultTag: 'latest' }).tag).toBe('1');
    expect(parseImageReference(`hello@${D}`, { defaultTag: 'latest' }).tag).toBeUndefined();
  });

  it('formats familiar and full strings', () => {
    const r = parseImageReference(`hello:1@${D}`);
    expect(familiarString(r)).toBe(`hello:1@${D}`);
    expect(referenceString(r)).toBe(`docker.io/library/hello:1@${D}`);
    expect(familiarString(parseImageReference('localhost:5000/a:b'))).toBe('localhost:5000/a:b');
  });

  it('accepts a name of exactly 255 characters', () => {
    const repo = 'r'.repeat(255 - 'example.com/'.length);
    expect(parseImageReference(`example.com/${repo}`).name).toHaveLength(255);
  });
});

describe('parseImageReference: invalid references', () => {
  const bad: [string, RegExp][] = [
    ['', /at least one component/],
    ['Hello', /must be lowercase/],
    ['library/Hello', /must be lowercase/],
    ['localhost:5000/App', /must be lowercase/],
    ['hello:', /empty tag/],
    ['hello@', /nothing after "@"/],
    [':tag', /at least one component/],
    ['hello:-bad', /tag "-bad" is invalid/],
    ['hello:.bad', /tag ".bad" is invalid/],
    [`hello:${'a'.repeat(129)}`, /is invalid/],
    ['hello:a/b', /./],
    ['hello@sha256:abc', /not of the form/],
    [`hello@sha256:${'AB'.repeat(32)}`, /lower-case/],
    [`hello@sha256:${'a'.repeat(63)}`, /./],
    [`hello@sha256:${'a'.repeat(65)}`, /64 hex characters/],
    [`hello@md5:${'a'.repeat(32)}`, /unsupported digest algorithm/],
    ['ab'.repeat(32), /64-byte hexadecimal/],
    ['a//b', /empty path component/],
    ['a/', /empty path component/],
    ['/a', /./],
    ['-a', /path component "-a" is invalid/],
    ['a_-b', /is invalid/],
    ['a___b', /is invalid/],
    ['a..b', /is invalid/],
    ['hello world', /white space/],
    ['exa_mple.com/app', /./],
    ['-host.com/app', /not a valid host/],
    ['host.com:port/app', /./],
    [`example.com/${'r'.repeat(244)}`, /255 characters/],
  ];
  for (const [input, msg] of bad) {
    it(JSON.stringify(input.length > 60 ? input.slice(0, 60) + '…' : input), () => {
      let err: unknown;
      try {
        parseImageReference(input);
      } catch (e) {
        err = e;
      }
      expect(isSignetError(err, 'USAGE'), `expected USAGE error for ${input}`).toBe(true);
      expect((err as Error).message).toMatch(msg);
      expect((err as Error).message).toContain('invalid reference');
    });
  }
});

describe('registry scheme', () => {
  it('loopback registries use plain http, others https', () => {
    expect(isLoopbackRegistry('localhost')).toBe(true);
    expect(isLoopbackRegistry('localhost:5000')).toBe(true);
    expect(isLoopbackRegistry('127.0.0.1:5000')).toBe(true);
    expect(isLoopbackRegistry('127.1.2.3')).toBe(true);
    expect(isLoopbackRegistry('[::1]:5000')).toBe(true);
    expect(isLoopbackRegistry('128.0.0.1')).toBe(false);
    expect(isLoopbackRegistry('localhost.example.com')).toBe(false);
    expect(registryBaseUrl('127.0.0.1:5000')).toBe('http://127.0.0.1:5000');
    expect(registryBaseUrl('[::1]:5000')).toBe('http://[::1]:5000');
    expect(registryBaseUrl('docker.io')).toBe('https://registry-1.docker.io');
    expect(registryBaseUrl('reg.example.com:8443')).toBe('https://reg.example.com:8443');
    expect(registryBaseUrl('reg.example.com:8443', ['reg.example.com:8443'])).toBe('http://reg.example.com:8443');
    expect(registryBaseUrl('reg.example.com', ['http://reg.example.com/'])).toBe('http://reg.example.com');
    expect(registryBaseUrl('reg.example.com:8443', ['other.example.com'])).toBe('https://reg.example.com:8443');
  });
});
