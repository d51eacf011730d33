// A deliberately small, independent TUF/notary metadata writer used only to load servers fast
// (measurements 1 and 5): root with an ecdsa-x509 root key, client-held targets and snapshot keys,
// the server's timestamp key, published with one multipart POST per repository (reference §1.6,
// §3). It does not depend on Signet's src/, so the notary side can be measured on its own.
import crypto from 'node:crypto';
import https from 'node:https';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { exec, check } from './util.js';

type J = null | boolean | number | string | J[] | { [k: string]: J };

/** docker/go canonical JSON for the ASCII-only values written here: sorted keys, no whitespace. */
export function canonical(v: J): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const keys = Object.keys(v).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k]!)}`).join(',')}}`;
}

export interface BenchKey {
  id: string;
  json: { keytype: string; keyval: { private: null; public: string } };
  priv: crypto.KeyObject;
}

function keyId(keytype: string, pub: string): string {
  return crypto
    .createHash('sha256')
    .update(canonical({ keytype, keyval: { private: null, public: pub } }))
    .digest('hex');
}

export function ecdsaKey(): BenchKey {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pub = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  return {
    id: keyId('ecdsa', pub),
    json: { keytype: 'ecdsa', keyval: { private: null, public: pub } },
    priv: privateKey,
  };
}

/**
 * A root key: P-256 key + self-signed certificate made with openssl (CN = `cn`, CA:FALSE,
 * codeSigning; notary's leaf rules, reference §3.10). `cn` may be a wildcard like `bench/*`.
 */
export async function rootKey(dir: string, cn: string): Promise<BenchKey> {
  const keyFile = path.join(dir, 'root.key');
  const crtFile = path.join(dir, 'root.crt');
  check(
    await exec('/usr/bin/openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '3650',
      '-sha256',
      '-keyout',
      keyFile,
      '-out',
      crtFile,
      '-subj',
      `/CN=${cn.replace(/\//g, '\\/')}`,
      '-addext',
      'basicConstraints=critical,CA:FALSE',
      '-addext',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      '-addext',
      'extendedKeyUsage=codeSigning',
    ]),
    'openssl root certificate',
  );
  const pem = await readFile(crtFile, 'utf8'); // openssl writes Go pem.Encode's layout (64-char lines)
  const pub = Buffer.from(pem).toString('base64');
  const priv = crypto.createPrivateKey(await readFile(keyFile));
  return {
    id: keyId('ecdsa-x509', pub),
    json: { keytype: 'ecdsa-x509', keyval: { private: null, public: pub } },
    priv,
  };
}

function envelope(signed: J, keys: BenchKey[]): Buffer {
  const body = canonical(signed);
  const sigs = keys.map((k) => {
    const sig = crypto.sign('sha256', Buffer.from(body), { key: k.priv, dsaEncoding: 'ieee-p1363' }).toString('base64');
    return `{"keyid":"${k.id}","method":"ecdsa","sig":"${sig}"}`;
  });
  return Buffer.from(`{"signed":${body},"signatures":[${sigs.join(',')}]}`);
}

function meta(b: Buffer): J {
  return { hashes: { sha256: crypto.createHash('sha256').update(b).digest('base64') }, length: b.length };
}

const inYears = (y: number): string =>
  new Date(Date.now() + y * 365.25 * 86400_000).toISOString().replace(/\.\d+Z$/, 'Z');

export interface Target {
  name: string;
  sha256hex: string;
  length: number;
}

/** Fake manifest digests for `n` targets named `prefix0000…` (deterministic). */
export function fakeTargets(n: number, prefix = 't'): Target[] {
  const w = String(Math.max(n - 1, 0)).length;
  return Array.from({ length: n }, (_, i) => ({
    name: `${prefix}${String(i).padStart(Math.max(w, 4), '0')}`,
    sha256hex: crypto.createHash('sha256').update(`bench target ${prefix}${i}`).digest('hex'),
    length: 500 + (i % 1000),
  }));
}

