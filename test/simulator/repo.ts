/**
 * An in-memory notary repository that signs REAL metadata (fresh ECDSA keys, real x509 root
 * certificates) the way a notary server + client pair would produce it. Tests drive it step by step
 * and then break exactly one thing (see swizzles in server.ts / the attack tests).
 */
import crypto from 'node:crypto';
import { generatePrivateKey, type PrivateKey } from '../../src/keys/index.js';
import {
  certificatePublicKey,
  createRootCertificate,
  fileMeta,
  keyJson,
  localSigner,
  newRoot,
  newSnapshot,
  newTargets,
  newTimestamp,
  signMetadata,
  type AnySigned,
  type FileMeta,
  type KeyJson,
  type Metadata,
  type PublicKey,
  type Signer,
} from '../../src/tuf/index.js';

export interface SimKey {
  priv: PrivateKey;
  /** as listed in metadata: ecdsa-x509 for root keys, ecdsa otherwise */
  pub: PublicKey;
  signer: Signer;
}

const DAY = 24 * 3600 * 1000;

export function plainKey(): SimKey {
  const priv = generatePrivateKey('ecdsa');
  return { priv, pub: priv.publicKey, signer: localSigner(priv.keyObject, priv.publicKey) };
}

export async function rootKey(certGun: string, certNow: Date, years = 10): Promise<SimKey> {
  const priv = generatePrivateKey('ecdsa');
  const pem = await createRootCertificate(certGun, priv.keyObject, certNow, years);
  const pub = certificatePublicKey(pem);
  return { priv, pub, signer: localSigner(priv.keyObject, pub) };
}

export interface SimDelegation {
  keys: SimKey[];
  threshold: number;
  paths: string[];
  targets: Record<string, FileMeta>;
}

export function sha256Hex(b: Buffer): string {
  return crypto.createHash('sha256').update(b).digest('hex');
}

/** FileMeta of a Docker target: sha256 of the manifest digest, length = manifest size. */
export function dockerTarget(digestHex: string, size: number): FileMeta {
  return { hashes: { sha256: Buffer.from(digestHex, 'hex').toString('base64') }, length: size };
}

export class SimRepo {
  readonly gun: string;
  /** signing clock: metadata `expires` defaults are relative to it */
  now: Date;
  rootKeys: SimKey[] = [];
  /** certificates kept in root.keys after a rotation (notary keeps old root certs) */
  retiredRootKeys: SimKey[] = [];
  rootThreshold = 1;
  keys: Record<'targets' | 'snapshot' | 'timestamp', SimKey[]>;
  thresholds: Record<'targets' | 'snapshot' | 'timestamp', number> = { targets: 1, snapshot: 1, timestamp: 1 };
  /** who actually signs each role (default: all the role's keys) */
  signers: Partial<Record<string, SimKey[]>> = {};
  targets: Record<string, FileMeta> = {};
  delegations = new Map<string, SimDelegation>();
  /** explicit expiry per role (default: root 10y, targets/snapshot 3y, timestamp 14d from `now`) */
  expires: Partial<Record<string, Date>> = {};
  versions: Record<string, number> = {};

  // what the server serves
  readonly current = new Map<string, Buffer>();
  readonly byChecksum = new Map<string, Buffer>(); // `${role}.${hex}`
  readonly rootByVersion = new Map<number, Buffer>();
  readonly history = new Map<string, Buffer[]>(); // every version ever signed, per role

  private constructor(gun: string, now: Date) {
    this.gun = gun;
    this.now = now;
    this.keys = { targets: [plainKey()], snapshot: [plainKey()], timestamp: [plainKey()] };
  }

  /** A repository with root v1, targets v1, snapshot v1, timestamp v1. */
  static async create(
    gun: string,
    opts: {
      now?: Date;
      certGun?: string;
      certNow?: Date;
      certYears?: number;
      targetsKeys?: number;
      targetsThreshold?: number;
    } = {},
  ): Promise<SimRepo> {
    const now = opts.now ?? new Date();
    const repo = new SimRepo(gun, now);
    repo.rootKeys = [await rootKey(opts.certGun ?? gun, opts.certNow ?? now, opts.certYears ?? 10)];
    if (opts.targetsKeys !== undefined) repo.keys.targets = Array.from({ length: opts.targetsKeys }, () => plainKey());
    if (opts.targetsThreshold !== undefined) repo.thresholds.targets = opts.targetsThreshold;
    await repo.signRoot();
    await repo.publish();
    return repo;
  }

  private expiry(role: string): Date {
    const explicit = this.expires[role];
    if (explicit !== undefined) return explicit;
    const days = role === 'root' ? 3650 : role === 'timestamp' ? 14 : 3 * 365;
    return new Date(this.now.getTime() + days * DAY);
  }

  private nextVersion(role: string): number {
    const v = (this.versions[role] ?? 0) + 1;
    this.versions[role] = v;
    return v;
  }

  /** Store signed bytes as the server would: current, by checksum, by version (root). */
  put(role: string, bytes: Buffer, version?: number): void {
    this.current.set(role, bytes);
    this.byChecksum.set(`${role}.${sha256Hex(bytes)}`, bytes);
    if (role === 'root' && version !== undefined) this.rootByVersion.set(version, bytes);
    const h = this.history.get(role) ?? [];
    h.push(bytes);
    this.history.set(role, h);
  }

  /** Serve `bytes` as `role` without storing them as a new signed version (tampering). */
  serve(role: string, bytes: Buffer): void {
    this.current.set(role, bytes);
    this.byChecksum.set(`${role}.${sha256Hex(bytes)}`, bytes);
  }

