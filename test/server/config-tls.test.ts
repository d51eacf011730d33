/** `signet server` configuration (flags > env > file > defaults) and the generated TLS material. */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, BasicConstraints, Certificate, Extension } from '@peculiar/asn1-x509';
import { afterAll, describe, expect, it } from 'vitest';
import { clientInstructions, resolveServerConfig } from '../../src/cli/server-config.js';
import pino from 'pino';
import { ensureTls, parseListen, signerPassphrase } from '../../src/server/index.js';
import { buildCert, hasOpenssl } from '../helpers/x509.js';

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

  it('takes --metrics-listen over SIGNET_METRICS_LISTEN over metricsListen; default: none (main listener)', () => {
    expect(resolveServerConfig({}, {}).metricsListen).toBeUndefined();
    const file = path.join(dir, 'metrics.json');
    writeFileSync(file, JSON.stringify({ metricsListen: '127.0.0.1:9001' }));
    expect(resolveServerConfig({ config: file }, {}).metricsListen).toBe('127.0.0.1:9001');
    expect(resolveServerConfig({ config: file }, { SIGNET_METRICS_LISTEN: 'off' }).metricsListen).toBe('off');
    expect(
      resolveServerConfig({ config: file, metricsListen: '127.0.0.1:9002' }, { SIGNET_METRICS_LISTEN: 'off' })
        .metricsListen,
    ).toBe('127.0.0.1:9002');
  });

  it('refuses a data-dir signer.passphrase that group or others can read', async () => {
    const d = mkdtempSync(path.join(dir, 'signer-'));
    const log = pino({ level: 'silent' });
    const first = await signerPassphrase(d, undefined, log);
    expect(statSync(path.join(d, 'signer.passphrase')).mode & 0o777).toBe(0o600);
    expect(await signerPassphrase(d, undefined, log)).toBe(first);
    chmodSync(path.join(d, 'signer.passphrase'), 0o644);
    await expect(signerPassphrase(d, undefined, log)).rejects.toMatchObject({
      code: 'USAGE',
      fix: expect.stringContaining('chmod 600'),
    });
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

const openssl = (args: string[]): string => execFileSync('openssl', args, { encoding: 'utf8' });

/** The subject of a certificate in DER, as the bytes `Go` compares with its children's issuer. */
function subjectDer(pem: string): Buffer {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  return Buffer.from(AsnConvert.serialize(AsnConvert.parse(der, Certificate).tbsCertificate.subject));
}

describe.skipIf(!hasOpenssl())('generated TLS material under openssl', () => {
  it('shows a CA:TRUE keyCertSign/cRLSign CA and a serverAuth leaf for localhost/127.0.0.1 that verifies', async () => {
    const d = path.join(dir, 'tls-openssl');
    await ensureTls(d, { names: ['signet.example', '10.1.2.3', '::1'] });
    const tls = path.join(d, 'tls');
    const ca = openssl(['x509', '-noout', '-text', '-in', path.join(tls, 'ca.crt')]);
    expect(ca).toContain('Subject: CN = Signet local CA');
    expect(ca).toContain('Issuer: CN = Signet local CA');
    expect(ca).toContain('Signature Algorithm: ecdsa-with-SHA256');
    expect(ca).toContain('NIST CURVE: P-256');
    expect(ca).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(ca).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    const leaf = openssl(['x509', '-noout', '-text', '-in', path.join(tls, 'server.crt')]);
    expect(leaf).toContain('Subject: CN = localhost');
    expect(leaf).toContain('Issuer: CN = Signet local CA');
    expect(leaf).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(leaf).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
    expect(leaf).toMatch(/Extended Key Usage:\s+TLS Web Server Authentication/);
    const san = /Subject Alternative Name:\s+(.*)/.exec(leaf)?.[1] ?? '';
    for (const n of [
      'DNS:localhost',
      'DNS:signet.example',
      'IP Address:127.0.0.1',
      'IP Address:10.1.2.3',
      'IP Address:0:0:0:0:0:0:0:1',
    ])
      expect(san).toContain(n);
    expect(leaf).toContain('Subject Key Identifier');
    expect(leaf).toContain('Authority Key Identifier');
    const out = openssl([
      'verify',
      '-x509_strict',
      '-purpose',
      'sslserver',
      '-CAfile',
      path.join(tls, 'ca.crt'),
      path.join(tls, 'server.crt'),
    ]);
    expect(out.trim()).toBe(`${path.join(tls, 'server.crt')}: OK`);
  });

  it('re-issues for an existing CA with its issuer name bytes unchanged (a UTF8String CN, as earlier versions wrote)', async () => {
    // a CA as the earlier hand-written encoder made it: CN as UTF8String, pathlen 0, no SKI
    const d = path.join(dir, 'tls-old-ca');
    const tls = path.join(d, 'tls');
    mkdirSync(tls, { recursive: true });
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const bc = new BasicConstraints({ cA: true, pathLenConstraint: 0 });
    const caPem = buildCert({
      cn: 'Signet local CA',
      key: privateKey,
      alg: new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' }),
      hash: 'sha256',
      serial: Buffer.from([0x01, 0x02]),
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 3650 * 86_400_000),
      extensions: [
        new Extension({ extnID: '2.5.29.19', critical: true, extnValue: new OctetString(AsnConvert.serialize(bc)) }),
      ],
    });
    writeFileSync(path.join(tls, 'ca.crt'), caPem);
    writeFileSync(path.join(tls, 'ca.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, {
      mode: 0o600,
    });

    const m = await ensureTls(d);
    expect(m.state).toBe('renewed'); // CA reused; the missing server certificate is issued
    expect(readFileSync(m.caFile, 'utf8')).toBe(caPem);
    const issuer = AsnConvert.serialize(
      AsnConvert.parse(
        Buffer.from(m.cert.split('-----END CERTIFICATE-----')[0]?.replace(/-----[^-]+-----|\s/g, '') ?? '', 'base64'),
        Certificate,
      ).tbsCertificate.issuer,
    );
    expect(Buffer.from(issuer).equals(subjectDer(caPem))).toBe(true);
    expect(Buffer.from(issuer).includes(Buffer.from([0x0c, 15, ...Buffer.from('Signet local CA')]))).toBe(true);
    const out = openssl(['verify', '-CAfile', m.caFile, path.join(tls, 'server.crt')]);
    expect(out.trim()).toBe(`${path.join(tls, 'server.crt')}: OK`);
  });
});
