import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, BasicConstraints, Extension } from '@peculiar/asn1-x509';
import { describe, expect, it } from 'vitest';
import {
  certificateInfo,
  certificatePublicKey,
  createRootCertificate,
  keyJson,
  matchCNToGun,
  newRoot,
  parseCertificateBundle,
  parseRoot,
  pemEncode,
  publicKeyFromJson,
  publicKeyFromSpki,
  rootRoleKeys,
  validateRootCertificates,
  verifyThreshold,
  type PublicKey,
  type RootSigned,
} from '../../src/tuf/index.js';
import { issueCertificate } from '../../src/tuf/x509-issue.js';
import { thrownCode } from '../helpers/errors.js';
import { buildCert, hasOpenssl } from '../helpers/x509.js';
import { vector } from './helpers.js';

const NOW = new Date('2026-11-25T20:00:00.123Z');
const DAY = 24 * 3600 * 1000;
const GUN = 'example.com/org/app';

/** A self-signed certificate with chosen CN, CA flag, validity and hash (for the refusal cases). */
function makeCert(opts: {
  cn: string;
  ca?: boolean;
  notBefore?: Date;
  notAfter?: Date;
  sha1?: boolean;
  key?: crypto.KeyObject;
}): string {
  const key = opts.key ?? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const nb = opts.notBefore ?? NOW;
  const bc = new BasicConstraints({ cA: opts.ca === true });
  return buildCert({
    cn: opts.cn,
    key,
    alg: new AlgorithmIdentifier({ algorithm: opts.sha1 === true ? '1.2.840.10045.4.1' : '1.2.840.10045.4.3.2' }),
    hash: opts.sha1 === true ? 'sha1' : 'sha256',
    serial: Buffer.concat([Buffer.from([0x01]), crypto.randomBytes(7)]),
    notBefore: nb,
    notAfter: opts.notAfter ?? new Date(nb.getTime() + 365 * DAY),
    extensions: [
      new Extension({ extnID: '2.5.29.19', critical: true, extnValue: new OctetString(AsnConvert.serialize(bc)) }),
    ],
  });
}

/** A root whose root role is exactly these keys (other roles reuse the first key; only root matters here). */
function rootWith(keys: PublicKey[]): RootSigned {
  const ids = keys.map((k) => k.id);
  const role = { keyids: ids, threshold: 1 };
  return newRoot(
    keys,
    { root: role, targets: role, snapshot: role, timestamp: role },
    new Date(NOW.getTime() + 3650 * DAY),
  );
}

function x509Key(pem: string): PublicKey {
  return certificatePublicKey(pem);
}

describe('createRootCertificate', () => {
  it('writes Go pem.Encode bytes: 64-column base64, LF, trailing newline', async () => {
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = await createRootCertificate(GUN, privateKey, NOW);
    const lines = pem.split('\n');
    expect(lines[0]).toBe('-----BEGIN CERTIFICATE-----');
    expect(lines.at(-2)).toBe('-----END CERTIFICATE-----');
    expect(lines.at(-1)).toBe('');
    expect(pem).not.toContain('\r');
    const body = lines.slice(1, -2);
    expect(body.slice(0, -1).every((l) => l.length === 64)).toBe(true);
    expect((body.at(-1) ?? '').length).toBeLessThanOrEqual(64);
    const blocks = parseCertificateBundle(pem);
    expect(pemEncode('CERTIFICATE', blocks[0]?.der ?? Buffer.alloc(0))).toBe(pem);
  });

  it('has CN=gun, CA=false, 3650 days from now (whole seconds), a fresh serial each time', async () => {
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const a = certificateInfo(
      parseCertificateBundle(await createRootCertificate(GUN, privateKey, NOW))[0]?.der ?? Buffer.alloc(0),
    );
    expect(a.commonName).toBe(GUN);
    expect(a.isCA).toBe(false);
    expect(a.notBefore.toISOString()).toBe('2026-11-25T20:00:00.000Z');
    expect(a.notAfter.getTime() - a.notBefore.getTime()).toBe(3650 * DAY);
    expect(a.weakSignature).toBeUndefined();
    const pem1 = await createRootCertificate(GUN, privateKey, NOW);
    const pem2 = await createRootCertificate(GUN, privateKey, NOW);
    expect(new crypto.X509Certificate(pem1).serialNumber).not.toBe(new crypto.X509Certificate(pem2).serialNumber);
  });

  it.skipIf(!hasOpenssl())(
    'parses with openssl x509 -text showing CN, CA:FALSE, Code Signing and a 10-year validity',
    async () => {
      const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const pem = await createRootCertificate(GUN, privateKey, NOW);
      const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: pem }).toString();
      expect(text).toContain(`Subject: CN = ${GUN}`);
      expect(text).toContain(`Issuer: CN = ${GUN}`);
      expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
      expect(text).toMatch(/Extended Key Usage:\s+Code Signing/);
      expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
      expect(text).toContain('Signature Algorithm: ecdsa-with-SHA256');
      expect(text).toContain('Not Before: Nov 25 20:00:00 2026 GMT');
      expect(text).toContain('Not After : Nov 22 20:00:00 2036 GMT');
      // self-signature is valid
      const cert = new crypto.X509Certificate(pem);
      expect(cert.verify(cert.publicKey)).toBe(true);
    },
  );

  it('writes validity after 2049 as GeneralizedTime, readable by node and by our reader', async () => {
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const start = new Date('2045-06-01T00:00:00Z');
    const pem = await createRootCertificate(GUN, privateKey, start);
    const info = certificateInfo(parseCertificateBundle(pem)[0]?.der ?? Buffer.alloc(0));
    expect(info.notAfter.toISOString()).toBe('2055-05-30T00:00:00.000Z');
    expect(new Date(new crypto.X509Certificate(pem).validTo).toISOString()).toBe('2055-05-30T00:00:00.000Z');
  });

  it('signs RSA root certificates with sha256WithRSAEncryption', async () => {
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = await createRootCertificate(GUN, privateKey, NOW);
    const cert = new crypto.X509Certificate(pem);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(x509Key(pem).keytype).toBe('rsa-x509');
  });

  it('refuses ed25519 keys (notary cannot make certificates for them)', async () => {
    const { privateKey } = crypto.generateKeyPairSync('ed25519');
    await expect(createRootCertificate(GUN, privateKey, NOW)).rejects.toMatchObject({ code: 'INVALID_KEY' });
  });
});

