/** openssl on the PATH, and certificates built field by field (to test what the parsers refuse or keep). */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  Certificate,
  Extension,
  Extensions,
  Name,
  RelativeDistinguishedName,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import { pemEncode } from '../../src/tuf/index.js';

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A self-signed v3 certificate with a UTF8String CN, built with @peculiar/asn1-x509 and signed by node:crypto. */
export function buildCert(opts: {
  cn: string;
  key: crypto.KeyObject;
  alg: AlgorithmIdentifier;
  hash: string;
  serial: Buffer;
  notBefore: Date;
  notAfter: Date;
  extensions?: Extension[];
}): string {
  const name = (): Name =>
    new Name([
      new RelativeDistinguishedName([
        new AttributeTypeAndValue({ type: '2.5.4.3', value: new AttributeValue({ utf8String: opts.cn }) }),
      ]),
    ]);
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: new Uint8Array(opts.serial).buffer,
    signature: opts.alg,
    issuer: name(),
    validity: new Validity({ notBefore: opts.notBefore, notAfter: opts.notAfter }),
    subject: name(),
    subjectPublicKeyInfo: AsnConvert.parse(
      crypto.createPublicKey(opts.key).export({ format: 'der', type: 'spki' }),
      SubjectPublicKeyInfo,
    ),
    extensions: opts.extensions === undefined ? undefined : new Extensions(opts.extensions),
  });
  const sig = crypto.sign(opts.hash, Buffer.from(AsnConvert.serialize(tbs)), opts.key);
  const cert = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: opts.alg,
    signatureValue: new Uint8Array(sig).buffer,
  });
  return pemEncode('CERTIFICATE', Buffer.from(AsnConvert.serialize(cert)));
}
