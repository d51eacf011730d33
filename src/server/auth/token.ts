/**
 * Token auth: docker/distribution token auth exactly as notary-server 0.7 runs it
 * (`D:registry/auth/token/{accesscontroller,token,util}.go`, libtrust era): `Authorization: Bearer <JWT>`,
 * signed ES256/384/512 or RS256/384/512 by a key found through the header's `x5c` chain (verified up to the
 * root certificate bundle), else its `jwk`, else its `kid` (a libtrust fingerprint of a bundle certificate's
 * key); `iss` = issuer, `aud` = service, `exp`/`nbf` with 60 s leeway, `access` claims (`*` = any action).
 * Verified tokens are cached until they expire, so the cached GET fast path can authorise too.
 */
import crypto, { X509Certificate, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { SignetError } from '../../errors.js';
import { pemBlocks } from '../../tuf/index.js';
import { accessRecords, goQuote, scopeParam, unauthorized, type AccessRecord, type Authorizer } from './common.js';

export interface TokenAuthSettings {
  type: 'token';
  realm: string;
  service: string;
  issuer: string;
  /** PEM text of the root certificate bundle (one or more CERTIFICATE blocks) */
  rootCertsPem: string;
}

/** Token clock-skew leeway on `exp` and `nbf` (distribution's `Leeway`). */
export const TOKEN_LEEWAY_S = 60;
const TOKEN_CACHE_MAX = 2000;
/** certificates in a token's x5c chain (leaf + intermediates), and intermediates walked */
const MAX_CHAIN = 8;

/** libtrust key ID: SHA-256 of the SPKI DER, first 240 bits, base32, in 12 groups of 4 joined by ':'. */
export function libtrustKeyId(key: KeyObject): string {
  const sum = crypto
    .createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest()
    .subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let s = '';
  for (const byte of sum) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      s += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) s += alphabet[(value << (5 - bits)) & 31];
  return (s.match(/.{1,4}/g) ?? []).join(':');
}

/** joseBase64UrlDecode: unpadded base64url, strict alphabet. */
function b64url(s: string): Buffer | null {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) return null;
  return Buffer.from(s, 'base64url');
}

/** Go base64.StdEncoding (padded). */
function b64std(s: string): Buffer | null {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) return null;
  return Buffer.from(s, 'base64');
}

const int64 = z.number().int().refine(Number.isSafeInteger);
const JwtHeader = z.object({
  typ: z.string().optional(),
  alg: z.string().default(''),
  kid: z.string().optional(),
  x5c: z.array(z.string()).nullable().optional(),
  jwk: z.record(z.string(), z.unknown()).nullable().optional(),
});
const JwtClaims = z.object({
  iss: z.string().default(''),
  sub: z.string().default(''),
  // libtrust-era distribution (notary 0.7) has a string; newer distribution also takes a list
  aud: z.union([z.string(), z.array(z.string())]).default(''),
  exp: int64.default(0),
  nbf: int64.default(0),
  iat: int64.optional(),
  jti: z.string().optional(),
  access: z
    .array(
      z.object({
        type: z.string().default(''),
        class: z.string().optional(),
        name: z.string().default(''),
        actions: z.array(z.string()).nullable().default([]),
      }),
    )
    .nullable()
    .default([]),
});
type JwtClaims = z.infer<typeof JwtClaims>;

class TokenError extends Error {
  constructor(
    readonly kind: 'malformed' | 'invalid',
    why: string,
  ) {
    super(why);
  }
}

interface Roots {
  certs: X509Certificate[];
  /** libtrust key ID → key */
  trusted: Map<string, KeyObject>;
}

export function parseRootBundle(pem: string): Roots {
  const certs: X509Certificate[] = [];
  for (const b of pemBlocks(pem)) {
    if (b.type !== 'CERTIFICATE') continue;
    try {
      certs.push(new X509Certificate(b.bytes));
    } catch (cause) {
      throw new SignetError('USAGE', `unable to parse token auth root certificate: ${(cause as Error).message}`, {
        cause,
      });
    }
  }
  if (certs.length === 0)
    throw new SignetError('USAGE', 'token auth requires at least one token signing root certificate', {
      fix: 'point --auth-token-rootcert at the PEM certificate bundle of the token issuer',
    });
  const trusted = new Map<string, KeyObject>();
  for (const c of certs) trusted.set(libtrustKeyId(c.publicKey), c.publicKey);
  return { certs, trusted };
}

function validAt(c: X509Certificate, nowMs: number): boolean {
  return nowMs >= Date.parse(c.validFrom) && nowMs <= Date.parse(c.validTo);
}

