/**
 * Signature verification (N:tuf/data/keys.go, N:tuf/data/types.go, N:tuf/signed/verify.go, verifiers.go).
 *  - ecdsa: SHA-256 over the canonical bytes, raw r||s (IEEE P1363), never DER
 *  - rsapss: PSS, SHA-256, MGF1-SHA-256, salt 32; rsapkcs1v15 (verify only); modulus ≥ 2048
 *  - eddsa: pure Ed25519
 * and the key sets roles assign. Thresholds, root chains and delegations are judged in verify-core.ts.
 */
import crypto from 'node:crypto';
import { SignetError } from '../errors.js';
import { SignatureBudget } from './budget.js';
import { pemBlocks } from './pem.js';
import { keyObjectFromPublicKey, publicKeyFromJson, tufKeyId } from './public-key.js';
import { findDelegation } from './delegations.js';
import { parseRfc3339 } from './structure.js';
import type { KeyJson, Metadata, PublicKey, RootSigned, Signature, TargetsSigned } from './types.js';

const MIN_RSA_BITS = 2048;
/**
 * Larger RSA keys cost more per check (16,384 bits: ~6 ms) and no notary tool makes them; Go refuses
 * public exponents above 2^31-1 (crypto/rsa checkPub), and a 3,072-bit exponent costs ~50 ms a check.
 */
const MAX_RSA_BITS = 8192;
const MAX_RSA_EXPONENT = 2n ** 31n - 1n;
/** Signatures checked per listed key ID (see verify-core.ts verifyDelegate). */
export const MAX_TRIES_PER_KEY = 2;

/** The RSA key of a `pycrypto-pkcs#1 pss` signer: keytype `rsa` whose public value is PEM text, not DER. */
function pyCryptoKey(pk: PublicKey): crypto.KeyObject | undefined {
  if (pk.keytype !== 'rsa') return undefined;
  const block = pemBlocks(Buffer.from(pk.public, 'base64').toString('utf8'))[0];
  return block === undefined ? undefined : crypto.createPublicKey({ key: block.bytes, format: 'der', type: 'spki' });
}

function rsaUsable(key: crypto.KeyObject): boolean {
  const d = key.asymmetricKeyDetails;
  const bits = d?.modulusLength ?? 0;
  return bits >= MIN_RSA_BITS && bits <= MAX_RSA_BITS && (d?.publicExponent ?? 0n) <= MAX_RSA_EXPONENT;
}

/**
 * True when `sigBytes` is a valid `method` signature of `data` by `pk`. Never throws for bad input.
 * ECDSA signatures are accepted in high-S and low-S form, as notary (Go's ecdsa.Verify) accepts them.
 * With a budget, the key is parsed once per budget.
 */
export function verifySignature(
  pk: PublicKey,
  method: string,
  data: Buffer,
  sigBytes: Buffer,
  budget?: SignatureBudget,
): boolean {
  const m = method.toLowerCase();
  try {
    const py = m === 'pycrypto-pkcs#1 pss';
    const parse = (): crypto.KeyObject | undefined => (py ? pyCryptoKey(pk) : keyObjectFromPublicKey(pk));
    const key = budget === undefined ? parse() : budget.keyObject(pk, py ? 'pycrypto' : 'key', parse);
    if (key === undefined) return false;
    const kind = key.asymmetricKeyType;
    switch (m) {
      case 'ecdsa': {
        if (kind !== 'ec' || (pk.keytype !== 'ecdsa' && pk.keytype !== 'ecdsa-x509')) return false;
        const curve = key.asymmetricKeyDetails?.namedCurve;
        const bits = curve === 'secp384r1' ? 384 : curve === 'secp521r1' ? 521 : 256;
        // raw r||s, each padded to the curve size; SHA-256 whatever the curve (N:tuf/signed/verifiers.go)
        if (sigBytes.length !== 2 * Math.ceil(bits / 8)) return false;
        return crypto.verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sigBytes);
      }
      case 'rsapss':
      case 'rsapkcs1v15':
      case 'pycrypto-pkcs#1 pss': {
        if (kind !== 'rsa' || (pk.keytype !== 'rsa' && pk.keytype !== 'rsa-x509')) return false;
        if (!rsaUsable(key) || sigBytes.length < MIN_RSA_BITS / 8) return false;
        if (m === 'rsapkcs1v15') {
          return crypto.verify('sha256', data, { key, padding: crypto.constants.RSA_PKCS1_PADDING }, sigBytes);
        }
        return crypto.verify(
          'sha256',
          data,
          { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
          sigBytes,
        );
      }
      case 'eddsa':
        if (kind !== 'ed25519' || pk.keytype !== 'ed25519' || sigBytes.length !== 64) return false;
        return crypto.verify(null, data, key, sigBytes);
      default:
        return false;
    }
  } catch {
    return false;
  }
}

