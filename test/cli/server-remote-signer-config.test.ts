/** `signet server --remote-signer …` (and SIGNET_REMOTE_SIGNER*, the config file's `remoteSigner`) become the server's remote signer. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveServerConfig } from '../../src/cli/server-config.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-rs-cfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const usage = (message: string) =>
  expect.objectContaining({ code: 'USAGE', message: expect.stringContaining(message) });

describe('remote signer settings', () => {
  it('from flags, env or the config file (paths relative to it); flags win', () => {
    const flags = resolveServerConfig(
      {
        remoteSigner: 'signer.internal:7899',
        remoteSignerCa: '/tls/ca.crt',
        remoteSignerCert: '/tls/c.crt',
        remoteSignerKey: '/tls/c.key',
        remoteSignerServerName: 'notary-signer',
        remoteSignerTimeout: '3s',
      },
      {},
    );
    expect(flags.remoteSigner).toEqual({
      address: 'signer.internal:7899',
      caFile: '/tls/ca.crt',
      certFile: '/tls/c.crt',
      keyFile: '/tls/c.key',
      serverName: 'notary-signer',
      timeoutMs: 3000,
    });
    expect(flags.signerPassphrase).toBeUndefined();

    const env = resolveServerConfig(
      {},
      {
        SIGNET_REMOTE_SIGNER: '[::1]:7899',
        SIGNET_REMOTE_SIGNER_CA: '/e/ca.crt',
        SIGNET_REMOTE_SIGNER_CERT: '/e/c.crt',
        SIGNET_REMOTE_SIGNER_KEY: '/e/c.key',
      },
    );
    expect(env.remoteSigner).toEqual({
      address: '[::1]:7899',
      caFile: '/e/ca.crt',
      certFile: '/e/c.crt',
      keyFile: '/e/c.key',
    });

    const file = path.join(dir, 'server.json');
    writeFileSync(
      file,
      JSON.stringify({
        remoteSigner: {
          address: '10.0.0.5:7899',
          ca: 'tls/ca.crt',
          cert: 'tls/c.crt',
          key: 'tls/c.key',
          timeout: '20s',
        },
      }),
    );
    expect(resolveServerConfig({ config: file }, {}).remoteSigner).toEqual({
      address: '10.0.0.5:7899',
      caFile: path.join(dir, 'tls/ca.crt'),
      certFile: path.join(dir, 'tls/c.crt'),
      keyFile: path.join(dir, 'tls/c.key'),
      timeoutMs: 20_000,
    });
    expect(resolveServerConfig({ config: file, remoteSigner: '10.0.0.6:7899' }, {}).remoteSigner?.address).toBe(
      '10.0.0.6:7899',
    );
    expect(resolveServerConfig({}, {}).remoteSigner).toBeUndefined();
  });

  it('refuses incomplete or contradictory settings, naming the flag', () => {
    expect(() => resolveServerConfig({ remoteSigner: 'signer:7899' }, {})).toThrow(usage('--remote-signer-ca'));
    expect(() => resolveServerConfig({ remoteSigner: 'signer' }, {})).toThrow(
      usage('--remote-signer must be HOST:PORT'),
    );
    expect(() => resolveServerConfig({ remoteSigner: ':7899', remoteSignerCa: 'ca' }, {})).toThrow(
      usage("signer's host"),
    );
    expect(() =>
      resolveServerConfig({ remoteSigner: 'signer:7899', remoteSignerCa: 'ca', remoteSignerCert: 'c.crt' }, {}),
    ).toThrow(usage('--remote-signer-cert and --remote-signer-key'));
    expect(() => resolveServerConfig({ remoteSignerCa: 'ca' }, {})).toThrow(
      usage('--remote-signer-ca was given without --remote-signer'),
    );
    expect(() =>
      resolveServerConfig({ remoteSigner: 'signer:7899', remoteSignerCa: 'ca', remoteSignerTimeout: 'soon' }, {}),
    ).toThrow(usage('--remote-signer-timeout'));
    expect(() =>
      resolveServerConfig({ remoteSigner: 'signer:7899', remoteSignerCa: 'ca' }, { SIGNET_SIGNER_PASSPHRASE: 'pw' }),
    ).toThrow(usage('a signer passphrase was given with --remote-signer'));
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ remoteSigner: { address: 'a:1', password: 'x' } }));
    expect(() => resolveServerConfig({ config: bad }, {})).toThrow(usage('remoteSigner'));
  });
});