describe('issueCertificate', () => {
  const ec = (): crypto.KeyPairKeyObjectResult => crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const window = { notBefore: NOW, notAfter: new Date(NOW.getTime() + 30 * DAY) };

  it('issues a CA and a leaf it signs, with SANs, key identifiers and a PEM matching the DER', () => {
    const caKeys = ec();
    const ca = issueCertificate({
      subjectCN: 'Test CA',
      subjectKey: caKeys.publicKey,
      signingKey: caKeys.privateKey,
      ...window,
      ca: true,
      pathLen: 0,
      keyUsage: ['keyCertSign', 'cRLSign'],
      keyIdentifiers: true,
    });
    expect(pemEncode('CERTIFICATE', ca.der)).toBe(ca.pem);
    const leafKeys = ec();
    const leaf = issueCertificate({
      subjectCN: 'localhost',
      subjectKey: leafKeys.publicKey,
      issuer: { certificate: ca.pem, key: caKeys.privateKey },
      ...window,
      ca: false,
      keyUsage: ['digitalSignature'],
      extKeyUsage: ['serverAuth', 'clientAuth'],
      sans: { dns: ['localhost'], ip: ['127.0.0.1', '::1', '::ffff:10.0.0.1'] },
      keyIdentifiers: true,
    });
    const caX = new crypto.X509Certificate(ca.der);
    const leafX = new crypto.X509Certificate(leaf.der);
    expect(caX.ca).toBe(true);
    expect(caX.verify(caX.publicKey)).toBe(true);
    expect(leafX.ca).toBe(false);
    expect(leafX.verify(caX.publicKey)).toBe(true);
    expect(leafX.checkIssued(caX)).toBe(true);
    expect(leafX.checkHost('localhost')).toBe('localhost');
    expect(leafX.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leafX.checkIP('::1')).toBeDefined();
    expect(leafX.checkIP('10.0.0.1')).toBeUndefined(); // an IPv6 SAN, not an IPv4 one
    expect(leafX.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(leafX.issuer).toBe('CN=Test CA');
    expect(new Date(leafX.validFrom).toISOString()).toBe('2026-11-25T20:00:00.000Z'); // whole seconds
  });

  it('takes a CA by CN and key alone, and the key of a self-signed subject from a private key', () => {
    const caKeys = ec();
    const leafKeys = ec();
    const leaf = issueCertificate({
      subjectCN: 'x',
      subjectKey: leafKeys.privateKey,
      issuer: { cn: 'CA', key: caKeys.privateKey },
      ...window,
      ca: false,
      keyUsage: [],
    });
    const x = new crypto.X509Certificate(leaf.der);
    expect(x.issuer).toBe('CN=CA');
    expect(x.verify(caKeys.publicKey)).toBe(true);
    expect(x.publicKey.export({ format: 'der', type: 'spki' })).toEqual(
      leafKeys.publicKey.export({ format: 'der', type: 'spki' }),
    );
  });

  it('refuses a missing or public signing key, a foreign self-signing key, a CA certificate of another key, bad IPs', () => {
    const a = ec();
    const b = ec();
    const base = { subjectCN: 'x', subjectKey: a.publicKey, ...window, ca: false, keyUsage: [] };
    expect(thrownCode(() => issueCertificate(base))).toBe('INVALID_KEY');
    expect(thrownCode(() => issueCertificate({ ...base, signingKey: a.publicKey }))).toBe('INVALID_KEY');
    expect(thrownCode(() => issueCertificate({ ...base, signingKey: b.privateKey }))).toBe('INVALID_KEY');
    const caOfB = issueCertificate({ ...base, subjectKey: b.publicKey, signingKey: b.privateKey, ca: true }).pem;
    expect(thrownCode(() => issueCertificate({ ...base, issuer: { certificate: caOfB, key: a.privateKey } }))).toBe(
      'INVALID_KEY',
    );
    expect(
      thrownCode(() => issueCertificate({ ...base, issuer: { certificate: 'not a pem', key: b.privateKey } })),
    ).toBe('CERTIFICATE');
    for (const ip of ['1.2.3', '300.1.1.1', '1::2::3', 'localhost'])
      expect(
        thrownCode(() => issueCertificate({ ...base, signingKey: a.privateKey, sans: { ip: [ip] } })),
        ip,
      ).toBe('USAGE');
  });
});

describe('validateRootCertificates', () => {
  it('accepts our certificate for its GUN and returns the key under the same ID', async () => {
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = x509Key(await createRootCertificate(GUN, privateKey, NOW));
    const valid = validateRootCertificates(rootWith([key]), GUN, NOW, true);
    expect(valid.map((k) => k.id)).toEqual([key.id]);
  });

  it('refuses a certificate made for another GUN', async () => {
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = x509Key(await createRootCertificate('example.com/org/other', privateKey, NOW));
    expect(thrownCode(() => validateRootCertificates(rootWith([key]), GUN, NOW, true))).toBe('CERTIFICATE');
  });

  it('refuses a CA:TRUE certificate', () => {
    const key = x509Key(makeCert({ cn: GUN, ca: true }));
    expect(thrownCode(() => validateRootCertificates(rootWith([key]), GUN, NOW, true))).toBe('CERTIFICATE');
  });

  it('refuses an expired certificate, and accepts it when expiry is not checked', async () => {
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = x509Key(await createRootCertificate(GUN, privateKey, new Date(NOW.getTime() - 3651 * DAY)));
    expect(thrownCode(() => validateRootCertificates(rootWith([key]), GUN, NOW, true))).toBe('CERTIFICATE');
    expect(validateRootCertificates(rootWith([key]), GUN, NOW, false)).toHaveLength(1);
  });

  it('refuses a certificate valid only from more than one day ahead; accepts one valid from within a day', () => {
    const later = x509Key(makeCert({ cn: GUN, notBefore: new Date(NOW.getTime() + 2 * DAY) }));
    expect(thrownCode(() => validateRootCertificates(rootWith([later]), GUN, NOW, true))).toBe('CERTIFICATE');
    const soon = x509Key(makeCert({ cn: GUN, notBefore: new Date(NOW.getTime() + 12 * 3600 * 1000) }));
    expect(validateRootCertificates(rootWith([soon]), GUN, NOW, true)).toHaveLength(1);
  });

  it('refuses a SHA-1 signed certificate', () => {
    const key = x509Key(makeCert({ cn: GUN, sha1: true }));
    expect(thrownCode(() => validateRootCertificates(rootWith([key]), GUN, NOW, false))).toBe('CERTIFICATE');
  });

  it('refuses a certificate whose validity is not in the DER Z form (lower-case z)', () => {
    const pem = makeCert({ cn: GUN });
    const good = parseCertificateBundle(pem)[0]?.der ?? Buffer.alloc(0);
    const z = Buffer.from('261125200000Z', 'ascii');
    const at = good.indexOf(z);
    expect(at).toBeGreaterThan(0);
    const bad = Buffer.from(good);
    bad[at + 12] = 0x7a; // 'z'
    expect(certificateInfo(good).notBefore.toISOString()).toBe('2026-11-25T20:00:00.000Z');
    expect(thrownCode(() => certificateInfo(bad))).toBe('CERTIFICATE');
    expect(thrownCode(() => x509Key(pemEncode('CERTIFICATE', bad)))).toBe('CERTIFICATE');
  });

  it('refuses an RSA certificate under 2048 bits', () => {
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 });
    const pem = buildCert({
      cn: GUN,
      key: privateKey,
      alg: new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.11', parameters: null }),
      hash: 'sha256',
      serial: Buffer.from([7]),
      notBefore: NOW,
      notAfter: new Date(NOW.getTime() + DAY * 30),
    });
    const key = x509Key(pem);
    expect(key.keytype).toBe('rsa-x509');
    expect(thrownCode(() => validateRootCertificates(rootWith([key]), GUN, NOW, false))).toBe('CERTIFICATE');
  });

  it('accepts a prefix* wildcard CN that prefixes the GUN and refuses one that does not', () => {
    const good = x509Key(makeCert({ cn: 'example.com/org/*' }));
    expect(validateRootCertificates(rootWith([good]), GUN, NOW, true)).toHaveLength(1);
    const bad = x509Key(makeCert({ cn: 'example.com/other/*' }));
    expect(thrownCode(() => validateRootCertificates(rootWith([bad]), GUN, NOW, true))).toBe('CERTIFICATE');
  });

  it('refuses a root whose root role key is a bare ecdsa key', () => {
    const { publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const bare = publicKeyFromSpki(publicKey.export({ format: 'der', type: 'spki' }));
    expect(thrownCode(() => validateRootCertificates(rootWith([bare]), GUN, NOW, true))).toBe('CERTIFICATE');
  });

  it('refuses a bundle holding a non-CERTIFICATE PEM block', async () => {
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem =
      (await createRootCertificate(GUN, privateKey, NOW)) +
      pemEncode('PUBLIC KEY', crypto.createPublicKey(privateKey).export({ format: 'der', type: 'spki' }));
    const key = publicKeyFromJson(keyJson('ecdsa-x509', Buffer.from(pem).toString('base64')));
    expect(thrownCode(() => validateRootCertificates(rootWith([key]), GUN, NOW, true))).toBe('CERTIFICATE');
  });

  it('keeps a valid CA intermediate after the leaf and drops an expired one from the re-derived key', async () => {
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const leaf = await createRootCertificate(GUN, privateKey, NOW);
    const ca = makeCert({ cn: 'Some CA', ca: true });
    const expiredCa = makeCert({
      cn: 'Old CA',
      ca: true,
      notBefore: new Date(NOW.getTime() - 400 * DAY),
      notAfter: new Date(NOW.getTime() - DAY),
    });
    const withCa = x509Key(leaf + ca);
    expect(validateRootCertificates(rootWith([withCa]), GUN, NOW, true)[0]?.id).toBe(withCa.id);
    const withExpired = x509Key(leaf + ca + expiredCa);
    expect(validateRootCertificates(rootWith([withExpired]), GUN, NOW, true)[0]?.id).toBe(withCa.id);
  });

  it('re-derives the key ID from Go-formatted PEM, so CRLF PEM gets a different ID', async () => {
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = await createRootCertificate(GUN, privateKey, NOW);
    const crlf = x509Key(pem.replace(/\n/g, '\r\n'));
    const [derived] = validateRootCertificates(rootWith([crlf]), GUN, NOW, true);
    expect(derived?.id).toBe(x509Key(pem).id);
    expect(derived?.id).not.toBe(crlf.id);
  });

  it('refuses a bundle with two leaf certificates', async () => {
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = (await createRootCertificate(GUN, privateKey, NOW)) + makeCert({ cn: GUN });
    expect(thrownCode(() => validateRootCertificates(rootWith([x509Key(pem)]), GUN, NOW, true))).toBe('CERTIFICATE');
  });

  for (const [capture, gun] of [
    ['notary', '127.0.0.1:5000/library/hello'],
    ['docker', '127.0.0.1:5000/library/dockerhello'],
  ] as const) {
    it(`accepts the ${capture} capture's root certificate, re-deriving the listed key ID, and verifies root with it`, () => {
      const root = parseRoot(vector(capture, 'root.json'));
      const listed = rootRoleKeys(root.signed, 'root').keyids;
      const valid = validateRootCertificates(root.signed, gun, NOW, true);
      expect(valid.map((k) => k.id)).toEqual(listed);
      verifyThreshold(root, Object.fromEntries(valid.map((k) => [k.id, k])), listed, 1);
      expect(thrownCode(() => validateRootCertificates(root.signed, `${gun}2`, NOW, true))).toBe('CERTIFICATE');
    });
  }
});

describe('matchCNToGun', () => {
  it.each([
    ['a/b', 'a/b', true],
    ['a/b', 'a/bc', false],
    ['a/*', 'a/b', true],
    ['a/b*', 'a/bc', true],
    ['a/b**', 'a/bc', true],
    ['b/*', 'a/b', false],
    ['*', 'anything', true],
    ['a/b', 'A/B', false],
  ])('CN %s vs GUN %s → %s', (cn, gun, ok) => {
    expect(matchCNToGun(cn, gun)).toBe(ok);
  });
});
