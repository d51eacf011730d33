/**
 * Root certificates (N:trustpinning/certs.go validRootLeafCerts/validRootIntCerts/MatchCNToGun;
 * N:tuf/utils/x509.go ValidateCertificate/CertToKey): reading certificates and deciding which root keys
 * are valid for a GUN. Root keys are `ecdsa-x509`/`rsa-x509`: keyval.public is base64 of the PEM text, and
 * Go re-derives the key (and so its ID) from pem.Encode of the parsed leaf + intermediates, so our PEM
 * must be Go's bytes. Issuing certificates is in x509-issue.ts.
 */
import crypto from 'node:crypto';
import { SignetError } from '../errors.js';
import { readCertificateFacts, type DerString, type DerTime } from './der.js';
import { pemBlocks, pemEncode } from './pem.js';
import { isX509KeyType, keyJson, publicKeyFromJson } from './public-key.js';
import type { KeyType, PublicKey, RootSigned } from './types.js';

const DAY_MS = 24 * 3600 * 1000;

/** id-at-commonName (X.520). */
export const COMMON_NAME_OID = '2.5.4.3';

function certError(message: string, cause?: unknown): SignetError {
  return new SignetError('CERTIFICATE', message, {
    cause,
    fix: 'the root key must be a self-signed, non-CA certificate for this GUN (CN=<gun>), not expired and not SHA-1; re-initialise or rotate the root key',
  });
}

export interface CertificateInfo {
  der: Buffer;
  commonName: string;
  notBefore: Date;
  notAfter: Date;
  isCA: boolean;
  /** 'ec' | 'rsa' | … (node:crypto asymmetricKeyType) */
  keyType: string;
  rsaBits: number | undefined;
  weakSignature: string | undefined;
  publicKey: crypto.KeyObject;
}

const WEAK_SIG_OIDS: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10040.4.3': 'dsa-with-SHA1',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
};

/** A DirectoryString CN value (UTF8, Printable, IA5, Teletex as Latin-1, BMP); other string types are refused. */
function cnString(v: DerString): string {
  switch (v.tag) {
    case 0x0c: // UTF8String
    case 0x13: // PrintableString
    case 0x16: // IA5String
      return v.bytes.toString('utf8');
    case 0x14: // TeletexString
      return v.bytes.toString('latin1');
    case 0x1e: // BMPString: UTF-16 big-endian code units
      if (v.bytes.length % 2 !== 0) throw new Error('BMPString of odd length');
      return Buffer.from(v.bytes).swap16().toString('utf16le');
    default:
      throw new Error('unsupported string type for CN');
  }
}

/**
 * A validity time as a whole-second Date. Only the DER forms are accepted: UTCTime YYMMDDHHMMSSZ
 * (years 1950–2049) and GeneralizedTime YYYYMMDDHHMMSS[.f]Z; a fraction is dropped.
 */
function readTime(t: DerTime): Date {
  const m = t.kind === 'utc' ? /^(\d{2})(\d{10})Z$/.exec(t.text) : /^(\d{4})(\d{10})(?:\.\d+)?Z$/.exec(t.text);
  if (m === null) throw new Error(`unsupported time ${JSON.stringify(t.text)}`);
  let year = Number(m[1]);
  if (t.kind === 'utc') year += year < 50 ? 2000 : 1900;
  const [mo, d, h, mi, sec] = (m[2]!.match(/\d\d/g) ?? []).map(Number) as [number, number, number, number, number];
  // set field by field (Date.UTC would map years 0–99 to 1900–1999), then refuse what rolled over
  // (month 13, 31 April, hour 24, …), as Go's time parsing does
  const date = new Date(0);
  date.setUTCFullYear(year, mo - 1, d);
  date.setUTCHours(h, mi, sec, 0);
  const want = [year, mo, d, h, mi, sec];
  const got = [
    date.getUTCFullYear(),
    date.getUTCMonth() + 1,
    date.getUTCDate(),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
  ];
  if (got.some((v, i) => v !== want[i])) throw new Error(`unsupported time ${JSON.stringify(t.text)}`);
  return date;
}

/** Subject CN (the last one, as Go's pkix.Name keeps), validity and signature algorithm, read from the DER. */
function readTbsFacts(buf: Buffer): { commonName: string; notBefore: Date; notAfter: Date; sigOid: string } {
  const facts = readCertificateFacts(buf, COMMON_NAME_OID);
  let commonName = '';
  for (const v of facts.subjectValues) commonName = cnString(v);
  return {
    commonName,
    notBefore: readTime(facts.notBefore),
    notAfter: readTime(facts.notAfter),
    sigOid: facts.signatureOid,
  };
}

/** Parse one DER certificate into the facts the root rules look at. Throws CERTIFICATE. */
export function certificateInfo(certDer: Buffer): CertificateInfo {
  try {
    const nodeCert = new crypto.X509Certificate(certDer);
    const facts = readTbsFacts(certDer);
    const keyType = nodeCert.publicKey.asymmetricKeyType ?? 'unknown';
    return {
      der: certDer,
      commonName: facts.commonName,
      notBefore: facts.notBefore,
      notAfter: facts.notAfter,
      isCA: nodeCert.ca,
      keyType,
      rsaBits: keyType === 'rsa' ? nodeCert.publicKey.asymmetricKeyDetails?.modulusLength : undefined,
      weakSignature: WEAK_SIG_OIDS[facts.sigOid],
      publicKey: nodeCert.publicKey,
    };
  } catch (cause) {
    if (cause instanceof SignetError) throw cause;
    throw certError(`certificate cannot be parsed: ${(cause as Error).message}`, cause);
  }
}

