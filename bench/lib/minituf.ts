// Loads servers fast for measurements 1 and 5: root with an ecdsa-x509 root key, client-held
// targets and snapshot keys, the server's timestamp key, published with one multipart POST per
// repository (N:server/handlers/default.go, N:tuf/data/types.go). The metadata is built and signed with Signet's public tuf/keys
// library (the same code the client uses), so there is one metadata writer in the project.
import crypto from 'node:crypto';
import https from 'node:https';
import { generatePrivateKey } from '../../src/keys/index.js';
import {
  certificatePublicKey,
  createRootCertificate,
  defaultExpires,
  fileMeta,
  localSigner,
  newRoot,
  newSnapshot,
  newTargets,
  publicKeyFromJson,
  signMetadata,
  type KeyJson,
  type Signer,
} from '../../src/tuf/index.js';

/** A key the load generator signs with: its public key (as listed in root) and a local signer. */
export type BenchKey = Signer;

export function ecdsaKey(): BenchKey {
  const k = generatePrivateKey('ecdsa');
  return localSigner(k.keyObject, k.publicKey);
}

/**
 * A root key: P-256 key + notary's self-signed root certificate (CN = `cn`, CA:FALSE, codeSigning;
 * N:trustpinning/certs.go). `cn` may be a wildcard like `bench/*`.
 */
export async function rootKey(cn: string): Promise<BenchKey> {
  const k = generatePrivateKey('ecdsa');
  const pem = await createRootCertificate(cn, k.keyObject, new Date());
  return localSigner(k.keyObject, certificatePublicKey(pem, 'ecdsa-x509'));
}

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
export async function buildRepo(
  keys: { root: BenchKey; targets: BenchKey; snapshot: BenchKey },
  timestampKey: { keytype: string; keyval: { public: string } },
  targets: Target[],
): Promise<{ root: Buffer; targets: Buffer; snapshot: Buffer }> {
  const now = new Date();
  const ts = publicKeyFromJson({
    keytype: timestampKey.keytype,
    keyval: { private: null, public: timestampKey.keyval.public },
  } as KeyJson);
  const role = (k: BenchKey): { keyids: string[]; threshold: number } => ({ keyids: [k.publicKey.id], threshold: 1 });
  const root = await signMetadata(
    'root',
    newRoot(
      [keys.root.publicKey, keys.targets.publicKey, keys.snapshot.publicKey, ts],
      {
        root: role(keys.root),
        targets: role(keys.targets),
        snapshot: role(keys.snapshot),
        timestamp: { keyids: [ts.id], threshold: 1 },
      },
      defaultExpires('root', now),
    ),
    [keys.root],
  );
  const body = newTargets(defaultExpires('targets', now));
  for (const t of targets) {
    body.targets[t.name] = { hashes: { sha256: Buffer.from(t.sha256hex, 'hex').toString('base64') }, length: t.length };
  }
  const targetsFile = await signMetadata('targets', body, [keys.targets]);
  const snapshot = await signMetadata(
    'snapshot',
    newSnapshot(
      { root: fileMeta(root.bytes, ['sha256']), targets: fileMeta(targetsFile.bytes, ['sha256']) },
      defaultExpires('snapshot', now),
    ),
    [keys.snapshot],
  );
  return { root: root.bytes, targets: targetsFile.bytes, snapshot: snapshot.bytes };
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
  await http.publish(gun, await buildRepo(keys, ts, targets));
}
