/**
 * TLS material for `signet server` out of the box: on first start a local CA (ECDSA P-256, CA:TRUE)
 * and a server certificate it issues (SAN DNS:localhost + IP:127.0.0.1, serverAuth) are created in
 * `<dataDir>/tls/`, in-process with @peculiar/x509. Later starts reuse them (re-issuing the server
 * certificate when it is within 30 days of expiry).
 */
import crypto from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as x509 from '@peculiar/x509';

type CryptoKey = crypto.webcrypto.CryptoKey;
type CryptoKeyPair = crypto.webcrypto.CryptoKeyPair;

export interface TlsMaterial {
  cert: string;
  key: string;
  /** path of the CA certificate clients must trust */
  caFile: string;
  /** what happened: 'created' | 'renewed' | 'existing' */
  state: 'created' | 'renewed' | 'existing';
}

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 24 * 60 * 60 * 1000;

function serial(): string {
  const b = crypto.randomBytes(16);
  b[0] = (b[0] ?? 0) & 0x7f; // positive
  return b.toString('hex');
}

async function exists(p: string): Promise<boolean> {
  try {
    await readFile(p);
    return true;
  } catch {
    return false;
  }
}

async function pemKey(k: CryptoKey): Promise<string> {
  const der = Buffer.from(await crypto.webcrypto.subtle.exportKey('pkcs8', k));
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return crypto.webcrypto.subtle.importKey('pkcs8', der, ALG, true, ['sign']);
}

async function writeSecret(p: string, data: string): Promise<void> {
  await writeFile(p, data, { mode: 0o600 });
  await chmod(p, 0o600);
}

export async function ensureTls(dataDir: string, opts: { hostnames?: string[]; ips?: string[] } = {}): Promise<TlsMaterial> {
  x509.cryptoProvider.set(crypto.webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const dir = path.join(dataDir, 'tls');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caCrt = path.join(dir, 'ca.crt');
  const caKeyFile = path.join(dir, 'ca.key');
  const srvCrt = path.join(dir, 'server.crt');
  const srvKey = path.join(dir, 'server.key');
  const now = Date.now();

  let state: TlsMaterial['state'] = 'existing';
  let caCert: x509.X509Certificate;
  let caKey: CryptoKey;
  if ((await exists(caCrt)) && (await exists(caKeyFile))) {
    caCert = new x509.X509Certificate(await readFile(caCrt, 'utf8'));
    caKey = await importKey(await readFile(caKeyFile, 'utf8'));
  } else {
    const keys = (await crypto.webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
    caCert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: 'CN=Signet local CA',
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 10 * 365 * DAY),
      signingAlgorithm: ALG,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    caKey = keys.privateKey;
    await writeSecret(caKeyFile, await pemKey(caKey));
    await writeFile(caCrt, caCert.toString('pem') + '\n');
    state = 'created';
  }

  let needServer = !((await exists(srvCrt)) && (await exists(srvKey)));
  if (!needServer) {
    const c = new x509.X509Certificate(await readFile(srvCrt, 'utf8'));
    if (c.notAfter.getTime() - now < 30 * DAY) needServer = true;
  }
  if (needServer) {
    const keys = (await crypto.webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
    const names = [
      ...(opts.hostnames ?? ['localhost']).map((value) => ({ type: 'dns' as const, value })),
      ...(opts.ips ?? ['127.0.0.1']).map((value) => ({ type: 'ip' as const, value })),
    ];
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: 'CN=localhost',
      issuer: caCert.subject,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 825 * DAY),
      signingAlgorithm: ALG,
      publicKey: keys.publicKey,
      signingKey: caKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(names),
        await x509.AuthorityKeyIdentifierExtension.create(caCert),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    await writeSecret(srvKey, await pemKey(keys.privateKey));
    await writeFile(srvCrt, cert.toString('pem') + '\n' + caCert.toString('pem') + '\n');
    if (state === 'existing') state = 'renewed';
  }
  return { cert: await readFile(srvCrt, 'utf8'), key: await readFile(srvKey, 'utf8'), caFile: caCrt, state };
}
