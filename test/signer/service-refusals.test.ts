/**
 * `signet server signer` refuses to start, with the flag to fix, when mutual TLS is not fully
 * configured (there is no mode without client certificates), a file is missing or unusable, the
 * client CA is not a CA, the key is not the certificate's, the port is taken, or the passphrase does
 * not decrypt the stored keys; a refused start leaves the data directory as it was.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  resolveSignerServiceConfig,
  startSignerServiceFromConfig,
  type SignerServiceConfig,
  type SignerServiceFlags,
} from '../../src/cli/signer-service-run.js';
import { SignetError } from '../../src/errors.js';
import { bundleEntry } from '../harness/bundle.js';
import { freePort, portOpen } from '../harness/ports.js';
import { run, startProc } from '../harness/proc.js';
import { makeTestCA } from '../harness/tls.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-sservice-refuse-'));
const tls = path.join(dir, 'tls');
const log = pino({ level: 'silent' });
let cli: string;
beforeAll(async () => {
  const ca = await makeTestCA(tls);
  await Promise.all([ca.issue('signer', { eku: 'serverAuth' }), ca.issue('other', { eku: 'serverAuth' })]);
  cli = await bundleEntry('src/cli/main.ts', dir, 'signet.mjs');
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function flags(extra: SignerServiceFlags = {}): SignerServiceFlags {
  return {
    listen: '127.0.0.1:0',
    tlsCert: path.join(tls, 'signer.crt'),
    tlsKey: path.join(tls, 'signer.key'),
    clientCa: path.join(tls, 'ca.crt'),
    dataDir: path.join(dir, `data-${++n}`),
    ...extra,
  };
}
const config = (
  f: SignerServiceFlags,
  env: Record<string, string> = { SIGNET_SIGNER_PASSPHRASE: 'pw' },
): SignerServiceConfig => resolveSignerServiceConfig(f, env, dir);

async function refusal(c: SignerServiceConfig): Promise<SignetError> {
  try {
    const started = await startSignerServiceFromConfig(c, log);
    await started.close();
  } catch (e) {
    expect(e).toBeInstanceOf(SignetError);
    return e as SignetError;
  }
  throw new Error('the service started');
}

describe('signer service start refusals', () => {
  it('names every missing TLS flag; there is no start without client certificates', () => {
    expect(() => config({ dataDir: dir })).toThrow(/mutual TLS: --tls-cert, --tls-key, --client-ca missing/);
    expect(() => config(flags({ clientCa: undefined }))).toThrow(/--client-ca missing/);
    // the environment may give them instead
    const c = config(
      { dataDir: dir },
      {
        SIGNET_SIGNER_TLS_CERT: 'a.crt',
        SIGNET_SIGNER_TLS_KEY: 'a.key',
        SIGNET_SIGNER_CLIENT_CA: 'ca.crt',
        SIGNET_SIGNER_LISTEN: '127.0.0.1:1234',
      },
    );
    expect(c.listen).toBe('127.0.0.1:1234');
    expect(config({ ...flags(), listen: undefined }).listen).toBe('127.0.0.1:7899');
  });

  it('refuses unreadable, non-PEM, non-CA and mismatched TLS files, creating nothing', async () => {
    const garbage = path.join(dir, 'garbage.pem');
    writeFileSync(garbage, 'not a certificate\n');
    const cases: [SignerServiceFlags, RegExp][] = [
      [
        flags({ tlsCert: path.join(dir, 'missing.crt') }),
        /cannot read the service certificate .*missing\.crt \(--tls-cert\): ENOENT/,
      ],
      [flags({ clientCa: garbage }), /garbage\.pem \(--client-ca\) holds no PEM certificate/],
      [flags({ clientCa: path.join(tls, 'other.crt') }), /\(--client-ca\) holds a certificate that is not a CA/],
      [flags({ tlsKey: path.join(tls, 'other.key') }), /\(--tls-key\) is not the key of the certificate/],
      [flags({ tlsKey: garbage }), /\(--tls-key\) is not an unencrypted PEM private key/],
    ];
    for (const [f, message] of cases) {
      const e = await refusal(config(f));
      expect(e.code).toBe('USAGE');
      expect(e.message).toMatch(message);
      expect(existsSync(f.dataDir as string)).toBe(false);
    }
  });

  it('refuses a port in use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const e = await refusal(config(flags({ listen: `127.0.0.1:${port}` })));
      expect(e.message).toContain(`cannot listen on 127.0.0.1:${port}: the address is already in use`);
      expect(e.fix).toContain('--listen');
    } finally {
      blocker.close();
    }
  });

  it('refuses a passphrase that does not decrypt the stored keys, leaving the data dir as it was', async () => {
    const f = flags();
    const started = await startSignerServiceFromConfig(config(f), log);
    // a key in the store, made through the service's own store
    const { openStore } = await import('../../src/storage/index.js');
    const { ServerKeyring } = await import('../../src/signer/index.js');
    await started.close();
    const store = await openStore({ dataDir: f.dataDir });
    await new ServerKeyring({ keys: store.keys, passphrase: 'pw' }).create('example.com/a', 'timestamp');
    await store.close();
    const before = readdirSync(f.dataDir as string).sort();
    const e = await refusal(config(f, { SIGNET_SIGNER_PASSPHRASE: 'another' }));
    expect(e.code).toBe('BAD_PASSPHRASE');
    const e2 = await refusal(config(f, {}));
    expect(e2.code).toBe('BAD_PASSPHRASE');
    expect(readdirSync(f.dataDir as string).sort()).toEqual(before);
  });

  it('the CLI serves until SIGTERM, then exits 0 and releases the data dir; its log holds no passphrase', async () => {
    const data = path.join(dir, 'cli-run');
    const port = await freePort();
    const proc = await startProc({
      name: 'signet-signer-cli',
      cmd: process.execPath,
      args: [
        cli,
        'server',
        'signer',
        '--listen',
        `127.0.0.1:${port}`,
        '--tls-cert',
        path.join(tls, 'signer.crt'),
        '--tls-key',
        path.join(tls, 'signer.key'),
        '--client-ca',
        path.join(tls, 'ca.crt'),
        '--data-dir',
        data,
      ],
      env: { PATH: process.env.PATH, HOME: dir },
      logDir: path.join(dir, 'logs'),
      listenPort: port,
      timeoutMs: 30_000,
      ready: () => portOpen(port),
    });
    expect(existsSync(path.join(data, 'signet.lock'))).toBe(true);
    // no passphrase given and no keys yet: one is made in the data dir (0600), as `signet server` does
    const pass = readFileSync(path.join(data, 'signer.passphrase'), 'utf8').trim();
    expect(statSync(path.join(data, 'signer.passphrase')).mode & 0o777).toBe(0o600);
    proc.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(existsSync(path.join(data, 'signet.lock'))).toBe(false);
    const log = readFileSync(proc.logFile, 'utf8');
    expect(log).toContain('signer service listening (mutual TLS)');
    expect(log).toContain(`on 127.0.0.1:${port}`);
    expect(log).not.toContain(pass);
  });

  it('the CLI prints the refusal with its fix and exits non-zero', async () => {
    const r = await run(
      process.execPath,
      [cli, 'server', 'signer', '--tls-cert', path.join(tls, 'signer.crt'), '--data-dir', path.join(dir, 'cli-data')],
      {
        env: { PATH: process.env.PATH, HOME: dir },
        timeoutMs: 30_000,
      },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--tls-key, --client-ca missing');
    expect(r.stderr).toContain('docs/signer-service.md');
    expect(existsSync(path.join(dir, 'cli-data'))).toBe(false);
  });
});