/** root v1 + targets v1 + snapshot v1 for `gun`, as exact file bytes. */
export function buildRepo(
  keys: { root: BenchKey; targets: BenchKey; snapshot: BenchKey },
  timestampKey: { keytype: string; keyval: { public: string } },
  targets: Target[],
): { root: Buffer; targets: Buffer; snapshot: Buffer } {
  const ts = { keytype: timestampKey.keytype, keyval: { private: null, public: timestampKey.keyval.public } };
  const tsId = keyId(ts.keytype, ts.keyval.public);
  const root = envelope(
    {
      _type: 'Root',
      consistent_snapshot: false,
      expires: inYears(10),
      keys: {
        [keys.root.id]: keys.root.json,
        [keys.targets.id]: keys.targets.json,
        [keys.snapshot.id]: keys.snapshot.json,
        [tsId]: ts,
      },
      roles: {
        root: { keyids: [keys.root.id], threshold: 1 },
        snapshot: { keyids: [keys.snapshot.id], threshold: 1 },
        targets: { keyids: [keys.targets.id], threshold: 1 },
        timestamp: { keyids: [tsId], threshold: 1 },
      },
      version: 1,
    },
    [keys.root],
  );
  const tmap: Record<string, J> = {};
  for (const t of targets) {
    tmap[t.name] = { hashes: { sha256: Buffer.from(t.sha256hex, 'hex').toString('base64') }, length: t.length };
  }
  const targetsFile = envelope(
    { _type: 'Targets', delegations: { keys: {}, roles: [] }, expires: inYears(3), targets: tmap, version: 1 },
    [keys.targets],
  );
  const snapshot = envelope(
    { _type: 'Snapshot', expires: inYears(3), meta: { root: meta(root), targets: meta(targetsFile) }, version: 1 },
    [keys.snapshot],
  );
  return { root, targets: targetsFile, snapshot };
}

/** A keep-alive HTTPS client for one trust server. */
export class TrustHttp {
  private agent: https.Agent;
  constructor(
    readonly base: string,
    private ca: Buffer,
    sockets = 8,
  ) {
    this.agent = new https.Agent({ keepAlive: true, maxSockets: sockets, ca });
  }

  request(
    method: string,
    p: string,
    body?: Buffer,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const u = new URL(this.base + p);
      const req = https.request(
        u,
        {
          method,
          agent: this.agent,
          ca: this.ca,
          headers: { ...headers, ...(body ? { 'Content-Length': String(body.length) } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${p}: timeout`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  async get(p: string): Promise<Buffer> {
    const r = await this.request('GET', p);
    if (r.status !== 200)
      throw new Error(`GET ${this.base}${p} → ${r.status}: ${r.body.toString('utf8').slice(0, 300)}`);
    return r.body;
  }

  async timestampKey(gun: string): Promise<{ keytype: string; keyval: { public: string } }> {
    return JSON.parse((await this.get(`/v2/${gun}/_trust/tuf/timestamp.key`)).toString('utf8')) as {
      keytype: string;
      keyval: { public: string };
    };
  }

  async publish(gun: string, files: Record<string, Buffer>): Promise<void> {
    const boundary = crypto.randomBytes(30).toString('hex');
    const parts: Buffer[] = [];
    for (const [role, bytes] of Object.entries(files)) {
      parts.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${role}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
        ),
        bytes,
        Buffer.from('\r\n'),
      );
    }
    parts.push(Buffer.from(`--${boundary}--\r\n`));
    const r = await this.request('POST', `/v2/${gun}/_trust/tuf/`, Buffer.concat(parts), {
      'Content-Type': `multipart/form-data; boundary=${boundary}`,
    });
    if (r.status !== 200) throw new Error(`publish ${gun} → ${r.status}: ${r.body.toString('utf8').slice(0, 400)}`);
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Create (GET timestamp.key) and publish one repository holding `targets`. */
export async function createRepo(
  http: TrustHttp,
  gun: string,
  keys: { root: BenchKey; targets: BenchKey; snapshot: BenchKey },
  targets: Target[],
): Promise<void> {
  const ts = await http.timestampKey(gun);
  await http.publish(gun, buildRepo(keys, ts, targets));
}
