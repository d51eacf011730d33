// Global configuration follows Docker's rules (C:cli/trust/trust.go); exit codes are what docs/client.md says.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveGlobalConfig } from '../../src/cli/config.js';
import { exitCodeFor, formatError, formatTable } from '../../src/cli/output.js';
import { SignetError } from '../../src/errors.js';

const tty = { stdin: false, stderr: false, stdout: false };

describe('resolveGlobalConfig', () => {
  it('derives the trust dir from DOCKER_CONFIG, else HOME', () => {
    expect(resolveGlobalConfig({}, { DOCKER_CONFIG: '/x/dc', HOME: '/home/u' }, tty).trustDir).toBe('/x/dc/trust');
    expect(resolveGlobalConfig({}, { HOME: '/home/u' }, tty).trustDir).toBe('/home/u/.docker/trust');
    expect(resolveGlobalConfig({ trustDir: '/t' }, { DOCKER_CONFIG: '/x/dc' }, tty).trustDir).toBe('/t');
  });

  it('picks the trust server like Docker', () => {
    const cfg = resolveGlobalConfig({}, { HOME: '/h' }, tty, () => new Date('2026-12-02T12:00:00Z'));
    expect(cfg.serverFor('docker.io')).toBe('https://notary.docker.io');
    expect(cfg.serverFor('registry.example.com:5000')).toBe('https://registry.example.com:5000');
    const env = resolveGlobalConfig({}, { HOME: '/h', DOCKER_CONTENT_TRUST_SERVER: 'https://n.example.com/' }, tty);
    expect(env.serverFor('docker.io')).toBe('https://n.example.com');
    const flag = resolveGlobalConfig(
      { server: 'https://flag.example.com' },
      { HOME: '/h', DOCKER_CONTENT_TRUST_SERVER: 'https://n.example.com' },
      tty,
    );
    expect(flag.serverFor('x')).toBe('https://flag.example.com');
    expect(() => resolveGlobalConfig({ server: 'ftp://x' }, {}, tty)).toThrow(SignetError);
  });

  it('gives NOTARY_AUTH only to the trust server the user named, never to one derived from an image name', () => {
    const auth = Buffer.from('u:p').toString('base64');
    // before notary.docker.io's retirement, so that the derived Docker Hub server still exists
    const derived = resolveGlobalConfig(
      {},
      { HOME: '/h', NOTARY_AUTH: auth },
      tty,
      () => new Date('2026-12-01T00:00:00Z'),
    );
    expect(derived.notaryAuth).toEqual({ username: 'u', password: 'p' });
    expect(derived.trustServerAuthFor(derived.serverFor('registry.example.com'))).toBeUndefined();
    expect(derived.trustServerAuthFor(derived.serverFor('docker.io'))).toBeUndefined();
    const named = resolveGlobalConfig({ server: 'https://n.example.com/' }, { HOME: '/h', NOTARY_AUTH: auth }, tty);
    expect(named.trustServerAuthFor(named.serverFor('x'))).toEqual({ username: 'u', password: 'p' });
    expect(named.trustServerAuthFor('https://other.example.com')).toBeUndefined();
    const env = resolveGlobalConfig(
      {},
      { HOME: '/h', NOTARY_AUTH: auth, DOCKER_CONTENT_TRUST_SERVER: 'https://e.example.com' },
      tty,
    );
    expect(env.trustServerAuthFor(env.serverFor('docker.io'))).toEqual({ username: 'u', password: 'p' });
  });

  it('has no Docker Hub default once notary.docker.io is retired (2026-12-08): SERVICE_RETIRED naming --server', () => {
    const before = resolveGlobalConfig({}, { HOME: '/h' }, tty, () => new Date('2026-12-07T23:59:59Z'));
    expect(before.serverFor('docker.io')).toBe('https://notary.docker.io');
    const after = resolveGlobalConfig({}, { HOME: '/h' }, tty, () => new Date('2026-12-08T00:00:00Z'));
    for (const host of ['docker.io', 'index.docker.io', 'registry-1.docker.io']) {
      let err: unknown;
      try {
        after.serverFor(host);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SignetError);
      const e = err as SignetError;
      expect(e.code).toBe('SERVICE_RETIRED');
      expect(e.message).toContain('retired on 2026-12-08');
      expect(e.fix).toContain('--server');
      expect(e.fix).toContain('DOCKER_CONTENT_TRUST_SERVER');
      expect(exitCodeFor(e)).toBe(2);
    }
    // other registries and an explicit server are unaffected
    expect(after.serverFor('registry.example.com')).toBe('https://registry.example.com');
    const env = resolveGlobalConfig(
      {},
      { HOME: '/h', DOCKER_CONTENT_TRUST_SERVER: 'https://signet.example.com' },
      tty,
      () => new Date('2027-01-01T00:00:00Z'),
    );
    expect(env.serverFor('docker.io')).toBe('https://signet.example.com');
    const flag = resolveGlobalConfig(
      { server: 'https://s.example.com' },
      { HOME: '/h' },
      tty,
      () => new Date('2027-01-01T00:00:00Z'),
    );
    expect(flag.serverFor('docker.io')).toBe('https://s.example.com');
  });

  it('takes retries from --retries, else SIGNET_RETRIES, else 2, and refuses nonsense', () => {
    expect(resolveGlobalConfig({}, { HOME: '/h' }, tty).retries).toBe(2);
    expect(resolveGlobalConfig({}, { HOME: '/h', SIGNET_RETRIES: '0' }, tty).retries).toBe(0);
    expect(resolveGlobalConfig({ retries: '5' }, { HOME: '/h', SIGNET_RETRIES: '0' }, tty).retries).toBe(5);
    for (const bad of ['-1', '1.5', 'many', '11']) {
      expect(() => resolveGlobalConfig({ retries: bad }, { HOME: '/h' }, tty)).toThrow(
        expect.objectContaining({ code: 'USAGE' }),
      );
    }
  });

  it('turns on TOFU from --tofu or SIGNET_TOFU=1 only', () => {
    expect(resolveGlobalConfig({}, { HOME: '/h' }, tty).tofu).toBe(false);
    expect(resolveGlobalConfig({}, { HOME: '/h', SIGNET_TOFU: '1' }, tty).tofu).toBe(true);
    expect(resolveGlobalConfig({}, { HOME: '/h', SIGNET_TOFU: '0' }, tty).tofu).toBe(false);
    expect(resolveGlobalConfig({ tofu: true }, { HOME: '/h' }, tty).tofu).toBe(true);
  });

  it('finds the CA in DOCKER_CONFIG/tls/<host:port>/ca.crt', () => {
    const dc = mkdtempSync(path.join(os.tmpdir(), 'signet-dc-'));
    mkdirSync(path.join(dc, 'tls', 'n.example.com:4443'), { recursive: true });
    writeFileSync(path.join(dc, 'tls', 'n.example.com:4443', 'ca.crt'), 'PEM');
    const cfg = resolveGlobalConfig({}, { DOCKER_CONFIG: dc }, tty);
    expect(cfg.caFor('https://n.example.com:4443')?.toString()).toBe('PEM');
    expect(cfg.caFor('https://other.example.com')).toBeUndefined();
  });

  it('keeps only passphrase variables for the key retriever', () => {
    const cfg = resolveGlobalConfig(
      {},
      {
        HOME: '/h',
        NOTARY_ROOT_PASSPHRASE: 'a',
        DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE_FILE: '/f',
        SIGNET_BACKUP_PASSPHRASE: 'b',
        AWS_SECRET: 'no',
      },
      tty,
    );
    expect(Object.keys(cfg.passphraseEnv).sort()).toEqual([
      'DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE_FILE',
      'NOTARY_ROOT_PASSPHRASE',
      'SIGNET_BACKUP_PASSPHRASE',
    ]);
  });
});