/** Certificates of a PEM bundle; every block must be CERTIFICATE. Throws CERTIFICATE. */
export function parseCertificateBundle(pem: string): CertificateInfo[] {
  const blocks = pemBlocks(pem);
  if (blocks.length === 0) throw certError('no PEM CERTIFICATE block found');
  return blocks.map((b, i) => {
    if (b.type !== 'CERTIFICATE') throw certError(`PEM block ${i} is ${b.type}, only CERTIFICATE blocks are allowed`);
    return certificateInfo(b.bytes);
  });
}

/** The problem with a certificate under N:tuf/utils/x509.go ValidateCertificate, or undefined if it passes. */
export function certificateProblem(c: CertificateInfo, now: Date, checkExpiry: boolean): string | undefined {
  if (c.notBefore.getTime() > c.notAfter.getTime()) return 'its validity window is invalid (NotBefore after NotAfter)';
  if (c.weakSignature !== undefined) return `it is signed with ${c.weakSignature}, which is not allowed`;
  if (c.keyType === 'rsa' && (c.rsaBits ?? 0) < 2048)
    return `its RSA key has ${c.rsaBits ?? 0} bits, at least 2048 are required`;
  if (checkExpiry) {
    if (c.notBefore.getTime() > now.getTime() + DAY_MS) return `it is not valid until ${c.notBefore.toISOString()}`;
    if (now.getTime() > c.notAfter.getTime()) return `it expired at ${c.notAfter.toISOString()}`;
  }
  return undefined;
}

/** CN equals the GUN, or ends in `*` and (without the trailing `*`s) is a prefix of it. */
export function matchCNToGun(cn: string, gun: string): boolean {
  if (cn.endsWith('*')) return gun.startsWith(cn.replace(/\*+$/, ''));
  return cn === gun;
}

/** The public key of a PEM certificate (bundle) as an x509 key; keytype inferred from the leaf unless given. */
export function certificatePublicKey(pem: string, keytype?: KeyType): PublicKey {
  const certs = parseCertificateBundle(pem);
  const leafType = certs[0]?.keyType;
  const kt = keytype ?? (leafType === 'rsa' ? 'rsa-x509' : 'ecdsa-x509');
  if (!isX509KeyType(kt)) throw new SignetError('INVALID_KEY', `${kt} is not an x509 key type`);
  return publicKeyFromJson(keyJson(kt, Buffer.from(pem, 'utf8').toString('base64')));
}

/**
 * The valid root leaf keys of `root` for `gun` (N:trustpinning/certs.go): root role keys must be *-x509 bundles of
 * CERTIFICATE blocks with exactly one non-CA leaf, CN matching the GUN, passing ValidateCertificate
 * (expiry only when `checkExpiry`). Each returned key is re-derived from Go-formatted PEM of the leaf
 * plus its valid intermediates, so its `id` is the one Go looks signatures up by. Keys that fail are
 * skipped (as Go does); if none is left, throws CERTIFICATE naming every reason.
 */
export function validateRootCertificates(root: RootSigned, gun: string, now: Date, checkExpiry: boolean): PublicKey[] {
  const role = root.roles['root'];
  if (role === undefined) throw certError('root.json defines no root role');
  const valid: PublicKey[] = [];
  const reasons: string[] = [];
  for (const keyid of role.keyids ?? []) {
    const kj = root.keys[keyid];
    const skip = (why: string): void => {
      reasons.push(`key ${keyid}: ${why}`);
    };
    if (kj === undefined) {
      skip('is not in root keys');
      continue;
    }
    if (!isX509KeyType(kj.keytype)) {
      skip(`is a ${kj.keytype} key; root keys must be ecdsa-x509 or rsa-x509 certificates`);
      continue;
    }
    let certs: CertificateInfo[];
    try {
      certs = parseCertificateBundle(Buffer.from(kj.keyval.public, 'base64').toString('utf8'));
    } catch (err) {
      skip((err as Error).message);
      continue;
    }
    const leaves = certs.filter((c) => !c.isCA);
    const leaf = leaves[0];
    if (leaf === undefined || leaves.length !== 1) {
      skip(
        `holds ${leaves.length} non-CA (leaf) certificates; exactly one is required (a CA:TRUE certificate cannot be a root key)`,
      );
      continue;
    }
    if (!matchCNToGun(leaf.commonName, gun)) {
      skip(`certificate CN ${JSON.stringify(leaf.commonName)} does not match the GUN ${JSON.stringify(gun)}`);
      continue;
    }
    const problem = certificateProblem(leaf, now, checkExpiry);
    if (problem !== undefined) {
      skip(`certificate is invalid: ${problem}`);
      continue;
    }
    const intermediates = certs.filter((c) => c.isCA && certificateProblem(c, now, true) === undefined);
    const pem = [leaf, ...intermediates].map((c) => pemEncode('CERTIFICATE', c.der)).join('');
    const kt = leaf.keyType === 'rsa' ? 'rsa-x509' : leaf.keyType === 'ec' ? 'ecdsa-x509' : undefined;
    if (kt === undefined) {
      skip(`certificate key type ${leaf.keyType} is not supported`);
      continue;
    }
    const derived = publicKeyFromJson(keyJson(kt, Buffer.from(pem, 'utf8').toString('base64')));
    if (!valid.some((k) => k.id === derived.id)) valid.push(derived);
  }
  if (valid.length === 0) {
    throw new SignetError(
      'CERTIFICATE',
      `no valid root certificate for ${gun}: ${reasons.join('; ') || 'the root role lists no keys'}`,
      {
        fix: 'the root key must be a self-signed, non-CA certificate with CN=<gun>, not expired and not SHA-1; re-initialise or rotate the root key',
        details: { reasons },
      },
    );
  }
  return valid;
}
