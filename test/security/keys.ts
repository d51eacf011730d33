/** Alternative encodings of one key: what an attacker uses to list one key under several key IDs. */
import crypto from 'node:crypto';
import { keyJson, localSigner, publicKeyFromJson, type PublicKey, type Signer } from '../../src/tuf/index.js';

/** The SPKI DER of a P-256 key with its point in compressed form (02/03 || x); Node accepts it, Go does not. */
export function compressedSpki(pk: crypto.KeyObject): Buffer {
  const der = pk.export({ type: 'spki', format: 'der' });
  const jwk = pk.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x as string, 'base64url');
  const y = Buffer.from(jwk.y as string, 'base64url');
  const point = Buffer.concat([Buffer.from([0x02 | ((y[31] as number) & 1)]), x]);
  const algo = der.subarray(2, 4 + (der[3] as number));
  const body = Buffer.concat([algo, Buffer.from([0x03, point.length + 1, 0x00]), point]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/** The same private key presented as a second `ecdsa` public key with another TUF key ID. */
export function twinKey(priv: crypto.KeyObject, pub: PublicKey): { pub: PublicKey; signer: Signer } {
  const spki = compressedSpki(crypto.createPublicKey(priv));
  const twin = publicKeyFromJson(keyJson('ecdsa', spki.toString('base64')));
  if (twin.id === pub.id) throw new Error('twin has the same ID');
  return { pub: twin, signer: localSigner(priv, twin) };
}

/** A PEM certificate key re-encoded with CRLF line ends: the same certificate under another TUF key ID. */
export function crlfCertKey(pub: PublicKey): PublicKey {
  const pem = Buffer.from(pub.public, 'base64').toString('utf8').replace(/\n/g, '\r\n');
  return publicKeyFromJson(keyJson(pub.keytype, Buffer.from(pem).toString('base64')));
}
