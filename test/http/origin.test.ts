// The credential-origin rule and Docker's exact host:port matching, as pure functions.
import { describe, expect, it } from 'vitest';
import { hostListed, originOf, realmForCredentials } from '../../src/http/index.js';
import { registryBaseUrl } from '../../src/registry/index.js';

describe('hostListed (moby isSecureIndex: IndexConfigs[indexName])', () => {
  it('matches host:port exactly, scheme and path ignored, case-insensitively', () => {
    expect(hostListed(['reg.example.com:5000'], 'reg.example.com:5000')).toBe(true);
    expect(hostListed(['http://Reg.Example.com:5000/v2/'], 'reg.example.com:5000')).toBe(true);
    expect(hostListed(['reg.example.com'], 'reg.example.com')).toBe(true);
  });
  it('a host without a port is that host on its default port only', () => {
    expect(hostListed(['reg.example.com'], 'reg.example.com:5000')).toBe(false);
    expect(hostListed(['reg.example.com'], 'reg.example.com:443')).toBe(false);
    expect(hostListed(['reg.example.com:5000'], 'reg.example.com')).toBe(false);
    expect(hostListed(['example.com'], 'reg.example.com')).toBe(false);
  });
  it('drives the registry scheme', () => {
    expect(registryBaseUrl('reg.example.com:5000', ['reg.example.com'])).toBe('https://reg.example.com:5000');
    expect(registryBaseUrl('reg.example.com', ['reg.example.com'])).toBe('http://reg.example.com');
    expect(registryBaseUrl('reg.example.com:5000', ['reg.example.com:5000'])).toBe('http://reg.example.com:5000');
  });
});

describe('realmForCredentials', () => {
  const owner = originOf('https://reg.example.com:5000/v2/');
  it('allows https realms anywhere (Docker Hub: registry-1.docker.io → auth.docker.io)', () => {
    expect(realmForCredentials('https://auth.docker.io/token', 'https://registry-1.docker.io', []).ok).toBe(true);
  });
  it('refuses an http realm behind an https server, on any other host or port', () => {
    for (const realm of ['http://reg.example.com:5000/token', 'http://reg.example.com/token', 'http://evil/token']) {
      const v = realmForCredentials(realm, owner, []);
      expect(v.ok).toBe(false);
      expect(v.ok ? undefined : v.url?.toString()).toBe(new URL(realm).toString()); // still a usable anonymous realm
    }
  });
  it('allows an http realm on the owner origin itself, or on an exact host:port marked insecure', () => {
    expect(realmForCredentials('http://127.0.0.1:5000/token', 'http://127.0.0.1:5000', []).ok).toBe(true);
    expect(realmForCredentials('http://127.0.0.1:5001/token', 'http://127.0.0.1:5000', []).ok).toBe(false);
    expect(realmForCredentials('http://127.0.0.1:5001/token', 'http://127.0.0.1:5000', ['127.0.0.1']).ok).toBe(false);
    expect(realmForCredentials('http://127.0.0.1:5001/token', 'http://127.0.0.1:5000', ['127.0.0.1:5001']).ok).toBe(
      true,
    );
  });
  it('refuses what is not an http(s) URL', () => {
    for (const realm of ['', 'token', 'ftp://x/token', 'file:///etc/passwd']) {
      const v = realmForCredentials(realm, owner, []);
      expect(v.ok).toBe(false);
      expect(v.ok ? 'x' : v.url).toBeUndefined();
    }
  });
});
