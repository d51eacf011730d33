/**
 * The simple-signing payload cosign and containers/image sign (sigstore/cosign specs/SIGNATURE_SPEC.md;
 * containers/image signature/internal/sigstore_payload.go), and the signature over it: ECDSA P-256
 * with SHA-256 over the payload bytes exactly as stored, ASN.1 DER, base64 in the layer annotation.
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { SignetError } from '../errors.js';

export const SIGNATURE_TYPE = 'cosign container image signature';

export interface SimpleSigningPayload {
  dockerReference: string;
  manifestDigest: string;
  /** `optional` as found (creator, timestamp, annotations) */
  optional: Record<string, unknown> | null;
}

/** The payload bytes for `digest` in repository `dockerReference` (cosign names the repository, no tag). */
export function buildPayload(dockerReference: string, digest: string, optional: Record<string, unknown>): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': dockerReference },
        image: { 'docker-manifest-digest': digest },
        type: SIGNATURE_TYPE,
      },
      optional,
    }),
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function exactKeys(o: Record<string, unknown>, keys: string[], where: string): void {
  const got = Object.keys(o).sort();
  if (got.length !== keys.length || got.some((k, i) => k !== [...keys].sort()[i])) {
    throw new SignetError('MALFORMED_METADATA', `${where} must have exactly the fields ${keys.join(', ')}`);
  }
}

/** Parse a payload with containers/image's strictness: exact field sets in `critical`. */
export function parsePayload(bytes: Buffer): SimpleSigningPayload {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new SignetError('MALFORMED_METADATA', 'signature payload is not JSON', { cause: e });
  }
  if (!isObject(doc)) throw new SignetError('MALFORMED_METADATA', 'signature payload is not a JSON object');
  exactKeys(doc, ['critical', 'optional'], 'signature payload');
  const critical = doc['critical'];
  const optional = doc['optional'];
  if (!isObject(critical)) throw new SignetError('MALFORMED_METADATA', 'payload critical is not an object');
  if (optional !== null && !isObject(optional))
    throw new SignetError('MALFORMED_METADATA', 'payload optional is not an object');
  exactKeys(critical, ['identity', 'image', 'type'], 'payload critical');
  if (critical['type'] !== SIGNATURE_TYPE)
    throw new SignetError('MALFORMED_METADATA', `unrecognised signature type ${JSON.stringify(critical['type'])}`);
  const image = critical['image'];
  const identity = critical['identity'];
  if (!isObject(image) || !isObject(identity))
    throw new SignetError('MALFORMED_METADATA', 'payload image/identity are not objects');
  exactKeys(image, ['docker-manifest-digest'], 'payload critical.image');
  exactKeys(identity, ['docker-reference'], 'payload critical.identity');
  const manifestDigest = image['docker-manifest-digest'];
  const dockerReference = identity['docker-reference'];
  if (typeof manifestDigest !== 'string' || typeof dockerReference !== 'string') {
    throw new SignetError('MALFORMED_METADATA', 'payload digest and reference must be strings');
  }
  return { dockerReference, manifestDigest, optional };
}

/** base64 of the DER ECDSA signature over `payload`. */
export function signPayload(key: KeyObject, payload: Buffer): string {
  return sign('sha256', payload, key).toString('base64');
}

/** True when `b64` is a valid signature of `payload` by `key`. */
export function verifyPayloadSignature(key: KeyObject, payload: Buffer, b64: string): boolean {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return false;
  try {
    return verify('sha256', payload, key, Buffer.from(b64, 'base64'));
  } catch {
    return false;
  }
}