/** parseAndVerifyCertChain: x5c[0] is the leaf, the rest intermediates; must chain to a bundle root. */
function verifyChain(x5c: readonly string[], roots: Roots, nowMs: number): KeyObject {
  if (x5c.length === 0) throw new TokenError('invalid', 'empty x509 certificate chain');
  if (x5c.length > MAX_CHAIN) throw new TokenError('invalid', 'x509 certificate chain too long');
  const certs = x5c.map((s, i) => {
    const der = b64std(s);
    if (der === null) throw new TokenError('invalid', `unable to decode certificate ${i} of the chain`);
    try {
      return new X509Certificate(der);
    } catch {
      throw new TokenError('invalid', `unable to parse certificate ${i} of the chain`);
    }
  });
  const leaf = certs[0] as X509Certificate;
  const intermediates = certs.slice(1);
  // Each certificate is explored once (an attacker controls the intermediates: certificates sharing
  // a key and a name would otherwise make the search exponential); a cycle counts as a dead end.
  const seen = new Map<X509Certificate, boolean>();
  const chains = (c: X509Certificate, depth: number): boolean => {
    const known = seen.get(c);
    if (known !== undefined) return known;
    seen.set(c, false);
    let ok = false;
    if (!validAt(c, nowMs)) ok = false;
    else if (roots.certs.some((r) => r.raw.equals(c.raw))) ok = true;
    else if (depth <= MAX_CHAIN) {
      ok = roots.certs.some((r) => validAt(r, nowMs) && c.checkIssued(r) && c.verify(r.publicKey));
      for (const i of intermediates) {
        if (ok) break;
        if (i === c || !i.ca || !c.checkIssued(i) || !c.verify(i.publicKey)) continue;
        ok = chains(i, depth + 1);
      }
    }
    seen.set(c, ok);
    return ok;
  };
  if (!chains(leaf, 0)) throw new TokenError('invalid', 'unable to verify certificate chain');
  return leaf.publicKey;
}

function signingKey(header: z.infer<typeof JwtHeader>, roots: Roots, nowMs: number): KeyObject {
  if (header.x5c && header.x5c.length > 0) return verifyChain(header.x5c, roots, nowMs);
  if (header.jwk) {
    let key: KeyObject;
    try {
      key = crypto.createPublicKey({ key: header.jwk as crypto.JsonWebKey, format: 'jwk' });
    } catch {
      throw new TokenError('invalid', 'unable to decode raw JWK value');
    }
    const x5c = header.jwk['x5c'];
    if (!Array.isArray(x5c)) {
      const known = roots.trusted.get(libtrustKeyId(key));
      if (known === undefined) throw new TokenError('invalid', 'untrusted JWK with no certificate chain');
      return known;
    }
    if (!x5c.every((s) => typeof s === 'string' && s !== ''))
      throw new TokenError('invalid', 'malformed certificate chain');
    const leaf = verifyChain(x5c as string[], roots, nowMs);
    if (libtrustKeyId(leaf) !== libtrustKeyId(key))
      throw new TokenError('invalid', 'leaf certificate public key ID does not match JWK key ID');
    return leaf;
  }
  if (header.kid !== undefined && header.kid !== '') {
    const k = roots.trusted.get(header.kid);
    if (k === undefined)
      throw new TokenError('invalid', `token signed by untrusted key with ID: ${JSON.stringify(header.kid)}`);
    return k;
  }
  throw new TokenError('invalid', 'unable to get token signing key');
}

const EC_ALGS: Record<string, { alg: string; hash: string; octets: number }> = {
  prime256v1: { alg: 'ES256', hash: 'sha256', octets: 32 },
  secp384r1: { alg: 'ES384', hash: 'sha384', octets: 48 },
  secp521r1: { alg: 'ES512', hash: 'sha512', octets: 66 },
};
const RSA_ALGS: Record<string, string> = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' };

/** libtrust `PublicKey.Verify`: the alg must fit the key (EC: one per curve; RSA: PKCS#1 v1.5). */
function verifySignature(key: KeyObject, alg: string, data: Buffer, sig: Buffer): boolean {
  if (key.asymmetricKeyType === 'ec') {
    const p = EC_ALGS[key.asymmetricKeyDetails?.namedCurve ?? ''];
    if (p === undefined || p.alg !== alg || sig.length !== 2 * p.octets) return false;
    return crypto.verify(p.hash, data, { key, dsaEncoding: 'ieee-p1363' }, sig);
  }
  if (key.asymmetricKeyType === 'rsa') {
    const hash = RSA_ALGS[alg];
    if (hash === undefined) return false;
    return crypto.verify(hash, data, { key, padding: crypto.constants.RSA_PKCS1_PADDING }, sig);
  }
  return false;
}

export interface VerifiedToken {
  subject: string;
  exp: number;
  nbf: number;
  /** "type\0name" → actions */
  access: Map<string, Set<string>>;
}

