/** `signet server` auth and audit settings: flags > env > config file, and the refusals. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveServerConfig } from '../../src/cli/server-config.js';
import { sha256hex } from './auth-helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-authcfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, body: unknown): string {
  const f = path.join(dir, name);
  writeFileSync(f, JSON.stringify(body));
  return f;
}

describe('auth configuration', () => {
  it('is off, with the default audit file, when nothing is configured', () => {
    const c = resolveServerConfig({}, {}, '/home/u');
    expect(c.auth).toBeUndefined();
    expect(c.auditLog).toBeUndefined();
  });

  it('token auth from flags, from env, from the file (bundle path relative to it)', () => {
    const flags = {
      authTokenRealm: 'https://auth.example/token',
      authTokenService: 'notary',
      authTokenIssuer: 'issuer',
      authTokenRootcert: '/etc/signet/ca.pem',
    };
    expect(resolveServerConfig(flags, {}).auth).toEqual({
      type: 'token',
      realm: 'https://auth.example/token',
      service: 'notary',
      issuer: 'issuer',
      rootCertBundle: '/etc/signet/ca.pem',
    });
    const env = {
      SIGNET_AUTH_TOKEN_REALM: 'r',
      SIGNET_AUTH_TOKEN_SERVICE: 's',
      SIGNET_AUTH_TOKEN_ISSUER: 'i',
      SIGNET_AUTH_TOKEN_ROOTCERT: '/b.pem',
    };
    expect(resolveServerConfig({ authTokenService: 'flag-svc' }, env).auth).toMatchObject({
      service: 'flag-svc',
      realm: 'r',
    });
    const f = configFile('token.json', {
      auth: { type: 'token', realm: 'r', service: 's', issuer: 'i', rootCertBundle: 'certs/ca.pem' },
      auditLog: 'logs/audit.log',
    });
    const c = resolveServerConfig({ config: f }, {});
    expect(c.auth).toMatchObject({ type: 'token', rootCertBundle: path.join(dir, 'certs/ca.pem') });
    expect(c.auditLog).toBe(path.join(dir, 'logs/audit.log'));
  });

  it('refuses incomplete token settings and unknown auth fields', () => {
    expect(() => resolveServerConfig({ authTokenRealm: 'r' }, {})).toThrow(/realm, a service, an issuer/);
    const bad = configFile('bad.json', { auth: { type: 'token', realm: 'r', audience: 'x' } });
    expect(() => resolveServerConfig({ config: bad }, {})).toThrow(/auth/);
    const badUser = configFile('baduser.json', {
      auth: { type: 'basic', users: { a: { passwordSha256: 'nothex', repositories: {} } } },
    });
    expect(() => resolveServerConfig({ config: badUser }, {})).toThrow(/passwordSha256/);
    const badAction = configFile('badaction.json', {
      auth: { type: 'basic', users: { a: { passwordSha256: sha256hex('x'), repositories: { g: ['delete'] } } } },
    });
    expect(() => resolveServerConfig({ config: badAction }, {})).toThrow(/repositories/);
  });

  it('basic auth from the file; token flags cannot be mixed with it', () => {
    const users = { ci: { passwordSha256: sha256hex('pw'), repositories: { 'example.com/*': ['push', 'pull'] } } };
    const f = configFile('basic.json', { auth: { type: 'basic', realm: 'R', users } });
    expect(resolveServerConfig({ config: f }, {}).auth).toEqual({ type: 'basic', realm: 'R', users });
    expect(() => resolveServerConfig({ config: f, authTokenRealm: 'x' }, {})).toThrow(/basic auth/);
  });

  it('audit log: --audit-log FILE or -, SIGNET_AUDIT_LOG, --no-audit-log, "auditLog": false', () => {
    expect(resolveServerConfig({ auditLog: '-' }, {}).auditLog).toBe('-');
    expect(resolveServerConfig({}, { SIGNET_AUDIT_LOG: '/var/log/a.log' }).auditLog).toBe('/var/log/a.log');
    expect(resolveServerConfig({ auditLog: false }, { SIGNET_AUDIT_LOG: '/x' }).auditLog).toBe(false);
    const f = configFile('noaudit.json', { auditLog: false });
    expect(resolveServerConfig({ config: f }, {}).auditLog).toBe(false);
  });
});
