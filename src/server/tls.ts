/**
 * TLS material for `signet server` out of the box: on first start a local CA (ECDSA P-256, CA:TRUE)
 * and a server certificate it issues (SAN DNS:localhost + IP:127.0.0.1, serverAuth) are created in
 * `<dataDir>/tls/`, in-process (a few lines of DER; node:crypto signs). Later starts reuse them,
 * re-issuing the server certificate when it is within 30 days of expiry.
 */
import crypto from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';

export interface TlsMaterial {
  cert: string;
  key: string;
  /** path of the CA certificate clients must trust */
  caFile: string;
  state: 'created' | 'renewed' | 'existing';
}

const DAY = 24 * 60 * 60 * 1000;

// ---- minimal DER ----
function tlv(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [40 * (parts[0] ?? 0) + (parts[1] ?? 0)];
  for (const p of parts.slice(2)) {
    const bytes = [p & 0x7f];
    for (let v = p >>> 7; v > 0; v >>>= 7) bytes.unshift((v & 0x7f) | 0x80);
    out.push(...bytes);
  }
  return tlv(0x06, Buffer.from(out));
}
function uint(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return tlv(0x02, (v[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'; // YYYYMMDDHHMMSSZ
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2))) : tlv(0x18, Buffer.from(iso));
}
const bitString = (b: Buffer, unused = 0): Buffer => tlv(0x03, Buffer.concat([Buffer.from([unused]), b]));
const octets = (b: Buffer): Buffer => tlv(0x04, b);
const ext = (id: string, critical: boolean, value: Buffer): Buffer =>
  seq(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), octets(value));
const nameCN = (cn: string): Buffer => seq(set(seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8')))));
const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

function pem(type: string, der: Buffer): string {
  const b64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${type}-----\n${b64}\n-----END ${type}-----\n`;
}

/** SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1). */
function keyId(spki: Buffer): Buffer {
  // SPKI = SEQ { algId SEQ, BIT STRING }: the key bits are the last 65 bytes for P-256 (uncompressed point)
  return crypto
    .createHash('sha1')
    .update(spki.subarray(spki.length - 65))
    .digest();
}

function certificate(opts: {
  subject: string;
  issuer: string;
  publicKey: crypto.KeyObject;
  signingKey: crypto.KeyObject;
  issuerSpki: Buffer;
  notBefore: Date;
  notAfter: Date;
  extensions: Buffer[];
}): Buffer {
  const spki = opts.publicKey.export({ type: 'spki', format: 'der' });
  const serial = crypto.randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const tbs = seq(
    tlv(0xa0, uint(Buffer.from([2]))),
    uint(serial),
    ECDSA_SHA256,
    nameCN(opts.issuer),
    seq(time(opts.notBefore), time(opts.notAfter)),
    nameCN(opts.subject),
    spki,
    tlv(
      0xa3,
      seq(
        ...opts.extensions,
        ext('2.5.29.14', false, octets(keyId(spki))),
        ext('2.5.29.35', false, seq(tlv(0x80, keyId(opts.issuerSpki)))),
      ),
    ),
  );
  const sig = crypto.sign('sha256', tbs, opts.signingKey);
  return seq(tbs, ECDSA_SHA256, bitString(sig));
}

async function readIf(p: string): Promise<string | undefined> {
  try {
    return await readFile(p, 'utf8');
  } catch {
    return undefined;
  }
}

async function writeSecret(p: string, data: string): Promise<void> {
  await writeFile(p, data, { mode: 0o600 });
  await chmod(p, 0o600);
}

function ipv6Bytes(addr: string): Buffer {
  const [head = '', tail = ''] = addr.split('::');
  const h = head ? head.split(':') : [];
  const t = addr.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.from(
    groups.flatMap((g) => {
      const v = parseInt(g, 16);
      return [v >> 8, v & 0xff];
    }),
  );
}

function sanNames(names: string[]): Buffer {
  return seq(
    ...names.map((n) => {
      const ip = isIP(n);
      if (ip === 4) return tlv(0x87, Buffer.from(n.split('.').map(Number)));
      if (ip === 6) return tlv(0x87, ipv6Bytes(n));
      return tlv(0x82, Buffer.from(n, 'ascii'));
    }),
  );
}

/** `names`: extra DNS names / IP addresses for the server certificate (localhost and 127.0.0.1 always). */
export async function ensureTls(dataDir: string, opts: { names?: string[] } = {}): Promise<TlsMaterial> {
  const dir = path.join(dataDir, 'tls');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caCrt = path.join(dir, 'ca.crt');
  const caKeyFile = path.join(dir, 'ca.key');
  const srvCrt = path.join(dir, 'server.crt');
  const srvKey = path.join(dir, 'server.key');
  const now = Date.now();

  let state: TlsMaterial['state'] = 'existing';
  let caPem = await readIf(caCrt);
  const caKeyPem = await readIf(caKeyFile);
  let caKey: crypto.KeyObject;
  if (caPem !== undefined && caKeyPem !== undefined) {
    caKey = crypto.createPrivateKey(caKeyPem);
  } else {
    const kp = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    caKey = kp.privateKey;
    const spki = kp.publicKey.export({ type: 'spki', format: 'der' });
    const der = certificate({
      subject: 'Signet local CA',
      issuer: 'Signet local CA',
      publicKey: kp.publicKey,
      signingKey: caKey,
      issuerSpki: spki,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 10 * 365 * DAY),
      extensions: [
        ext('2.5.29.19', true, seq(tlv(0x01, Buffer.from([0xff])), uint(Buffer.from([0])))),
        ext('2.5.29.15', true, bitString(Buffer.from([0x06]), 1)), // keyCertSign | cRLSign
      ],
    });
    caPem = pem('CERTIFICATE', der);
    await writeSecret(caKeyFile, caKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    await writeFile(caCrt, caPem);
    state = 'created';
  }
  const caSpki = crypto.createPublicKey(caKey).export({ type: 'spki', format: 'der' });

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
    const der = certificate({
      subject: 'localhost',
      issuer: 'Signet local CA',
      publicKey: kp.publicKey,
      signingKey: caKey,
      issuerSpki: caSpki,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 825 * DAY),
      extensions: [
        ext('2.5.29.19', true, seq()),
        ext('2.5.29.15', true, bitString(Buffer.from([0xa0]), 5)), // digitalSignature | keyEncipherment
        ext('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // serverAuth
        ext('2.5.29.17', false, sanNames(names)),
      ],
    });
    await writeSecret(srvKey, kp.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    await writeFile(srvCrt, pem('CERTIFICATE', der) + caPem);
    if (state === 'existing') state = 'renewed';
  }
  return { cert: await readFile(srvCrt, 'utf8'), key: await readFile(srvKey, 'utf8'), caFile: caCrt, state };
}
