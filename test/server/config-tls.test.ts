/** `signet server` configuration (flags > env > file > defaults) and the generated TLS material. */
import crypto from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clientInstructions, resolveServerConfig } from '../../src/cli/commands/server.js';
import { ensureTls, parseListen } from '../../src/server/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-cfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('server configuration', () => {
  it('defaults to 127.0.0.1:4443, HTTPS with a generated CA, SQLite in ~/.signet/server', () => {
    const c = resolveServerConfig({}, {}, '/home/u');
    expect(c.listen).toBe('127.0.0.1:4443');
    expect(c.dataDir).toBe('/home/u/.signet/server');
    expect(c.tls).toEqual({ mode: 'auto' });
    expect(c.database).toBeUndefined();
    expect(c.signerPassphrase).toBeUndefined();
  });

  it('takes flags over env over the config file, resolving file paths relative to it', () => {
    const file = path.join(dir, 'signet.json');
    writeFileSync(
      file,
      JSON.stringify({
        listen: '0.0.0.0:1',
        dataDir: 'data',
        database: 'postgres://f/db',
        limits: { bodyLimit: 1000 },
      }),
    );
    const fromFile = resolveServerConfig({ config: file }, {});
    expect(fromFile).toMatchObject({
      listen: '0.0.0.0:1',
      dataDir: path.join(dir, 'data'),
      database: 'postgres://f/db',
      options: { bodyLimit: 1000 },
    });
    const fromEnv = resolveServerConfig(
      {},
      { SIGNET_CONFIG: file, SIGNET_LISTEN: '127.0.0.1:2', SIGNET_INSECURE_HTTP: '1' },
    );
    expect(fromEnv.listen).toBe('127.0.0.1:2');
    expect(fromEnv.tls).toEqual({ mode: 'insecure-http' });
    const fromFlag = resolveServerConfig(
      { config: file, listen: '127.0.0.1:3', tlsCert: 'c.pem', tlsKey: 'k.pem' },
      { SIGNET_LISTEN: '127.0.0.1:2' },
    );
    expect(fromFlag.listen).toBe('127.0.0.1:3');
    expect(fromFlag.tls).toEqual({ mode: 'files', certFile: 'c.pem', keyFile: 'k.pem' });
  });

  it('reads the signer passphrase from the environment or a file', () => {
    expect(resolveServerConfig({}, { SIGNET_SIGNER_PASSPHRASE: 'p1' }).signerPassphrase).toBe('p1');
    const f = path.join(dir, 'pass');
    writeFileSync(f, 'p2\n');
    expect(resolveServerConfig({ signerPassphraseFile: f }, { SIGNET_SIGNER_PASSPHRASE: 'p1' }).signerPassphrase).toBe(
      'p2',
    );
  });

  it('refuses inconsistent settings with USAGE', () => {
    expect(() => resolveServerConfig({ tlsCert: 'c' }, {})).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() => resolveServerConfig({ tlsCert: 'c', tlsKey: 'k', insecureHttp: true }, {})).toThrow(
      expect.objectContaining({ code: 'USAGE' }),
    );
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ lisen: 'typo' }));
    expect(() => resolveServerConfig({ config: bad }, {})).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() => parseListen('4443')).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(parseListen('[::1]:8443')).toEqual({ host: '::1', port: 8443 });
  });

  it('tells how to point notary and docker at the server', () => {
    const t = clientInstructions('https://127.0.0.1:4443', '/d/tls/ca.crt');
    expect(t).toContain('notary -s https://127.0.0.1:4443 --tlscacert /d/tls/ca.crt');
    expect(t).toContain(
      'mkdir -p ~/.docker/tls/127.0.0.1:4443 && cp /d/tls/ca.crt ~/.docker/tls/127.0.0.1:4443/ca.crt',
    );
    expect(t).toContain('export DOCKER_CONTENT_TRUST_SERVER=https://127.0.0.1:4443');
  });
});

describe('generated TLS material', () => {
  it('creates a CA (CA:TRUE) and a server certificate for localhost and 127.0.0.1, then reuses them', async () => {
    const d = path.join(dir, 'tls-test');
    const m = await ensureTls(d);
    expect(m.state).toBe('created');
    const ca = new crypto.X509Certificate(readFileSync(m.caFile));
    expect(ca.ca).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    const leaf = new crypto.X509Certificate(m.cert);
    expect(leaf.ca).toBe(false);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkHost('localhost')).toBe('localhost');
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leaf.keyUsage).toContain('1.3.6.1.5.5.7.3.1');
    expect(statSync(path.join(d, 'tls', 'ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(d, 'tls', 'server.key')).mode & 0o777).toBe(0o600);
    const again = await ensureTls(d);
    expect(again.state).toBe('existing');
    expect(again.cert).toBe(m.cert);
  });
});

describe('TLS names', () => {
  it('re-issues the server certificate when the listen address is not covered yet', async () => {
    const d = path.join(dir, 'tls-names');
    const first = await ensureTls(d);
    const second = await ensureTls(d, { names: ['signet.example', '10.1.2.3', '::1'] });
    expect(second.state).toBe('renewed');
    expect(second.cert).not.toBe(first.cert);
    const leaf = new crypto.X509Certificate(second.cert);
    expect(leaf.checkHost('signet.example')).toBe('signet.example');
    expect(leaf.checkIP('10.1.2.3')).toBe('10.1.2.3');
    expect(leaf.checkIP('::1')).toBeDefined();
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect((await ensureTls(d, { names: ['signet.example'] })).state).toBe('existing');
    // same CA throughout
    expect(readFileSync(second.caFile, 'utf8')).toBe(readFileSync(first.caFile, 'utf8'));
  });
});