/** NewToken + Verify of distribution's token.go. Throws TokenError. */
export function verifyToken(
  raw: string,
  opts: { issuer: string; service: string; roots: Roots },
  nowMs: number,
): VerifiedToken {
  const parts = raw.split('.');
  if (parts.length !== 3) throw new TokenError('malformed', 'not three dot-separated parts');
  const [h, c, s] = parts as [string, string, string];
  const hb = b64url(h);
  const cb = b64url(c);
  const sig = b64url(s);
  if (hb === null || cb === null || sig === null) throw new TokenError('malformed', 'bad base64url');
  let header: z.infer<typeof JwtHeader>;
  let claims: JwtClaims;
  try {
    header = JwtHeader.parse(JSON.parse(hb.toString('utf8')));
    claims = JwtClaims.parse(JSON.parse(cb.toString('utf8')));
  } catch {
    throw new TokenError('malformed', 'header or claims are not the expected JSON');
  }
  if (claims.iss !== opts.issuer) throw new TokenError('invalid', 'token from untrusted issuer');
  const aud = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
  if (!aud.includes(opts.service)) throw new TokenError('invalid', 'token intended for another audience');
  const now = nowMs / 1000;
  if (now > claims.exp + TOKEN_LEEWAY_S) throw new TokenError('invalid', 'token expired');
  if (now < claims.nbf - TOKEN_LEEWAY_S) throw new TokenError('invalid', 'token not valid yet');
  if (sig.length === 0) throw new TokenError('invalid', 'token has no signature');
  const key = signingKey(header, opts.roots, nowMs);
  if (!verifySignature(key, header.alg, Buffer.from(`${h}.${c}`, 'ascii'), sig))
    throw new TokenError('invalid', 'unable to verify token signature');
  const access = new Map<string, Set<string>>();
  for (const ra of claims.access ?? []) {
    const k = `${ra.type}\0${ra.name}`;
    const set = access.get(k) ?? new Set<string>();
    for (const a of ra.actions ?? []) set.add(a);
    access.set(k, set);
  }
  return { subject: claims.sub, exp: claims.exp, nbf: claims.nbf, access };
}

export function tokenAuthorizer(cfg: TokenAuthSettings): Authorizer {
  const roots = parseRootBundle(cfg.rootCertsPem);
  const opts = { issuer: cfg.issuer, service: cfg.service, roots };
  const cache = new Map<string, VerifiedToken>();
  const challenge = (records: AccessRecord[], error?: 'invalid_token' | 'insufficient_scope'): string => {
    let str = `Bearer realm=${goQuote(cfg.realm)},service=${goQuote(cfg.service)}`;
    const scope = scopeParam(records);
    if (scope !== '') str += `,scope=${goQuote(scope)}`;
    if (error !== undefined) str += `,error=${goQuote(error)}`;
    return str;
  };
  return {
    type: 'token',
    authorize(authorization, gun, actions) {
      const records = accessRecords(gun, actions);
      const parts = (authorization ?? '').split(' ');
      if (parts.length !== 2 || (parts[0] as string).toLowerCase() !== 'bearer') {
        return {
          ok: false,
          reason: 'token_required',
          user: undefined,
          why: 'authorization token required',
          reply: unauthorized(challenge(records), records),
        };
      }
      const raw = parts[1] as string;
      const nowMs = Date.now();
      let tok = cache.get(raw);
      if (tok !== undefined && (nowMs / 1000 > tok.exp + TOKEN_LEEWAY_S || nowMs / 1000 < tok.nbf - TOKEN_LEEWAY_S)) {
        cache.delete(raw);
        tok = undefined;
      }
      if (tok === undefined) {
        try {
          tok = verifyToken(raw, opts, nowMs);
        } catch (err) {
          const why = err instanceof TokenError ? `${err.kind} token: ${err.message}` : 'invalid token';
          return {
            ok: false,
            reason: 'invalid_token',
            user: undefined,
            why,
            reply: unauthorized(challenge(records, 'invalid_token'), records),
          };
        }
        if (cache.size >= TOKEN_CACHE_MAX) cache.delete(cache.keys().next().value as string);
        cache.set(raw, tok);
      }
      for (const r of records) {
        const set = tok.access.get(`${r.type}\0${r.name}`);
        if (set === undefined || !(set.has('*') || set.has(r.action))) {
          return {
            ok: false,
            reason: 'insufficient_scope',
            user: tok.subject === '' ? undefined : tok.subject,
            why: `token lacks ${r.type}:${r.name}:${r.action}`,
            reply: unauthorized(challenge(records, 'insufficient_scope'), records),
          };
        }
      }
      return { ok: true, user: tok.subject === '' ? undefined : tok.subject };
    },
  };
}
