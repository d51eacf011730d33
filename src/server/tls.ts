/**
 * TLS material for `signet server` out of the box: on first start a local CA (ECDSA P-256, CA:TRUE)
 * and a server certificate it issues (SAN DNS:localhost + IP:127.0.0.1, serverAuth) are created in
 * `<dataDir>/tls/`, in-process (tuf's `issueCertificate`). Later starts reuse them,
 * re-issuing the server certificate when it is within 30 days of expiry.
 */
import crypto from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { ensurePrivateDir, writeFileAtomic } from '../fs/index.js';
import { loadCertificateIssuer } from '../tuf/index.js';

export interface TlsMaterial {
  cert: string;
  key: string;
  /** path of the CA certificate clients must trust */
  caFile: string;
  state: 'created' | 'renewed' | 'existing';
}

const DAY = 24 * 60 * 60 * 1000;
const CA_CN = 'Signet local CA';

async function readIf(p: string): Promise<string | undefined> {
  try {
    return await readFile(p, 'utf8');
  } catch {
    return undefined;
  }
}

const writeSecret = (p: string, data: string): Promise<void> => writeFileAtomic(p, data);
const writePublic = (p: string, data: string): Promise<void> => writeFileAtomic(p, data, { mode: 0o644 });

/** `names`: extra DNS names / IP addresses for the server certificate (localhost and 127.0.0.1 always). */
export async function ensureTls(dataDir: string, opts: { names?: string[] } = {}): Promise<TlsMaterial> {
  const dir = path.join(dataDir, 'tls');
  await ensurePrivateDir(dir);
  const caCrt = path.join(dir, 'ca.crt');
  const caKeyFile = path.join(dir, 'ca.key');
  const srvCrt = path.join(dir, 'server.crt');
  const srvKey = path.join(dir, 'server.key');
  const now = Date.now();
  const issueCertificate = await loadCertificateIssuer();

  let state: TlsMaterial['state'] = 'existing';
  let caPem = await readIf(caCrt);
  const caKeyPem = await readIf(caKeyFile);
  let caKey: crypto.KeyObject;
  if (caPem !== undefined && caKeyPem !== undefined) {
    caKey = crypto.createPrivateKey(caKeyPem);
  } else {
    const kp = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    caKey = kp.privateKey;
    caPem = issueCertificate({
      subjectCN: CA_CN,
      subjectKey: kp.publicKey,
      signingKey: caKey,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 10 * 365 * DAY),
      ca: true,
      pathLen: 0,
      keyUsage: ['keyCertSign', 'cRLSign'],
      keyIdentifiers: true,
    }).pem;
    await writeSecret(caKeyFile, caKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    await writePublic(caCrt, caPem);
    state = 'created';
  }

  const existing = state === 'existing' ? await readIf(srvCrt) : undefined;
  let renew = existing === undefined || (await readIf(srvKey)) === undefined;
  const names = [...new Set(['localhost', '127.0.0.1', ...(opts.names ?? [])])];
  if (!renew && existing !== undefined) {
    try {
      const c = new crypto.X509Certificate(existing);
      const covers = names.every((n) => (isIP(n) ? c.checkIP(n) : c.checkHost(n)) !== undefined);
      renew = Date.parse(c.validTo) - now < 30 * DAY || !covers;
    } catch {
      renew = true;
    }
  }
  if (renew) {
    const kp = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const { pem: serverPem } = issueCertificate({
      subjectCN: 'localhost',
      subjectKey: kp.publicKey,
      issuer: { certificate: caPem, key: caKey },
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 825 * DAY),
      ca: false,
      keyUsage: ['digitalSignature', 'keyEncipherment'],
      extKeyUsage: ['serverAuth'],
      sans: { dns: names.filter((n) => isIP(n) === 0), ip: names.filter((n) => isIP(n) !== 0) },
      keyIdentifiers: true,
    });
    await writeSecret(srvKey, kp.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    await writePublic(srvCrt, serverPem + caPem);
    if (state === 'existing') state = 'renewed';
  }
  return { cert: await readFile(srvCrt, 'utf8'), key: await readFile(srvKey, 'utf8'), caFile: caCrt, state };
}
