/**
 * Issuing X.509 certificates (N:tuf/utils/x509.go NewCertificate, N:cryptoservice/certificate.go): notary's
 * root certificates and the CA/leaf/TLS certificates tests and `signet server` bootstrap need, encoded as
 * Go's x509.CreateCertificate does. Reading and validating root certificates is in x509.ts.
 */
import crypto from 'node:crypto';
import { AsnConvert, AsnIntegerBigIntConverter, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  AuthorityKeyIdentifier,
  Extension,
  Extensions,
  GeneralName,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Time,
  Validity,
  Version,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_authorityKeyIdentifier,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_clientAuth,
  id_kp_codeSigning,
  id_kp_serverAuth,
} from '@peculiar/asn1-x509';
import { SignetError } from '../errors.js';
import { pemBlocks, pemEncode } from './pem.js';
import { COMMON_NAME_OID } from './x509.js';
import type { PublicKey, Signer } from './types.js';

const YEAR_MS = 365 * 24 * 3600 * 1000; // notary.Year: the fixture certs run exactly 3650 days

/** Go's asn1 PrintableString alphabet (no `*`, `&`, `@`, `_`): other CNs are written as UTF8String, as Go does. */
function isPrintable(s: string): boolean {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s);
}

const OID = {
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  ecdsaSha512: '1.2.840.10045.4.3.4',
  rsaSha256: '1.2.840.113549.1.1.11',
};

function nameCN(cn: string): Name {
  const value = new AttributeValue(isPrintable(cn) ? { printableString: cn } : { utf8String: cn });
  return new Name([new RelativeDistinguishedName([new AttributeTypeAndValue({ type: COMMON_NAME_OID, value })])]);
}

/** Go encoding/asn1: UTCTime for 1950–2049, GeneralizedTime otherwise (whole seconds, 'Z'). */
function goTime(d: Date): Time {
  const y = d.getUTCFullYear();
  return new Time(y >= 1950 && y < 2050 ? { utcTime: d } : { generalTime: d });
}

/** Positive INTEGER content bytes, minimally encoded (Go's big.Int serial). */
function serialBytes(random: Buffer): ArrayBuffer {
  const view = AsnIntegerBigIntConverter.toASN(BigInt(`0x${random.toString('hex')}`)).valueBlock.valueHexView;
  return new Uint8Array(view).buffer;
}

function extension(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

/** Signature algorithm and hash for a signing key, as Go's x509.CreateCertificate picks them. Throws INVALID_KEY. */
function signatureAlgorithm(key: crypto.KeyObject): { alg: AlgorithmIdentifier; hash: string; kind: 'ec' | 'rsa' } {
  const kind = key.asymmetricKeyType;
  if (kind === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const map: Record<string, [string, string]> = {
      prime256v1: [OID.ecdsaSha256, 'sha256'],
      secp384r1: [OID.ecdsaSha384, 'sha384'],
      secp521r1: [OID.ecdsaSha512, 'sha512'],
    };
    const m = curve === undefined ? undefined : map[curve];
    if (m === undefined)
      throw new SignetError('INVALID_KEY', `ECDSA curve ${curve ?? 'unknown'} is not supported for certificates`);
    return { alg: new AlgorithmIdentifier({ algorithm: m[0] }), hash: m[1], kind }; // ECDSA: parameters absent
  }
  if (kind === 'rsa') {
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048)
      throw new SignetError('INVALID_KEY', 'RSA certificate keys must be at least 2048 bits');
    // NULL parameters, as Go
    return { alg: new AlgorithmIdentifier({ algorithm: OID.rsaSha256, parameters: null }), hash: 'sha256', kind };
  }
  throw new SignetError(
    'INVALID_KEY',
    `${kind ?? 'unknown'} keys cannot sign certificates; use an ECDSA P-256 or RSA key`,
    { fix: 'generate the key as ecdsa (the default)' },
  );
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING value. */
function keyIdentifier(spki: SubjectPublicKeyInfo): ArrayBuffer {
  const digest = crypto.createHash('sha1').update(new Uint8Array(spki.subjectPublicKey)).digest();
  return new Uint8Array(digest).buffer;
}

/** An IP address SAN entry; IPv6 is first normalised by the WHATWG URL parser (e.g. `::ffff:1.2.3.4`). */
function ipName(ip: string): GeneralName {
  try {
    const text = ip.includes(':') ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
    const name = new GeneralName({ iPAddress: text });
    AsnConvert.serialize(name); // the library checks the address here
    return name;
  } catch (cause) {
    throw new SignetError('USAGE', `${JSON.stringify(ip)} is not an IP address`, { cause });
  }
}

/** An issuing CA certificate from PEM (first CERTIFICATE block) or DER, checked against its private key. */
function parseIssuer(certificate: string | Buffer, key: crypto.KeyObject): Certificate {
  let der: Buffer | undefined;
  let cert: Certificate;
  try {
    const pem = typeof certificate === 'string' ? pemBlocks(certificate) : [];
    der = typeof certificate === 'string' ? pem.find((b) => b.type === 'CERTIFICATE')?.bytes : certificate;
    if (der === undefined) throw new Error('no PEM CERTIFICATE block found');
    cert = AsnConvert.parse(der, Certificate);
  } catch (cause) {
    throw new SignetError('CERTIFICATE', `issuer certificate cannot be parsed: ${(cause as Error).message}`, { cause });
  }
  if (!new crypto.X509Certificate(der).checkPrivateKey(key))
    throw new SignetError('INVALID_KEY', 'the issuer key does not belong to the issuer certificate');
  return cert;
}

/** The SubjectKeyIdentifier extension value of a certificate, if it has one. */
function subjectKeyIdentifierOf(cert: Certificate): ArrayBuffer | undefined {
  const ext = cert.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_subjectKeyIdentifier);
  if (ext === undefined) return undefined;
  const ski = AsnConvert.parse(ext.extnValue.buffer, SubjectKeyIdentifier);
  return new Uint8Array(ski.buffer).buffer;
}

