/**
 * Root certificates (reference §3.10; N:tuf/utils/x509.go NewCertificate/ValidateCertificate/CertToKey,
 * N:trustpinning/certs.go validRootLeafCerts/validRootIntCerts/MatchCNToGun, N:cryptoservice/certificate.go).
 * Root keys are `ecdsa-x509`/`rsa-x509`: keyval.public is base64 of the PEM text, and Go re-derives the key
 * (and so its ID) from pem.Encode of the parsed leaf + intermediates, so our PEM must be Go's bytes.
 */
import crypto from 'node:crypto';
import * as der from './der.js';
import { SignetError } from '../errors.js';
import { isX509KeyType, keyJson, pemBlocks, pemEncode, publicKeyFromJson } from './public-key.js';
import type { KeyType, PublicKey, RootSigned } from './types.js';

const DAY_MS = 24 * 3600 * 1000;
const YEAR_MS = 365 * DAY_MS; // notary.Year: the fixture certs run exactly 3650 days

function certError(message: string, cause?: unknown): SignetError {
  return new SignetError('CERTIFICATE', message, {
    cause,
    fix: 'the root key must be a self-signed, non-CA certificate for this GUN (CN=<gun>), not expired and not SHA-1; re-initialise or rotate the root key',
  });
}

/** Go's asn1 PrintableString alphabet (no `*`, `&`, `@`, `_`): other CNs are written as UTF8String, as Go does. */
function isPrintable(s: string): boolean {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s);
}

const OID = {
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  ecdsaSha512: '1.2.840.10045.4.3.4',
  rsaSha256: '1.2.840.113549.1.1.11',
  commonName: '2.5.4.3',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  codeSigning: '1.3.6.1.5.5.7.3.3',
};

function nameCN(cn: string): Buffer {
  const value = der.tlv(isPrintable(cn) ? 0x13 : 0x0c, Buffer.from(cn, 'utf8'));
  return der.seq(der.set(der.seq(der.oid(OID.commonName), value)));
}

/**
 * notary's root certificate for `gun`, as Go pem.Encode text: self-signed, Subject CN=gun only, random
 * serial < 2^128, NotBefore=now, NotAfter=now+years×365 days, KeyUsage digitalSignature|keyEncipherment
 * (critical), ExtKeyUsage codeSigning, BasicConstraints CA=false (critical); extensions in Go's order.
 * Signature ECDSA-SHA256 for P-256 (SHA-384/512 for P-384/P-521, as Go picks) or RSA PKCS#1 v1.5 SHA-256.
 * `now` is truncated to whole seconds (X.509 times have no fraction).
 */
export async function createRootCertificate(
  gun: string,
  privateKey: crypto.KeyObject,
  now: Date,
  years = 10,
): Promise<string> {
  if (privateKey.type !== 'private') throw new SignetError('INVALID_KEY', 'createRootCertificate needs a private key');
  const kind = privateKey.asymmetricKeyType;
  let sigAlg: Buffer;
  let hash: string;
  if (kind === 'ec') {
    const curve = privateKey.asymmetricKeyDetails?.namedCurve;
    const map: Record<string, [string, string]> = {
      prime256v1: [OID.ecdsaSha256, 'sha256'],
      secp384r1: [OID.ecdsaSha384, 'sha384'],
      secp521r1: [OID.ecdsaSha512, 'sha512'],
    };
    const m = curve === undefined ? undefined : map[curve];
    if (m === undefined)
      throw new SignetError('INVALID_KEY', `ECDSA curve ${curve ?? 'unknown'} is not supported for root certificates`);
    sigAlg = der.seq(der.oid(m[0]));
    hash = m[1];
  } else if (kind === 'rsa') {
    if ((privateKey.asymmetricKeyDetails?.modulusLength ?? 0) < 2048)
      throw new SignetError('INVALID_KEY', 'RSA root keys must be at least 2048 bits');
    sigAlg = der.seq(der.oid(OID.rsaSha256), der.derNull());
    hash = 'sha256';
  } else {
    throw new SignetError(
      'INVALID_KEY',
      `${kind ?? 'unknown'} keys cannot have a root certificate; use an ECDSA P-256 or RSA key`,
      {
        fix: 'generate the root key as ecdsa (the default)',
      },
    );
  }
  const spki = crypto.createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + years * YEAR_MS);
  const name = nameCN(gun);
  const ext = (id: string, critical: boolean, value: Buffer): Buffer =>
    der.seq(der.oid(id), ...(critical ? [der.boolTrue()] : []), der.octetString(value));
  const extensions = der.seq(
    // digitalSignature (bit 0) | keyEncipherment (bit 2): one byte 0xa0 with 5 unused bits
    ext(OID.keyUsage, true, der.bitString(Buffer.from([0xa0]), 5)),
    ext(OID.extKeyUsage, false, der.seq(der.oid(OID.codeSigning))),
    ext(OID.basicConstraints, true, der.seq()),
  );
  const tbs = der.seq(
    der.explicit(0, der.uint(Buffer.from([2]))),
    der.uint(crypto.randomBytes(16)),
    sigAlg,
    name,
    der.seq(der.time(notBefore), der.time(notAfter)),
    name,
    spki,
    der.explicit(3, extensions),
  );
  const signature =
    kind === 'ec'
      ? crypto.sign(hash, tbs, privateKey)
      : crypto.sign(hash, tbs, { key: privateKey, padding: crypto.constants.RSA_PKCS1_PADDING });
  const cert = der.seq(tbs, sigAlg, der.bitString(signature));
  return pemEncode('CERTIFICATE', cert);
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
  '2a864886f70d010105': 'sha1WithRSAEncryption',
  '2a8648ce3d0401': 'ecdsa-with-SHA1',
  '2a8648ce380403': 'dsa-with-SHA1',
  '2a864886f70d010104': 'md5WithRSAEncryption',
  '2a864886f70d010102': 'md2WithRSAEncryption',
};
const CN_OID_HEX = '550403';

/** Subject CN (the last one, as Go's pkix.Name keeps), validity and signature algorithm, read from the DER. */
function readTbsFacts(buf: Buffer): { commonName: string; notBefore: Date; notAfter: Date; sigOidHex: string } {
  const [tbsNode, algNode] = der.children(buf, der.readNode(buf, 0));
  if (tbsNode === undefined || algNode === undefined) throw new Error('not a certificate');
  const sigOid = der.children(buf, algNode)[0];
  if (sigOid === undefined) throw new Error('no signature algorithm');
  let fields = der.children(buf, tbsNode);
  if (fields[0]?.tag === 0xa0) fields = fields.slice(1); // [0] version
  const [, , , validity, subject] = fields; // serial, signature, issuer, validity, subject
  if (validity === undefined || subject === undefined) throw new Error('truncated TBSCertificate');
  const [nb, na] = der.children(buf, validity);
  if (nb === undefined || na === undefined) throw new Error('bad validity');
  let commonName = '';
  for (const rdn of der.children(buf, subject)) {
    for (const atv of der.children(buf, rdn)) {
      const [type, value] = der.children(buf, atv);
      if (type !== undefined && value !== undefined && der.oidHex(buf, type) === CN_OID_HEX)
        commonName = der.readString(buf, value);
    }
  }
  return {
    commonName,
    notBefore: der.readTime(buf, nb),
    notAfter: der.readTime(buf, na),
    sigOidHex: der.oidHex(buf, sigOid),
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
      weakSignature: WEAK_SIG_OIDS[facts.sigOidHex],
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
    return certificateInfo(b.der);
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
 * The valid root leaf keys of `root` for `gun` (reference §3.10): root role keys must be *-x509 bundles of
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
