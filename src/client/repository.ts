/**
 * One trusted collection (GUN) over a trust dir shared with notary and Docker: initialise, stage
 * changes, publish (N:client/client.go).
 */
import { mkdir, readFile, rm, rmdir } from 'node:fs/promises';
import { SignetError, isSignetError } from '../errors.js';
import { generatePrivateKey, type PrivateKey, type TrustDirKeyStore } from '../keys/index.js';
import type { NotaryRemote } from '../remote/index.js';
import {
  certificatePublicKey,
  createRootCertificate,
  defaultExpires,
  formatExpires,
  localSigner,
  newRoot,
  newSnapshot,
  newTargets,
  fileMeta,
  parseRoot,
  parseSnapshot,
  parseTargets,
  signMetadata,
  type FileMeta,
  type Metadata,
  type PublicKey,
  type RootSigned,
  type Signer,
  type SnapshotSigned,
  type TargetsSigned,
} from '../tuf/index.js';
import type { Change } from './change.js';
import { Changelist } from './changelist.js';
import { writeFileAtomic } from '../fs/index.js';
import { changelistDir, gunDir, metadataDir, roleCachePath } from './paths.js';
import type { RepoView } from './view.js';
import { signDirty } from './sign-dirty.js';
import { uploadParts } from './upload.js';
import { WorkingRepo, type KeySource } from './working.js';

/** Verified reads of the repository (the updater's `Updater` for this GUN). */
export interface TrustedReader {
  refresh(opts: { forWrite?: boolean }): Promise<{
    root: Metadata<RootSigned>;
    targets: Metadata<TargetsSigned>;
    snapshot?: Metadata<SnapshotSigned> | undefined;
    delegations: Map<string, Metadata<TargetsSigned>>;
  }>;
}

/** Where root pins live (the updater's PinStore satisfies it). */
export interface RootPins {
  setCerts(gun: string, certKeyIds: string[]): Promise<void>;
  remove(gun: string): Promise<boolean>;
}

export interface RepositoryOptions {
  gun: string;
  trustDir: string;
  remote: NotaryRemote;
  keyStore: TrustDirKeyStore;
  /** verified reads; its cache is the trust dir's tuf/<gun>/metadata */
  reader: TrustedReader;
  pins: RootPins;
  now?: () => Date;
}

export interface TrustedView extends RepoView {
  snapshot: Metadata<SnapshotSigned> | undefined;
}

export interface InitResult {
  rootKeyId: string;
  rootCertKeyId: string;
  targetsKeyId: string;
  snapshotKeyId: string | undefined;
  serverManagedSnapshot: boolean;
}

/** What a client publish uploaded (the server's own result is src/server PublishResult). */
export interface PublishReport {
  /** roles uploaded, in upload order */
  roles: string[];
  initial: boolean;
  changes: number;
}

export class Repository {
  readonly gun: string;
  readonly trustDir: string;
  readonly remote: NotaryRemote;
  readonly keyStore: TrustDirKeyStore;
  readonly changelist: Changelist;
  private readonly pins: RootPins;
  private readonly reader: TrustedReader;
  private readonly now: () => Date;

  constructor(opts: RepositoryOptions) {
    gunDir(opts.trustDir, opts.gun); // validates the GUN
    this.gun = opts.gun;
    this.trustDir = opts.trustDir;
    this.remote = opts.remote;
    this.keyStore = opts.keyStore;
    this.pins = opts.pins;
    this.reader = opts.reader;
    this.now = opts.now ?? (() => new Date());
    this.changelist = new Changelist(opts.trustDir, opts.gun);
  }

  // ---- keys ---------------------------------------------------------------------------------

  /** The trust dir's private keys as a signing source (decrypted on first use). */
  keySource(): KeySource {
    const store = this.keyStore;
    let ids: Set<string> | undefined;
    const held = async (): Promise<Set<string>> => {
      ids ??= new Set((await store.list()).map((k) => k.id));
      return ids;
    };
    return {
      has: async (canonicalId) => (await held()).has(canonicalId),
      signer: async (pk: PublicKey): Promise<Signer | undefined> => {
        if (!(await held()).has(pk.canonicalId)) return undefined;
        return store.signer(pk.canonicalId, pk);
      },
    };
  }