export type KeyUsageName = keyof typeof KeyUsageFlags;
const EXT_KEY_USAGE = {
  serverAuth: id_kp_serverAuth,
  clientAuth: id_kp_clientAuth,
  codeSigning: id_kp_codeSigning,
} as const;
export type ExtKeyUsageName = keyof typeof EXT_KEY_USAGE;

export interface CertificateRequest {
  subjectCN: string;
  /** the certified key (public; a private key stands for its public half) */
  subjectKey: crypto.KeyObject;
  /**
   * The issuing CA's private key and either its CN or its certificate (PEM or DER). With the certificate,
   * the issuer name is its subject as encoded there (Go compares these bytes when it builds a chain) and
   * the AuthorityKeyIdentifier is its SubjectKeyIdentifier. Absent = self-signed by `signingKey`.
   */
  issuer?: { key: crypto.KeyObject } & ({ cn: string } | { certificate: string | Buffer });
  /** self-signed only: the subject's private key */
  signingKey?: crypto.KeyObject;
  /** truncated to whole seconds */
  notBefore: Date;
  notAfter: Date;
  /** BasicConstraints (always written, critical) */
  ca: boolean;
  /** BasicConstraints pathLenConstraint (CA only) */
  pathLen?: number;
  /** KeyUsage (critical); omitted when empty */
  keyUsage: KeyUsageName[];
  extKeyUsage?: ExtKeyUsageName[];
  sans?: { dns?: string[]; ip?: string[] };
  /** add SubjectKeyIdentifier and AuthorityKeyIdentifier (RFC 5280 method 1) */
  keyIdentifiers?: boolean;
  /** serial content bytes, read as a positive integer; default 16 random bytes (< 2^128, as Go/notary) */
  serial?: Buffer;
}

/**
 * Issues an X.509 v3 certificate, encoded with @peculiar/asn1-x509 and signed with node:crypto.
 * Subject and issuer are a single CN (PrintableString when Go would use it, else UTF8String);
 * validity times are UTCTime for 1950–2049, GeneralizedTime otherwise. Extensions are written in
 * Go's order: KeyUsage (critical), ExtKeyUsage, BasicConstraints (critical), SubjectKeyIdentifier,
 * AuthorityKeyIdentifier, SubjectAltName. The signature algorithm follows the signing key: ECDSA
 * P-256/384/521 with SHA-256/384/512, RSA (≥ 2048 bits) PKCS#1 v1.5 SHA-256. Throws INVALID_KEY.
 */
