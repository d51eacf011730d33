/**
 * A small in-test TUF client: builds notary-shaped repositories (x509 root, targets, delegations,
 * client- or server-held snapshot) and publishes them to a Signet app through `inject()`.
 */
import crypto from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, type MetaStore } from '../../src/storage/index.js';
import { LocalServerSigner } from '../../src/signer/index.js';
import { buildApp, type SignetApp } from '../../src/server/index.js';
import type { ServerOptions } from '../../src/server/index.js';
import {
  certificatePublicKey,
  createRootCertificate,
  fileMeta,
  formatExpires,
  localSigner,
  newRoot,
  newTargets,
  publicKeyFromJson,
  publicKeyFromSpki,
  signMetadata,
  type AnySigned,
  type KeyJson,
  type PublicKey,
  type RootSigned,
  type Signer,
  type SnapshotSigned,
  type TargetsSigned,
} from '../../src/tuf/index.js';

export interface TestServer {
  signet: SignetApp;
  store: MetaStore;
  signer: LocalServerSigner;
  dir: string;
  close(): Promise<void>;
}

export async function testServer(
  opts: { database?: string; options?: Partial<ServerOptions>; now?: () => Date } = {},
): Promise<TestServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-srv-'));
  const store = await openStore({ dataDir: dir, ...(opts.database ? { database: opts.database } : {}) });
  const signer = new LocalServerSigner({ keys: store.keys, passphrase: 'test-passphrase' });
  const signet = buildApp({
    store,
    signer,
    ...(opts.options ? { options: opts.options } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  await signet.app.ready();
  return {
    signet,
    store,
    signer,
    dir,
    async close() {
      await signet.app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface KeyPair {
  priv: crypto.KeyObject;
  pub: PublicKey;
  signer: Signer;
}

export function ecdsaKey(): KeyPair {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pub = publicKeyFromSpki(publicKey.export({ type: 'spki', format: 'der' }), 'ecdsa');
  return { priv: privateKey, pub, signer: localSigner(privateKey, pub) };
}

export async function rootKey(cn: string, now = new Date()): Promise<KeyPair> {
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = await createRootCertificate(cn, privateKey, now);
  const pub = certificatePublicKey(pem, 'ecdsa-x509');
  return { priv: privateKey, pub, signer: localSigner(privateKey, pub) };
}

export function keyOf(pk: PublicKey): KeyJson {
  return { keytype: pk.keytype, keyval: { private: null, public: pk.public } };
}

/** multipart/form-data exactly as Go's multipart.Writer writes it (CreateFormFile). */
export function multipart(
  parts: [string, Buffer][],
  boundary = crypto.randomBytes(30).toString('hex'),
): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const [filename, data] of parts) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      data,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

const YEAR = 365 * 24 * 3600 * 1000;

/** What TestRepo needs from a server: `app.inject()` or an HTTP client with the same shape. */
export interface Injector {
  inject(o: {
    method: 'GET' | 'POST' | 'DELETE';
    url: string;
    headers?: Record<string, string>;
    payload?: Buffer;
  }): Promise<{
    statusCode: number;
    body: string;
    rawPayload: Buffer;
    headers: Record<string, unknown>;
  }>;
}

/** An Injector over real HTTPS (undici), for servers in child processes. */
export async function httpInjector(baseUrl: string, ca?: string): Promise<Injector & { close(): Promise<void> }> {
  const { Agent, request } = await import('undici');
  const agent = new Agent({ connect: ca ? { ca } : {}, keepAliveTimeout: 1000 });
  return {
    async inject(o) {
      const r = await request(baseUrl + o.url, {
        method: o.method,
        headers: o.headers ?? {},
        body: o.payload ?? null,
        dispatcher: agent,
      });
      const rawPayload = Buffer.from(await r.body.arrayBuffer());
      return {
        statusCode: r.statusCode,
        body: rawPayload.toString('utf8'),
        rawPayload,
        headers: r.headers as Record<string, unknown>,
      };
    },
    close: () => agent.close(),
  };
}

/** A repository as a notary client holds it. */
export class TestRepo {
  readonly gun: string;
  rootKeys: KeyPair[] = [];
  targetsKey = ecdsaKey();
  snapshotKey: KeyPair | undefined = ecdsaKey();
  timestampPub: PublicKey | undefined;
  serverSnapshotPub: PublicKey | undefined;
  root!: RootSigned;
  rootVersion = 0;
  targets: TargetsSigned = newTargets(new Date(Date.now() + 3 * YEAR), 0);
  delegations = new Map<string, { signed: TargetsSigned; keys: KeyPair[] }>();
  files = new Map<string, Buffer>();
  snapshotVersion = 0;
  /** roles changed since the last publish */
  dirty = new Set<string>();

  http: Injector;

  constructor(server: TestServer | Injector, gun: string) {
    this.gun = gun;
    this.http = 'signet' in server ? (server.signet.app as unknown as Injector) : server;
  }

  url(suffix: string): string {
    return `/v2/${this.gun}/_trust/tuf/${suffix}`;
  }

  async fetchKey(role: 'timestamp' | 'snapshot'): Promise<PublicKey> {
    const r = await this.http.inject({ method: 'GET', url: this.url(`${role}.key`) });
    if (r.statusCode !== 200) throw new Error(`GET ${role}.key: ${r.statusCode} ${r.body}`);
    return publicKeyFromJson(JSON.parse(r.body) as KeyJson);
  }

  /** notary init: root key + cert, targets key, timestamp key from the server; snapshot client-held unless serverSnapshot. */
  async init(opts: { serverSnapshot?: boolean; rootCn?: string } = {}): Promise<this> {
    this.rootKeys = [await rootKey(opts.rootCn ?? this.gun)];
    this.timestampPub = await this.fetchKey('timestamp');
    if (opts.serverSnapshot) {
      this.serverSnapshotPub = await this.fetchKey('snapshot');
      this.snapshotKey = undefined;
    }
    await this.signRoot();
    this.dirty.add('targets');
    return this;
  }

  rootBody(version: number): RootSigned {
    const sn = this.serverSnapshotPub ?? this.snapshotKey?.pub;
    if (!sn || !this.timestampPub) throw new Error('keys missing');
    const keys = [...this.rootKeys.map((k) => k.pub), this.targetsKey.pub, sn, this.timestampPub];
    return newRoot(
      keys,
      {
        root: { keyids: this.rootKeys.map((k) => k.pub.id), threshold: 1 },
        targets: { keyids: [this.targetsKey.pub.id], threshold: 1 },
        snapshot: { keyids: [sn.id], threshold: 1 },
        timestamp: { keyids: [this.timestampPub.id], threshold: 1 },
      },
      new Date(Date.now() + 10 * YEAR),
      version,
    );
  }

  /** Signs the next root version with the current root keys (+ extra signers, e.g. the old root key). */
  async signRoot(extra: Signer[] = []): Promise<void> {
    this.rootVersion++;
    this.root = this.rootBody(this.rootVersion);
    const md = await signMetadata('root', this.root, [...this.rootKeys.map((k) => k.signer), ...extra]);
    this.files.set('root', md.bytes);
    this.dirty.add('root');
  }

  addTarget(name: string, content: Buffer | string, role = 'targets'): void {
    const fm = fileMeta(Buffer.from(content), ['sha256', 'sha512']);
    if (role === 'targets') this.targets.targets[name] = fm;
    else (this.delegations.get(role) as { signed: TargetsSigned }).signed.targets[name] = fm;
    this.dirty.add(role);
  }

  addDelegation(role: string, keys: KeyPair[], paths: string[] = [''], parent = 'targets'): void {
    const p = parent === 'targets' ? this.targets : (this.delegations.get(parent) as { signed: TargetsSigned }).signed;
    p.delegations.keys ??= {};
    for (const k of keys) p.delegations.keys[k.pub.id] = keyOf(k.pub);
    p.delegations.roles = [
      ...(p.delegations.roles ?? []).filter((r) => r.name !== role),
      { keyids: keys.map((k) => k.pub.id), name: role, paths, threshold: 1 },
    ];
    this.delegations.set(role, { signed: newTargets(new Date(Date.now() + 3 * YEAR), 0), keys });
    this.dirty.add(parent);
    this.dirty.add(role);
  }

  async signDirty(overrideSigners?: Map<string, Signer[]>): Promise<void> {
    for (const role of this.dirty) {
      if (role === 'root') continue;
      let body: TargetsSigned;
      let signers: Signer[];
      if (role === 'targets') {
        body = this.targets;
        signers = [this.targetsKey.signer];
      } else {
        const d = this.delegations.get(role) as { signed: TargetsSigned; keys: KeyPair[] };
        body = d.signed;
        signers = d.keys.map((k) => k.signer);
      }
      body.version++;
      const md = await signMetadata(role, body as AnySigned, overrideSigners?.get(role) ?? signers);
      this.files.set(role, md.bytes);
    }
  }

  snapshotBody(): SnapshotSigned {
    const meta: SnapshotSigned['meta'] = {};
    for (const [role, bytes] of this.files)
      if (role !== 'snapshot' && role !== 'timestamp') meta[role] = fileMeta(bytes);
    this.snapshotVersion++;
    return {
      _type: 'Snapshot',
      expires: formatExpires(new Date(Date.now() + 3 * YEAR)),
      meta,
      version: this.snapshotVersion,
    };
  }

  /** The parts a notary client would send for the dirty roles. */
  async parts(): Promise<[string, Buffer][]> {
    await this.signDirty();
    const parts: [string, Buffer][] = [...this.dirty].map((r) => [r, this.files.get(r) as Buffer]);
    if (this.snapshotKey !== undefined) {
      const md = await signMetadata('snapshot', this.snapshotBody(), [this.snapshotKey.signer]);
      this.files.set('snapshot', md.bytes);
      parts.push(['snapshot', md.bytes]);
    }
    return parts;
  }

  async post(parts: [string, Buffer][]) {
    const { body, contentType } = multipart(parts);
    return this.http.inject({
      method: 'POST',
      url: this.url(''),
      headers: { 'content-type': contentType },
      payload: body,
    });
  }

  async publish(): ReturnType<Injector['inject']> {
    const r = await this.post(await this.parts());
    if (r.statusCode === 200) this.dirty.clear();
    return r;
  }

  async get(file: string) {
    return this.http.inject({ method: 'GET', url: this.url(file) });
  }
}

export function errorOf(body: string): { code: string; message: string; detail?: unknown } {
  return (JSON.parse(body) as { errors: { code: string; message: string; detail?: unknown }[] }).errors[0] as {
    code: string;
    message: string;
    detail?: unknown;
  };
}
