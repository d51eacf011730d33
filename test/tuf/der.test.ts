// The certificate facts the root rules read from the DER (src/tuf/der.ts through certificateInfo):
// subject CN in each string type a CA may use, the last CN when there are several, validity times in
// both encodings, and the signature algorithm. The certificates are made by the real openssl CLI.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCertificateFacts } from '../../src/tuf/der.js';
import { COMMON_NAME_OID } from '../../src/tuf/x509.js';
import { parseCertificateBundle } from '../../src/tuf/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-der-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', path.join(dir, 'k.pem')]);

/** A self-signed certificate from `openssl req -x509`, with the given string mask (which picks the CN's type). */
function opensslCert(name: string, subj: string, opts: { mask?: string; days?: number; sha1?: boolean } = {}) {
  const cnf = path.join(dir, `${name}.cnf`);
  writeFileSync(cnf, `[req]\ndistinguished_name=dn\nstring_mask=${opts.mask ?? 'utf8only'}\n[dn]\n`);
  const out = path.join(dir, `${name}.pem`);
  execFileSync('openssl', [
    'req',
    '-x509',
    '-new',
    '-key',
    path.join(dir, 'k.pem'),
    '-config',
    cnf,
    '-utf8',
    '-subj',
    subj,
    '-days',
    String(opts.days ?? 2),
    ...(opts.sha1 ? ['-sha1'] : ['-sha256']),
    '-out',
    out,
  ]);
  const pem = readFileSync(out, 'utf8');
  const [info] = parseCertificateBundle(pem);
  return { info: info!, der: info!.der, node: new X509Certificate(pem) };
}

describe('certificate facts read from the DER', () => {
  it.each([
    ['utf8only', 'UTF8String', 0x0c],
    ['nombstr', 'TeletexString (Latin-1)', 0x14],
    ['pkix', 'BMPString', 0x1e],
  ])('reads a CN with non-ASCII text written as %s (%s)', (mask, _type, tag) => {
    const { info, der } = opensslCert(`cn-${mask}`, '/CN=café.example.com\\/app', { mask });
    expect(readCertificateFacts(der, COMMON_NAME_OID).subjectValues.map((v) => v.tag)).toEqual([tag]);
    expect(info.commonName).toBe('café.example.com/app');
  });

  it('takes the last of several CNs (as Go keeps), read as PrintableString', () => {
    const { info, der } = opensslCert('multi', '/CN=first/O=x/CN=docker.io\\/library\\/app', { mask: 'nombstr' });
    expect(readCertificateFacts(der, COMMON_NAME_OID).subjectValues.map((v) => v.tag)).toEqual([0x13, 0x13]);
    expect(info.commonName).toBe('docker.io/library/app');
  });

  it('reads UTCTime and GeneralizedTime validity to the second, as node:crypto does', () => {
    for (const [name, days] of [
      ['utc', 2],
      ['generalized', 12000],
    ] as const) {
      const { info, der, node } = opensslCert(`t-${name}`, '/CN=example.com\\/app', { days });
      const facts = readCertificateFacts(der, COMMON_NAME_OID);
      expect(facts.notAfter.kind).toBe(name === 'utc' ? 'utc' : 'generalized');
      expect(info.notBefore.toISOString()).toBe(new Date(node.validFrom).toISOString());
      expect(info.notAfter.toISOString()).toBe(new Date(node.validTo).toISOString());
    }
  });

  it('names SHA-1 signatures as weak, SHA-256 ones not', () => {
    expect(opensslCert('sha1', '/CN=example.com\\/app', { sha1: true }).info.weakSignature).toBe('ecdsa-with-SHA1');
    expect(opensslCert('sha256', '/CN=example.com\\/app').info.weakSignature).toBeUndefined();
  });

  it('refuses DER that is not strict: indefinite or non-minimal lengths, trailing bytes', () => {
    const { der } = opensslCert('strict', '/CN=example.com\\/app');
    expect(() => readCertificateFacts(Buffer.concat([der, Buffer.from([0])]), COMMON_NAME_OID)).toThrow(/trailing/);
    const indefinite = Buffer.from(der);
    indefinite[1] = 0x80;
    expect(() => readCertificateFacts(indefinite, COMMON_NAME_OID)).toThrow(/indefinite/);
    // 0x30 0x81 0x05 …: a length under 128 in the long form
    expect(() => readCertificateFacts(Buffer.from([0x30, 0x81, 0x05, 0, 0, 0, 0, 0]), COMMON_NAME_OID)).toThrow(
      /non-minimal/,
    );
  });
});