export function issueCertificate(req: CertificateRequest): { der: Buffer; pem: string } {
  const signer = req.issuer?.key ?? req.signingKey;
  if (signer?.type !== 'private')
    throw new SignetError(
      'INVALID_KEY',
      'issueCertificate needs the private key of the issuer (or of a self-signed subject)',
    );
  const { alg, hash, kind } = signatureAlgorithm(signer);
  const subjectPublic = req.subjectKey.type === 'public' ? req.subjectKey : crypto.createPublicKey(req.subjectKey);
  const subjectSpki = subjectPublic.export({ format: 'der', type: 'spki' });
  const issuerSpki = crypto.createPublicKey(signer).export({ format: 'der', type: 'spki' });
  if (req.issuer === undefined && !subjectSpki.equals(issuerSpki))
    throw new SignetError('INVALID_KEY', 'a self-signed certificate must be signed by the subject key');
  const issuerCert =
    req.issuer !== undefined && 'certificate' in req.issuer
      ? parseIssuer(req.issuer.certificate, req.issuer.key)
      : undefined;
  const tbs = tbsCertificate(req, alg, subjectSpki, issuerSpki, issuerCert);
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signature =
    kind === 'ec'
      ? crypto.sign(hash, tbsDer, { key: signer, dsaEncoding: 'der' })
      : crypto.sign(hash, tbsDer, { key: signer, padding: crypto.constants.RSA_PKCS1_PADDING });
  return assemble(tbs, alg, signature);
}

function assemble(tbs: TBSCertificate, alg: AlgorithmIdentifier, signature: Buffer): { der: Buffer; pem: string } {
  const cert = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: alg,
    signatureValue: new Uint8Array(signature).buffer,
  });
  const der = Buffer.from(AsnConvert.serialize(cert));
  return { der, pem: pemEncode('CERTIFICATE', der) };
}

/** The to-be-signed part, in Go's layout (see issueCertificate). */
function tbsCertificate(
  req: Omit<CertificateRequest, 'signingKey'>,
  alg: AlgorithmIdentifier,
  subjectSpki: Buffer,
  issuerSpki: Buffer,
  issuerCert: Certificate | undefined,
): TBSCertificate {
  const issuerName =
    issuerCert?.tbsCertificate.subject ??
    nameCN(req.issuer !== undefined && 'cn' in req.issuer ? req.issuer.cn : req.subjectCN);
  const spki = AsnConvert.parse(subjectSpki, SubjectPublicKeyInfo);
  const whole = (d: Date): Date => new Date(Math.floor(d.getTime() / 1000) * 1000);
  const validity = new Validity();
  validity.notBefore = goTime(whole(req.notBefore));
  validity.notAfter = goTime(whole(req.notAfter));

  const exts: Extension[] = [];
  if (req.keyUsage.length > 0) {
    const flags = req.keyUsage.reduce((f, u) => f | KeyUsageFlags[u], 0);
    exts.push(extension(id_ce_keyUsage, true, new KeyUsage(flags)));
  }
  if (req.extKeyUsage !== undefined && req.extKeyUsage.length > 0)
    exts.push(extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage(req.extKeyUsage.map((u) => EXT_KEY_USAGE[u]))));
  exts.push(
    extension(
      id_ce_basicConstraints,
      true,
      new BasicConstraints(
        req.ca && req.pathLen !== undefined ? { cA: true, pathLenConstraint: req.pathLen } : { cA: req.ca },
      ),
    ),
  );
  if (req.keyIdentifiers === true) {
    exts.push(extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyIdentifier(spki))));
    const issuerKeyId = issuerCert === undefined ? undefined : subjectKeyIdentifierOf(issuerCert);
    const authorityKeyId = issuerKeyId ?? keyIdentifier(AsnConvert.parse(issuerSpki, SubjectPublicKeyInfo));
    exts.push(
      extension(
        id_ce_authorityKeyIdentifier,
        false,
        new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(authorityKeyId) }),
      ),
    );
  }
  const sans = [
    ...(req.sans?.dns ?? []).map((dNSName) => new GeneralName({ dNSName })),
    ...(req.sans?.ip ?? []).map(ipName),
  ];
  if (sans.length > 0) exts.push(extension(id_ce_subjectAltName, false, new SubjectAlternativeName(sans)));

  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serialBytes(req.serial ?? crypto.randomBytes(16)),
    signature: alg,
    issuer: issuerName,
    validity,
    subject: nameCN(req.subjectCN),
    subjectPublicKeyInfo: spki,
    extensions: new Extensions(exts),
  });
  return tbs;
}

