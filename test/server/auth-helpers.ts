/**
 * A test token issuer (docker/distribution token format): a root CA, a signing certificate issued
 * by it, and ES256/RS256 JWTs carrying the key by `x5c`, `kid` (libtrust fingerprint) or `jwk`.
 */
import crypto, { type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { libtrustKeyId } from '../../src/server/index.js';
import { issueCertificate } from '../../src/tuf/x509-issue.js';
import { startTestServer, type StartedServer } from './start-helper.js';

export interface AccessClaim {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  access?: AccessClaim[];
  [k: string]: unknown;
}

export interface TokenIssuer {
  caKey: KeyObject;
  caPem: string;
  leafKey: KeyObject;
  leafDer: Buffer;
  issuer: string;
  service: string;
  realm: string;
  /** a JWT; `mode` picks how the header names the key (default x5c with the leaf certificate) */
  token(
    claims: TokenClaims,
    opts?: { mode?: 'x5c' | 'kid' | 'jwk'; alg?: string; key?: KeyObject; x5c?: Buffer[]; header?: object },
  ): string;
  /** claims with iss/aud/exp/nbf filled for `access` */
  claims(access: AccessClaim[], extra?: TokenClaims): TokenClaims;
}

const b64u = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export function tokenIssuer(
  opts: { realm?: string; service?: string; issuer?: string; rsa?: boolean } = {},
): TokenIssuer {
  const now = Date.now();
  const gen = (): KeyObject =>
    opts.rsa
      ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
      : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const caKey = gen();
  const caPem = issueCertificate({
    subjectCN: 'Test token CA',
    subjectKey: caKey,
    signingKey: caKey,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 24 * 3600_000),
    ca: true,
    keyUsage: ['keyCertSign', 'cRLSign', 'digitalSignature'],
    keyIdentifiers: true,
  }).pem;
  const leafKey = gen();
  const leafDer = issueCertificate({
    subjectCN: 'token-signer',
    subjectKey: leafKey,
    issuer: { key: caKey, certificate: caPem },
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 24 * 3600_000),
    ca: false,
    keyUsage: ['digitalSignature'],
    keyIdentifiers: true,
  }).der;
  const issuer = opts.issuer ?? 'test-issuer';
  const service = opts.service ?? 'signet-test';
  const realm = opts.realm ?? 'https://auth.example.test/token';
  return {
    caKey,
    caPem,
    leafKey,
    leafDer,
    issuer,
    service,
    realm,
    claims(access, extra = {}) {
      const t = Math.floor(Date.now() / 1000);
      return { iss: issuer, sub: 'alice', aud: service, exp: t + 300, nbf: t - 1, iat: t, access, ...extra };
    },
    token(claims, o = {}) {
      const mode = o.mode ?? 'x5c';
      const key = o.key ?? (mode === 'x5c' ? leafKey : caKey);
      const isRsa = key.asymmetricKeyType === 'rsa';
      const alg = o.alg ?? (isRsa ? 'RS256' : 'ES256');
      const pub = crypto.createPublicKey(key);
      const header: Record<string, unknown> = { typ: 'JWT', alg };
      if (mode === 'x5c') header.x5c = (o.x5c ?? [leafDer]).map((d) => d.toString('base64'));
      else if (mode === 'kid') header.kid = libtrustKeyId(pub);
      else header.jwk = pub.export({ format: 'jwk' });
      Object.assign(header, o.header ?? {});
      const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
      const sig = isRsa
        ? crypto.sign('sha256', Buffer.from(input), key)
        : crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
      return `${input}.${b64u(sig)}`;
    },
  };
}

export const sha256hex = (s: string): string => crypto.createHash('sha256').update(s).digest('hex');

/** Users of the test token service: alice may do anything, reader may pull. */
export const TEST_TOKEN_USERS: Record<string, { password: string; actions: string[] }> = {
  alice: { password: 'alice-pw', actions: ['*'] },
  reader: { password: 'reader-pw', actions: ['pull'] },
};

/**
 * A docker_auth-like token service: GET <realm>?service=…&scope=repository:<gun>:<actions> with optional basic auth → {"token": JWT}
 * granting the intersection of the requested scope and the user's rights (anonymous: nothing).
 */
export function tokenServer(iss: TokenIssuer, log: string[], users = TEST_TOKEN_USERS): Server {
  return createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    let user: string | undefined;
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      const [name, pw] = Buffer.from(basic[1] as string, 'base64')
        .toString('utf8')
        .split(':') as [string, string];
      if (users[name]?.password !== pw) {
        res.writeHead(401).end();
        return;
      }
      user = name;
    }
    const access = u.searchParams.getAll('scope').flatMap((scope) => {
      const m = /^(repository|registry):(.+):([^:]+)$/.exec(scope);
      if (m === null || user === undefined) return [];
      const rights = users[user]?.actions ?? [];
      const granted = (m[3] as string).split(',').filter((a) => rights.includes('*') || rights.includes(a));
      return granted.length ? [{ type: m[1] as string, name: m[2] as string, actions: granted }] : [];
    });
    log.push(`${user ?? 'anonymous'} ${u.searchParams.get('service')} ${u.searchParams.getAll('scope').join(' ')}`);
    const token = iss.token(iss.claims(access, { sub: user ?? '' }));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
}

export interface TokenAuthServer {
  srv: StartedServer;
  /** stops Signet's server and the token server */
  close(): Promise<void>;
}

/**
 * Signet's server (data in `dir`/data) with token auth, and a token server for it on a free port that
 * issues for TEST_TOKEN_USERS and logs each grant to `tokenLog`.
 */
export async function startTokenAuthServer(
  dir: string,
  names: { service: string; issuer: string },
  tokenLog: string[],
): Promise<TokenAuthServer> {
  const iss = tokenIssuer(names);
  const ts = tokenServer(iss, tokenLog);
  await new Promise<void>((resolve) => ts.listen(0, '127.0.0.1', resolve));
  const bundle = path.join(dir, 'token-ca.pem');
  writeFileSync(bundle, iss.caPem);
  const srv = await startTestServer({
    dataDir: path.join(dir, 'data'),
    auth: {
      type: 'token',
      realm: `http://127.0.0.1:${(ts.address() as AddressInfo).port}/token`,
      service: iss.service,
      issuer: iss.issuer,
      rootCertBundle: bundle,
    },
  });
  return {
    srv,
    async close() {
      await srv.close();
      await new Promise((resolve) => ts.close(resolve));
    },
  };
}