describe('exit codes', () => {
  it.each([
    ['USAGE', 2],
    ['NOT_SIGNED', 3],
    ['REPOSITORY_NOT_FOUND', 3],
    ['EXPIRED', 4],
    ['PIN_MISMATCH', 4],
    ['UNAUTHORIZED', 5],
    ['NETWORK', 6],
    ['TIMEOUT', 6],
    ['PASSPHRASE_REQUIRED', 7],
    ['KEY_NOT_FOUND', 1],
  ] as const)('%s → %i', (code, exit) => {
    expect(exitCodeFor(new SignetError(code, 'x'))).toBe(exit);
  });

  it('prints the fix, or JSON with --json', () => {
    const e = new SignetError('NOT_SIGNED', 'a:b is not signed', { fix: 'sign it' });
    expect(formatError(e)).toBe('Error: a:b is not signed\n  fix: sign it\n');
    expect(JSON.parse(formatError(e, true))).toEqual({
      error: { code: 'NOT_SIGNED', message: 'a:b is not signed', fix: 'sign it' },
    });
  });

  it('formats tables', () => {
    expect(formatTable(['A', 'BB'], [['xyz', '1']])).toBe('A         BB\nxyz       1\n');
    expect(formatTable(['SIGNED TAG', 'X'], [['1.0', 'y']])).toBe('SIGNED TAG   X\n1.0          y\n');
  });
});