/**
 * notary's root certificate for `gun`, as Go pem.Encode text: self-signed, Subject CN=gun only, random
 * serial < 2^128, NotBefore=now, NotAfter=now+years×365 days, KeyUsage digitalSignature|keyEncipherment
 * (critical), ExtKeyUsage codeSigning, BasicConstraints CA=false (critical); extensions in Go's order.
 * Signature ECDSA-SHA256 for P-256 (SHA-384/512 for P-384/P-521, as Go picks) or RSA PKCS#1 v1.5 SHA-256.
 * `now` is truncated to whole seconds (X.509 times have no fraction). `key` is the private KeyObject, or a
 * Signer of the bare ecdsa key (a key on a PKCS#11 token: the signature is made there).
 */
export async function createRootCertificate(
  gun: string,
  key: crypto.KeyObject | Signer,
  now: Date,
  years = 10,
): Promise<string> {
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const base = {
    subjectCN: gun,
    notBefore,
    notAfter: new Date(notBefore.getTime() + years * YEAR_MS),
    ca: false,
    keyUsage: ['digitalSignature', 'keyEncipherment'] as KeyUsageName[],
    extKeyUsage: ['codeSigning'] as ExtKeyUsageName[],
  };
  if (key instanceof crypto.KeyObject) {
    if (key.type !== 'private') throw new SignetError('INVALID_KEY', 'createRootCertificate needs a private key');
    return issueCertificate({ ...base, subjectKey: key, signingKey: key }).pem;
  }
  return (await selfSignWith({ ...base, subjectKey: publicKeyObject(key.publicKey) }, key)).pem;
}

function publicKeyObject(pk: PublicKey): crypto.KeyObject {
  if (pk.keytype !== 'ecdsa')
    throw new SignetError(
      'INVALID_KEY',
      `a root certificate signed through a Signer needs a bare ecdsa key, not ${pk.keytype}`,
    );
  return crypto.createPublicKey({ key: Buffer.from(pk.public, 'base64'), format: 'der', type: 'spki' });
}

/** DER ECDSA-Sig-Value (RFC 3279 §2.2.3) from a raw r‖s signature. */
function ecdsaRawToDer(raw: Buffer): Buffer {
  const half = raw.length / 2;
  const int = (b: Buffer): Buffer => {
    let v = b;
    while (v.length > 1 && v[0] === 0) v = v.subarray(1);
    if ((v[0] ?? 0) & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
    return Buffer.concat([Buffer.from([0x02, v.length]), v]);
  };
  const body = Buffer.concat([int(raw.subarray(0, half)), int(raw.subarray(half))]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/**
 * A self-signed certificate whose signature comes from a TUF Signer (a key that never leaves its
 * token): ECDSA P-256 only, since the Signer's "ecdsa" method is SHA-256 with raw r‖s, which is
 * re-encoded as DER for X.509. The result is checked against the subject key before it is returned.
 */
async function selfSignWith(
  req: Omit<CertificateRequest, 'signingKey' | 'issuer'>,
  signer: Signer,
): Promise<{ der: Buffer; pem: string }> {
  const { alg, hash } = signatureAlgorithm(req.subjectKey);
  if (hash !== 'sha256')
    throw new SignetError('INVALID_KEY', 'only ECDSA P-256 keys sign root certificates through a Signer');
  const subjectSpki = req.subjectKey.export({ format: 'der', type: 'spki' });
  const tbs = tbsCertificate(req, alg, subjectSpki, subjectSpki, undefined);
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const { method, sig } = await signer.sign(tbsDer);
  if (method !== 'ecdsa' || sig.length !== 64)
    throw new SignetError(
      'INVALID_KEY',
      `the signer returned a ${method} signature of ${sig.length} bytes, not ECDSA P-256 r‖s`,
    );
  const derSig = ecdsaRawToDer(sig);
  if (!crypto.verify('sha256', tbsDer, { key: req.subjectKey, dsaEncoding: 'der' }, derSig))
    throw new SignetError('BAD_SIGNATURE', "the signer's certificate signature does not verify with its public key");
  return assemble(tbs, alg, derSig);
}
