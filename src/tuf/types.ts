/**
 * The metadata model in notary 0.7's dialect (N:tuf/data/types.go). Each interface mirrors the wire JSON
 * of the `signed` part exactly, so that canonical re-encoding of a parsed file yields the signed
 * bytes again. Unknown fields are kept (the parsed objects are the JSON objects themselves).
 */
import type { JsonValue } from './canonical-json.js';

export type BaseRole = 'root' | 'targets' | 'snapshot' | 'timestamp';
/** `root`, `targets`, `snapshot`, `timestamp` or a delegation `targets/…`. */
export type RoleName = string;

export type KeyType = 'ecdsa' | 'ecdsa-x509' | 'rsa' | 'rsa-x509' | 'ed25519';
export type SignatureMethod = 'ecdsa' | 'rsapss' | 'rsapkcs1v15' | 'eddsa' | 'pycrypto-pkcs#1 pss';

/** Key JSON as it appears in metadata: `{"keytype":…,"keyval":{"private":null,"public":…}}`. */
export interface KeyJson {
  keytype: KeyType;
  keyval: { private: null; public: string };
  [extra: string]: unknown;
}

/** A public key with both of notary's IDs (N:tuf/data/keys.go). */
export interface PublicKey {
  keytype: KeyType;
  /** keyval.public: base64 of SPKI DER, of PEM certificate text (x509), or raw 32 bytes (ed25519) */
  public: string;
  /** TUF key ID: sha256 of the canonical key JSON. Used in metadata and signatures. */
  id: string;
  /** Canonical ID: for *-x509, the TUF ID of the bare key inside the leaf cert; else = id. Used for key file names. */
  canonicalId: string;
}

export interface Signature {
  keyid: string;
  method: SignatureMethod | string;
  sig: string; // base64
}

export interface RoleKeys {
  keyids: string[];
  threshold: number;
  [extra: string]: unknown;
}

export interface Hashes {
  sha256?: string; // base64
  sha512?: string; // base64
  [alg: string]: string | undefined;
}

export interface FileMeta {
  custom?: JsonValue;
  hashes: Hashes;
  length: number;
  [extra: string]: unknown;
}

export interface DelegationRole {
  keyids: string[];
  name: string;
  paths?: string[];
  threshold: number;
  [extra: string]: unknown;
}

export interface Delegations {
  keys: Record<string, KeyJson> | null;
  roles: DelegationRole[] | null;
  [extra: string]: unknown;
}

interface SignedCommon {
  expires: string; // RFC 3339
  version: number;
  [extra: string]: unknown;
}

export interface RootSigned extends SignedCommon {
  _type: 'Root';
  consistent_snapshot: boolean;
  keys: Record<string, KeyJson>;
  roles: Record<string, RoleKeys>;
}

export interface TargetsSigned extends SignedCommon {
  _type: 'Targets';
  delegations: Delegations;
  targets: Record<string, FileMeta>;
}

export interface SnapshotSigned extends SignedCommon {
  _type: 'Snapshot';
  meta: Record<string, FileMeta>;
}

export interface TimestampSigned extends SignedCommon {
  _type: 'Timestamp';
  meta: { snapshot: FileMeta } & Record<string, FileMeta>;
}

export type AnySigned = RootSigned | TargetsSigned | SnapshotSigned | TimestampSigned;

/**
 * A parsed metadata file. `bytes` are the exact file bytes (what snapshot/timestamp hash and what a
 * server stores and serves); `signedBytes` are the canonical bytes of `signed` (what is signed).
 */
export interface Metadata<T extends AnySigned = AnySigned> {
  role: RoleName;
  signed: T;
  signatures: Signature[];
  bytes: Buffer;
  signedBytes: Buffer;
}

/** Something that can produce a signature for one key (local private key, server signer, HSM). */
export interface Signer {
  /** The public key as listed in metadata (for root: the x509 key); its `id` goes in the signature. */
  readonly publicKey: PublicKey;
  sign(data: Buffer): Promise<{ method: SignatureMethod; sig: Buffer }>;
}