  /** Canonical IDs of all local private keys. */
  async localKeyIds(): Promise<Set<string>> {
    return new Set((await this.keyStore.list()).map((k) => k.id));
  }

  // ---- reading ------------------------------------------------------------------------------

  /** Verified current metadata from the server (REPOSITORY_NOT_FOUND when it has none). */
  async read(opts: { forWrite?: boolean } = {}): Promise<TrustedView> {
    const t = await this.reader.refresh({ forWrite: opts.forWrite === true });
    return { root: t.root, targets: t.targets, delegations: t.delegations, snapshot: t.snapshot };
  }

  /** Does the server hold trust data for this GUN? */
  async existsRemotely(): Promise<boolean> {
    try {
      await this.remote.getRole(this.gun, 'root', { maxBytes: 100 * 1024 * 1024 });
      return true;
    } catch (e) {
      if (isSignetError(e, 'NOT_FOUND') || isSignetError(e, 'REPOSITORY_NOT_FOUND')) return false;
      throw e;
    }
  }

  /** The unpublished local state written by `init` (root, targets, maybe snapshot), if any. */
  async localState(): Promise<TrustedView | undefined> {
    const read = async (role: string): Promise<Buffer | undefined> => {
      try {
        return await readFile(roleCachePath(this.trustDir, this.gun, role));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    };
    const rootBytes = await read('root');
    const targetsBytes = await read('targets');
    if (rootBytes === undefined || targetsBytes === undefined) return undefined;
    const snapBytes = await read('snapshot');
    return {
      root: parseRoot(rootBytes),
      targets: parseTargets('targets', targetsBytes),
      delegations: new Map(),
      snapshot: snapBytes ? parseSnapshot(snapBytes) : undefined,
    };
  }

  /** Read for writing; initialise (server-managed snapshot) when the server has no trust data yet. */
  async readOrInit(): Promise<{ view: TrustedView; created: boolean }> {
    try {
      return { view: await this.read({ forWrite: true }), created: false };
    } catch (e) {
      if (!isSignetError(e, 'REPOSITORY_NOT_FOUND')) throw e;
    }
    const local = await this.localState();
    if (local !== undefined) return { view: local, created: true };
    await this.init({ serverManagedSnapshot: true });
    const fresh = await this.localState();
    if (fresh === undefined) throw new SignetError('INTERNAL', 'init wrote no metadata');
    return { view: fresh, created: true };
  }

  // ---- init ---------------------------------------------------------------------------------

  /**
   * Create the repository locally (N:client/client.go Initialize): root key (reuse `rootKeyId`, or the
   * first local root key, or a new one), a self-signed certificate CN=GUN, a targets key, a local
   * snapshot key unless server-managed, and the server's timestamp key. Writes root v1, targets v1
   * (and snapshot v1) to the cache and pins the root. Nothing is uploaded: publish() does that.
   */
  async init(opts: { rootKeyId?: string; serverManagedSnapshot?: boolean } = {}): Promise<InitResult> {
    const serverManagedSnapshot = opts.serverManagedSnapshot !== false;
    const now = this.now();
    // ask the server first, so an unreachable server leaves no new key files behind
    const timestampPub = await this.remote.getServerKey(this.gun, 'timestamp');
    let snapshotKey: PrivateKey | undefined;
    let snapshotPub: PublicKey;
    if (serverManagedSnapshot) snapshotPub = await this.remote.getServerKey(this.gun, 'snapshot');
    else {
      snapshotKey = generatePrivateKey('ecdsa');
      snapshotPub = snapshotKey.publicKey;
    }
    const rootKey = await this.rootKey(opts.rootKeyId);
    const certPem = await createRootCertificate(
      this.gun,
      await this.keyStore.signer(rootKey.canonicalId, rootKey),
      now,
    );
    const rootPub = certificatePublicKey(certPem);
    const targetsKey = generatePrivateKey('ecdsa');
    await this.keyStore.add(targetsKey, { role: 'targets', gun: this.gun });
    if (snapshotKey) await this.keyStore.add(snapshotKey, { role: 'snapshot', gun: this.gun });

    const role = (k: PublicKey): { keyids: string[]; threshold: number } => ({ keyids: [k.id], threshold: 1 });
    const rootSigned = newRoot(
      [rootPub, targetsKey.publicKey, snapshotPub, timestampPub],
      {
        root: role(rootPub),
        targets: role(targetsKey.publicKey),
        snapshot: role(snapshotPub),
        timestamp: role(timestampPub),
      },
      formatExpires(defaultExpires('root', now)),
    );
    const root = await signMetadata('root', rootSigned, [await this.keyStore.signer(rootKey.canonicalId, rootPub)]);
    const targets = await signMetadata('targets', newTargets(formatExpires(defaultExpires('targets', now))), [
      localSigner(targetsKey.keyObject, targetsKey.publicKey),
    ]);

    await rm(metadataDir(this.trustDir, this.gun), { recursive: true, force: true });
    await mkdir(metadataDir(this.trustDir, this.gun), { recursive: true, mode: 0o700 });
    await writeFileAtomic(roleCachePath(this.trustDir, this.gun, 'root'), root.bytes, { createDir: true });
    await writeFileAtomic(roleCachePath(this.trustDir, this.gun, 'targets'), targets.bytes, { createDir: true });
    if (snapshotKey) {
      const snap = await signMetadata(
        'snapshot',
        newSnapshot(
          { root: fileMeta(root.bytes), targets: fileMeta(targets.bytes) },
          formatExpires(defaultExpires('snapshot', now)),
        ),
        [localSigner(snapshotKey.keyObject, snapshotKey.publicKey)],
      );
      await writeFileAtomic(roleCachePath(this.trustDir, this.gun, 'snapshot'), snap.bytes, { createDir: true });
    }
    // A repository we create is pinned from the start by its root certificate's key ID.
    await this.pins.setCerts(this.gun, [rootPub.id]);
    return {
      rootKeyId: rootKey.canonicalId,
      rootCertKeyId: rootPub.id,
      targetsKeyId: targetsKey.publicKey.canonicalId,
      snapshotKeyId: snapshotKey?.publicKey.canonicalId,
      serverManagedSnapshot,
    };
  }

  /**
   * The bare public key of the given root key (a key file or a token key), else of the first local
   * root key by ID (as Docker does), else of a new one.
   */
  private async rootKey(id?: string): Promise<PublicKey> {
    if (id !== undefined) return this.keyStore.publicKey(id);
    const roots = (await this.keyStore.list()).filter((k) => k.role === 'root').sort((a, b) => (a.id < b.id ? -1 : 1));
    if (roots[0] !== undefined) return this.keyStore.publicKey(roots[0].id);
    const key = generatePrivateKey('ecdsa');
    await this.keyStore.add(key, { role: 'root' });
    return key.publicKey;
  }

  /** Pin this GUN to the given root certificate key IDs. */
  async pinRoot(certKeyIds: string[]): Promise<void> {
    await this.pins.setCerts(this.gun, certKeyIds);
  }

  // ---- staging ------------------------------------------------------------------------------

  async stage(changes: Change[]): Promise<void> {
    await this.changelist.add(changes);
  }

  async pending(): Promise<Change[]> {
    return (await this.changelist.list()).map((c) => c.change);
  }

  /** Stage a target into each role (default `targets`), one change per role like notary's AddTarget. */
  async stageTarget(name: string, meta: FileMeta, roles: string[] = ['targets']): Promise<void> {
    await this.stage(roles.map((role) => ({ type: 'target', action: 'create', role, path: name, meta })));
  }

  async stageRemoveTarget(name: string, roles: string[] = ['targets']): Promise<void> {
    await this.stage(roles.map((role) => ({ type: 'target', action: 'delete', role, path: name })));
  }

  // ---- publish ------------------------------------------------------------------------------

  /**
   * Publish the staged changes (N:client/client.go): fetch for write, apply every change, re-sign each
   * dirty role at version+1, sign the snapshot if we hold its key, upload everything in one POST,
   * then clear the published changes. `extra` changes are applied after the staged ones without
   * being written to the changelist (sign, revoke, signer and key rotation publish at once and leave
   * the user's staged changes alone with `includeStaged: false`).
   */
  async publish(
    opts: {
      extra?: Change[];
      includeStaged?: boolean;
      /** the view readOrInit just returned, not read again; `handOver`: the caller does not use it after */
      from?: { view: TrustedView; created: boolean; handOver?: boolean };
    } = {},
  ): Promise<PublishReport> {
    const extra = opts.extra ?? [];
    const staged = opts.includeStaged === false ? [] : await this.changelist.list();
    let view: TrustedView;
    let initial = false;
    try {
      // a view just read for writing (readOrInit) is not read again
      if (opts.from !== undefined) {
        view = opts.from.view;
        initial = opts.from.created;
      } else view = await this.read({ forWrite: true });
    } catch (e) {
      if (!isSignetError(e, 'REPOSITORY_NOT_FOUND')) throw e;
      const local = await this.localState();
      if (local === undefined) {
        throw new SignetError(
          'NOT_INITIALIZED',
          `${this.gun} has no trust data on the server and was not initialised here`,
          {
            fix: `run \`signet init ${this.gun}\` first`,
          },
        );
      }
      view = local;
      initial = true;
    }
    // nothing staged on a published repository: do not upload a new snapshot for nothing
    if (!initial && staged.length === 0 && extra.length === 0) return { roles: [], initial, changes: 0 };
    // a view read here is this publish's own: its target maps are edited in place
    const handOver = opts.from === undefined || opts.from.handOver === true;
    const work = new WorkingRepo({ gun: this.gun, ...view, handOver }, this.keySource());
    for (const { change } of staged) await work.apply(change);
    for (const c of extra) await work.apply(c);

    const parts = await signDirty(work, {
      now: this.now(),
      initial,
      serverVersion: (role) => this.serverVersion(role),
    });
    await uploadParts(this, parts);
    await this.changelist.clear(staged.map((s) => s.file));
    return { roles: parts.map((p) => p.role), initial, changes: staged.length + extra.length };
  }

  /** The version of `role` the server serves now, unverified (0 when none): a floor for a re-created delegation. */
  async serverVersion(role: string): Promise<number> {
    try {
      const bytes = await this.remote.getRole(this.gun, role, { maxBytes: 100 * 1024 * 1024 });
      return parseTargets(role, bytes).signed.version;
    } catch {
      return 0;
    }
  }

  // ---- delete -------------------------------------------------------------------------------

  /**
   * Forget the local metadata cache and staged changes (keys are kept); `remote` also deletes on
   * the server and drops the pin. Only this GUN's `metadata/` and `changelist/` folders go (notary
   * removes the whole GUN folder, and with it every GUN nested below, `r/app/team/tool` of `r/app`);
   * the GUN folder itself only when nothing else is left in it.
   */
  async delete(opts: { remote?: boolean } = {}): Promise<void> {
    if (opts.remote) await this.remote.deleteRepository(this.gun);
    await rm(metadataDir(this.trustDir, this.gun), { recursive: true, force: true });
    await rm(changelistDir(this.trustDir, this.gun), { recursive: true, force: true });
    await rmdir(gunDir(this.trustDir, this.gun)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST' && err.code !== 'ENOENT') throw err;
    });
    // the server's trust data is gone: a new repository under this name will have a new root
    if (opts.remote) await this.pins.remove(this.gun);
  }
}
