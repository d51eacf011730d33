/**
 * ASN.1 schemas for private key containers, described with @peculiar/asn1-schema.
 *
 * These mirror the structures notary 0.7 reads and writes (N:tuf/utils/x509.go):
 *   PrivateKeyInfo          ::= SEQUENCE { version INTEGER, algorithm AlgorithmIdentifier, privateKey OCTET STRING, … }
 *   EncryptedPrivateKeyInfo ::= SEQUENCE { encryptionAlgorithm AlgorithmIdentifier, encryptedData OCTET STRING }
 *   PBES2-params            ::= SEQUENCE { keyDerivationFunc AlgorithmIdentifier, encryptionScheme AlgorithmIdentifier }
 *   PBKDF2-params           ::= SEQUENCE { salt OCTET STRING, iterationCount INTEGER, keyLength INTEGER OPTIONAL, prf AlgorithmIdentifier OPTIONAL }
 *
 * `parameters` is kept as raw DER (ANY) and is omitted entirely when undefined, which is how notary
 * writes RSA (no NULL) and how its PBKDF2 params carry no PRF.
 *
 * The library (with asn1js, ~290 KB) is required on first use, synchronously (it is CommonJS), so
 * that commands which never open or write a key file do not load it (docs/performance.md,
 * measurement 9); the schema classes are defined then, by `define`.
 */
import { createRequire } from 'node:module';
import type * as AsnSchema from '@peculiar/asn1-schema';

export const OID = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecPublicKey: '1.2.840.10045.2.1',
  /** notary's (and old Go x/crypto's) Ed25519 OID; RFC 8410 uses 1.3.101.112 */
  ed25519Notary: '1.3.6.1.4.1.11591.15.1',
  ed25519: '1.3.101.112',
  p256: '1.2.840.10045.3.1.7',
  p384: '1.3.132.0.34',
  p521: '1.3.132.0.35',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  aes256cbc: '2.16.840.1.101.3.4.1.42',
  hmacWithSHA1: '1.2.840.113549.2.7',
} as const;

function define(S: typeof AsnSchema) {
  const { AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, OctetString } = S;
  @AsnType({ type: AsnTypeTypes.Sequence })
  class AlgorithmIdentifier {
    @AsnProp({ type: AsnPropTypes.ObjectIdentifier })
    algorithm = '';

    /** raw DER of the parameters; undefined = absent (not NULL) */
    @AsnProp({ type: AsnPropTypes.Any, optional: true })
    parameters?: ArrayBuffer;

    constructor(algorithm = '', parameters?: ArrayBuffer) {
      this.algorithm = algorithm;
      if (parameters !== undefined) this.parameters = parameters;
    }
  }

  @AsnType({ type: AsnTypeTypes.Sequence })
  class PrivateKeyInfo {
    @AsnProp({ type: AsnPropTypes.Integer })
    version = 0;

    @AsnProp({ type: AlgorithmIdentifier })
    privateKeyAlgorithm = new AlgorithmIdentifier();

    @AsnProp({ type: OctetString })
    privateKey = new OctetString();

    /** [0] IMPLICIT attributes / [1] publicKey (RFC 5958) are accepted on input and ignored */
    @AsnProp({ type: AsnPropTypes.Any, context: 0, implicit: true, optional: true })
    attributes?: ArrayBuffer;

    @AsnProp({ type: AsnPropTypes.Any, context: 1, implicit: true, optional: true })
    publicKey?: ArrayBuffer;
  }

  @AsnType({ type: AsnTypeTypes.Sequence })
  class EncryptedPrivateKeyInfo {
    @AsnProp({ type: AlgorithmIdentifier })
    encryptionAlgorithm = new AlgorithmIdentifier();

    @AsnProp({ type: OctetString })
    encryptedData = new OctetString();
  }

  @AsnType({ type: AsnTypeTypes.Sequence })
  class Pbes2Params {
    @AsnProp({ type: AlgorithmIdentifier })
    keyDerivationFunc = new AlgorithmIdentifier();

    @AsnProp({ type: AlgorithmIdentifier })
    encryptionScheme = new AlgorithmIdentifier();
  }

  @AsnType({ type: AsnTypeTypes.Sequence })
  class Pbkdf2Params {
    @AsnProp({ type: OctetString })
    salt = new OctetString();

    @AsnProp({ type: AsnPropTypes.Integer })
    iterationCount = 0;

    @AsnProp({ type: AsnPropTypes.Integer, optional: true })
    keyLength?: number;

    @AsnProp({ type: AlgorithmIdentifier, optional: true })
    prf?: AlgorithmIdentifier;
  }

  @AsnType({ type: AsnTypeTypes.Choice })
  class OidValue {
    @AsnProp({ type: AsnPropTypes.ObjectIdentifier })
    value = '';
    constructor(value = '') {
      this.value = value;
    }
  }

  return {
    AsnConvert,
    OctetString,
    AlgorithmIdentifier,
    PrivateKeyInfo,
    EncryptedPrivateKeyInfo,
    Pbes2Params,
    Pbkdf2Params,
    OidValue,
  };
}

export type Asn1 = ReturnType<typeof define>;
export type AlgorithmIdentifier = InstanceType<Asn1['AlgorithmIdentifier']>;
export type PrivateKeyInfo = InstanceType<Asn1['PrivateKeyInfo']>;
export type EncryptedPrivateKeyInfo = InstanceType<Asn1['EncryptedPrivateKeyInfo']>;

let loaded: Asn1 | undefined;
/** The schema classes and the library's converter, loaded on first use. */
export function asn1(): Asn1 {
  loaded ??= define(createRequire(import.meta.url)('@peculiar/asn1-schema') as typeof AsnSchema);
  return loaded;
}

export function derOf(obj: unknown): Buffer {
  return Buffer.from(asn1().AsnConvert.serialize(obj));
}

/** DER of an OBJECT IDENTIFIER value (used as AlgorithmIdentifier parameters). */
export function oidDer(oid: string): ArrayBuffer {
  const { AsnConvert, OidValue } = asn1();
  return AsnConvert.serialize(new OidValue(oid));
}

/** DER of an OCTET STRING value (used as AES-CBC IV parameter). */
export function octetStringDer(bytes: Uint8Array): ArrayBuffer {
  const { AsnConvert, OctetString } = asn1();
  return AsnConvert.serialize(new OctetString(bytes));
}

/** Parses DER `bytes` as `target`; throws the library's error on malformed input. */
export function parseDer<T>(bytes: Uint8Array | ArrayBuffer, target: new () => T): T {
  return asn1().AsnConvert.parse(bytes, target);
}

export function parseOidDer(bytes: ArrayBuffer): string {
  const { AsnConvert, OidValue } = asn1();
  return AsnConvert.parse(bytes, OidValue).value;
}

export function parseOctetStringDer(bytes: ArrayBuffer): Buffer {
  const { AsnConvert, OctetString } = asn1();
  return Buffer.from(AsnConvert.parse(bytes, OctetString).buffer);
}

/** Exact buffer view (no copy) of a Uint8Array/ArrayBuffer as Node Buffer. */
export function buf(b: ArrayBuffer | Uint8Array): Buffer {
  return b instanceof ArrayBuffer ? Buffer.from(b) : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