  private async sign<T extends AnySigned>(role: string, signed: T, signers: SimKey[]): Promise<Metadata<T>> {
    return signMetadata(
      role,
      signed,
      signers.map((k) => k.signer),
    );
  }

  async signRoot(opts: { extraSigners?: SimKey[]; onlySigners?: SimKey[] } = {}): Promise<Metadata> {
    const version = this.nextVersion('root');
    const all = [
      ...this.retiredRootKeys,
      ...this.rootKeys,
      ...this.keys.targets,
      ...this.keys.snapshot,
      ...this.keys.timestamp,
    ];
    const role = (ks: SimKey[], threshold: number) => ({ keyids: ks.map((k) => k.pub.id), threshold });
    const signed = newRoot(
      all.map((k) => k.pub),
      {
        root: role(this.rootKeys, this.rootThreshold),
        targets: role(this.keys.targets, this.thresholds.targets),
        snapshot: role(this.keys.snapshot, this.thresholds.snapshot),
        timestamp: role(this.keys.timestamp, this.thresholds.timestamp),
      },
      this.expiry('root'),
      version,
    );
    const md = await this.sign('root', signed, opts.onlySigners ?? [...this.rootKeys, ...(opts.extraSigners ?? [])]);
    this.put('root', md.bytes, version);
    return md;
  }

  async signTargetsRole(role: string): Promise<Metadata> {
    const version = this.nextVersion(role);
    const body = newTargets(this.expiry(role), version);
    const deleg = role === 'targets' ? undefined : this.delegations.get(role);
    body.targets = { ...(role === 'targets' ? this.targets : (deleg?.targets ?? {})) };
    const children = [...this.delegations.entries()].filter(([name]) => name.slice(0, name.lastIndexOf('/')) === role);
    if (children.length > 0) {
      const keys: Record<string, KeyJson> = {};
      for (const [, d] of children) for (const k of d.keys) keys[k.pub.id] = keyJson(k.pub.keytype, k.pub.public);
      body.delegations = {
        keys,
        roles: children.map(([name, d]) => ({
          keyids: d.keys.map((k) => k.pub.id),
          name,
          paths: d.paths,
          threshold: d.threshold,
        })),
      };
    }
    const keys = role === 'targets' ? this.keys.targets : (deleg?.keys ?? []);
    const md = await this.sign(role, body, this.signers[role] ?? keys);
    this.put(role, md.bytes);
    return md;
  }

  async signSnapshot(): Promise<Metadata> {
    const version = this.nextVersion('snapshot');
    const meta: Record<string, FileMeta> = {};
    for (const role of ['root', 'targets', ...this.delegations.keys()]) {
      const b = this.current.get(role);
      if (b !== undefined) meta[role] = fileMeta(b);
    }
    const md = await this.sign(
      'snapshot',
      newSnapshot(meta, this.expiry('snapshot'), version),
      this.signers.snapshot ?? this.keys.snapshot,
    );
    this.put('snapshot', md.bytes);
    return md;
  }

  async signTimestamp(): Promise<Metadata> {
    const version = this.nextVersion('timestamp');
    const snap = this.current.get('snapshot') as Buffer;
    const md = await this.sign(
      'timestamp',
      newTimestamp(fileMeta(snap), this.expiry('timestamp'), version),
      this.signers.timestamp ?? this.keys.timestamp,
    );
    this.put('timestamp', md.bytes);
    return md;
  }

  /** What a server does after a client publish: re-sign the given targets roles, then snapshot + timestamp. */
  async publish(roles: string[] = ['targets', ...this.delegations.keys()]): Promise<void> {
    // children before parents does not matter for notary (snapshot lists all); sign parents first
    for (const r of [...roles].sort((a, b) => a.split('/').length - b.split('/').length)) await this.signTargetsRole(r);
    await this.signSnapshot();
    await this.signTimestamp();
  }

  /** Only the server-held keys re-sign (snapshot + timestamp), e.g. after tampering with a role. */
  async resignServerRoles(): Promise<void> {
    await this.signSnapshot();
    await this.signTimestamp();
  }

  setTarget(tag: string, digestHex: string, size: number, role = 'targets'): void {
    const meta = dockerTarget(digestHex, size);
    if (role === 'targets') this.targets[tag] = meta;
    else {
      const d = this.delegations.get(role);
      if (d === undefined) throw new Error(`no delegation ${role}`);
      d.targets[tag] = meta;
    }
  }

  addDelegation(role: string, opts: { paths?: string[]; keys?: SimKey[]; threshold?: number } = {}): SimDelegation {
    const d: SimDelegation = {
      keys: opts.keys ?? [plainKey()],
      threshold: opts.threshold ?? 1,
      paths: opts.paths ?? [''],
      targets: {},
    };
    this.delegations.set(role, d);
    return d;
  }

  /**
   * Rotate the root key (notary RotateKey root): the new root lists the new certificate, keeps the old
   * one in keys, and is signed by the new key plus (legitimately) the old root keys.
   */
  async rotateRoot(opts: { signWithOld?: boolean; certGun?: string } = {}): Promise<SimKey> {
    const old = this.rootKeys;
    const fresh = await rootKey(opts.certGun ?? this.gun, this.now);
    this.retiredRootKeys.push(...old);
    this.rootKeys = [fresh];
    await this.signRoot({ extraSigners: opts.signWithOld === false ? [] : old });
    await this.resignServerRoles();
    return fresh;
  }
}