/**
 * The signatures that verify with the key their ID names, one per key; as in verifyDelegate each
 * key is tried MAX_TRIES_PER_KEY times and parsed once (for re-signing: which old signatures to keep).
 */
export function validSignatures(
  signatures: readonly Signature[],
  keys: ReadonlyMap<string, PublicKey>,
  data: Buffer,
  budget: SignatureBudget = new SignatureBudget(),
): Signature[] {
  const tries = new Map<string, number>();
  const kept = new Set<string>();
  return signatures.filter((s) => {
    const pk = keys.get(s.keyid);
    const n = tries.get(s.keyid) ?? 0;
    if (pk === undefined || kept.has(s.keyid) || n >= MAX_TRIES_PER_KEY) return false;
    tries.set(s.keyid, n + 1);
    if (!verifySignature(pk, s.method, data, Buffer.from(s.sig, 'base64'), budget)) return false;
    kept.add(s.keyid);
    return true;
  });
}

/** EXPIRED when md.signed.expires < now. */
export function checkExpiry(md: Metadata, now: Date): void {
  const exp = parseRfc3339(md.signed.expires);
  if (exp === undefined || exp.getTime() < now.getTime()) {
    throw new SignetError('EXPIRED', `${md.role} expired at ${md.signed.expires}`, {
      fix: `the ${md.role} owner must re-sign it (server-managed timestamps are re-signed by the server); a stale copy may also mean a freeze attack`,
      details: { role: md.role, expires: md.signed.expires },
    });
  }
}

/** ROLLBACK when md.signed.version < minVersion. */
export function checkVersion(md: Metadata, minVersion: number): void {
  if (md.signed.version < minVersion) {
    throw new SignetError(
      'ROLLBACK',
      `${md.role} version ${md.signed.version} is older than the trusted version ${minVersion}`,
      {
        fix: 'the server is serving old metadata (possible rollback attack); do not trust it',
        details: { role: md.role, version: md.signed.version, minVersion },
      },
    );
  }
}

export interface RoleKeySet {
  keys: Record<string, PublicKey>;
  keyids: string[];
  threshold: number;
}

function keysFor(
  keyJsons: Record<string, KeyJson> | null | undefined,
  keyids: readonly string[],
  role: string,
  budget: SignatureBudget | undefined,
): Record<string, PublicKey> {
  const keys: Record<string, PublicKey> = {};
  for (const id of keyids) {
    if (keyJsons === null || keyJsons === undefined || !Object.hasOwn(keyJsons, id)) continue;
    const kj = keyJsons[id] as KeyJson;
    const make = (): PublicKey => {
      try {
        return publicKeyFromJson(kj);
      } catch (cause) {
        if (!(cause instanceof SignetError)) throw cause;
        // Go computes the ID without decoding the key: keep the ID check (INVALID_KEY_ID) first; an
        // undecodable key then simply verifies nothing.
        const id2 = tufKeyId(kj.keytype, kj.keyval.public);
        return { keytype: kj.keytype, public: kj.keyval.public, id: id2, canonicalId: id2 };
      }
    };
    keys[id] = budget === undefined ? make() : budget.publicKey(role, kj.keytype, kj.keyval.public, make);
  }
  return keys;
}

/**
 * The keys, key IDs and threshold root assigns to a base role. INVALID_ROLE if root has no such role.
 * With a budget, each key is decoded once per budget and the time counts.
 */
export function rootRoleKeys(root: RootSigned, role: string, budget?: SignatureBudget): RoleKeySet {
  const r = root.roles[role];
  if (r === undefined) throw new SignetError('INVALID_ROLE', `root does not define the ${role} role`);
  const keyids = [...(r.keyids ?? [])];
  return { keys: keysFor(root.keys, keyids, role, budget), keyids, threshold: r.threshold };
}

/** The keys, key IDs and threshold a targets body assigns to its delegation `role` (budget: as rootRoleKeys). */
export function delegationRoleKeys(parent: TargetsSigned, role: string, budget?: SignatureBudget): RoleKeySet {
  const d = findDelegation(parent, role);
  if (d === undefined) throw new SignetError('INVALID_ROLE', `${role} is not delegated by its parent`);
  const keyids = [...(d.keyids ?? [])];
  return { keys: keysFor(parent.delegations.keys, keyids, role, budget), keyids, threshold: d.threshold };
}
