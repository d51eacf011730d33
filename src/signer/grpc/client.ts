/**
 * `RemoteServerSigner`: the server's timestamp and snapshot keys live in a remote signer that speaks
 * notary-signer's gRPC API (proto.ts) over mutual TLS, and this process holds no private key. It
 * uses the signer as notary-server does (N:signer/client/signer_trust.go, N:server/timestamp/timestamp.go,
 * N:server/snapshot/snapshot.go):
 * - a key request with a current root returns the first key the root lists for the role that the
 *   signer has (`GetKeyInfo`), else `CreateKey` (algorithm "ecdsa", the GUN and role); a rotation is
 *   always `CreateKey` (the signer decides whether it hands out an unused key again);
 * - a signature is `Sign` with the key ID and the canonical bytes of `signed`; for ECDSA the signer
 *   hashes them with SHA-256 and answers r‖s (N:tuf/data/keys.go ECDSAPrivateKey.Sign), which is
 *   checked here against the public key before it is used;
 * - public keys come as PKIX DER for "ecdsa" (N:signer/api/rpc_api.go returns `Public()`), and must hash
 *   to the key ID the signer gave.
 * Every call has a deadline; failures to reach the signer are SIGNER_UNAVAILABLE (calls.ts). The
 * signer marks a key used when it signs, so `markUsed` has nothing to do. A key made here is
 * recorded in the audit trail (`audit`) once the signer returned it.
 */
import type * as grpc from '@grpc/grpc-js';
import { SignetError } from '../../errors.js';
import type { AuditFields, AuditStore } from '../../storage/index.js';
import { publicKeyFromSpki, verifySignature, type PublicKey, type RootSigned, type Signer } from '../../tuf/index.js';
import type { ServerKeyRole, ServerSigner } from '../types.js';
import { NOT_FOUND, callFailure, signerFix, unary, type CallError } from './calls.js';
import {
  HEALTH_SERVICES,
  signerServices,
  type GetKeyInfoResponseMsg,
  type PublicKeyMsg,
  type SignatureMsg,
} from './proto.js';

const ALGORITHM = 'ecdsa';
/** Per-call deadline unless given (notary-server waits 10 s for the signer's health, N:cmd/notary-server/config.go). */
export const DEFAULT_REMOTE_SIGNER_TIMEOUT_MS = 10_000;
/** How long "the signer does not hold this key" is believed before asking again (client-held keys are asked on every publish). */
const ABSENT_TTL_MS = 5_000;
/** Keys remembered at most (then forgotten all at once and asked again). */
const MAX_HELD = 100_000;

export interface RemoteSignerOptions {
  /** HOST:PORT of notary-signer's gRPC listener */
  address: string;
  /** PEM: the CA(s) that issued the signer's certificate */
  ca: Buffer;
  /** PEM client certificate (chain) and its key: notary-signer requires a client certificate */
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
  /** name to check the signer's certificate against, when it is not the host of `address` */
  serverName?: string | undefined;
  /** deadline of each call, ms */
  timeoutMs?: number | undefined;
  /** where key creations and rotations are recorded (the server's store) */
  audit?: AuditStore | undefined;
}

interface HeldKey {
  publicKey: PublicKey;
  role: string;
}

interface Clients {
  channel: grpc.Channel;
  keys: grpc.Client;
  signer: grpc.Client;
  health: grpc.Client;
  /** fresh call metadata (grpc-js may add to what it is given) */
  metadata: () => grpc.Metadata;
}

export class RemoteServerSigner implements ServerSigner {
  readonly name: string;
  readonly #address: string;
  readonly #timeoutMs: number;
  readonly #audit: AuditStore | undefined;
  readonly #clients: Clients;
  /** key id → what the signer said of it (keys never change) */
  readonly #held = new Map<string, HeldKey>();
  readonly #absent = new Map<string, number>();

  private constructor(opts: RemoteSignerOptions, clients: Clients) {
    this.#address = opts.address;
    this.name = `remote ${opts.address}`;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_REMOTE_SIGNER_TIMEOUT_MS;
    this.#audit = opts.audit;
    this.#clients = clients;
  }

  /** Loads grpc-js (only now) and opens one channel for the three services; connects on first use. */
  static async connect(opts: RemoteSignerOptions): Promise<RemoteServerSigner> {
    if ((opts.cert === undefined) !== (opts.key === undefined)) {
      throw new SignetError('USAGE', 'the remote signer client certificate and key must be given together', {
        fix: 'give both --remote-signer-cert and --remote-signer-key',
      });
    }
    const [grpcJs, services] = await Promise.all([import('@grpc/grpc-js'), signerServices()]);
    let creds: grpc.ChannelCredentials;
    try {
      creds = grpcJs.credentials.createSsl(opts.ca, opts.key ?? null, opts.cert ?? null);
    } catch (cause) {
      throw new SignetError('USAGE', `the remote signer TLS material cannot be used: ${(cause as Error).message}`, {
        cause,
        fix: 'give PEM files: --remote-signer-ca (CA certificates), --remote-signer-cert and --remote-signer-key (the client certificate and its private key)',
      });
    }
    const channelOptions: grpc.ChannelOptions = {
      // come back quickly once the signer is up again (the default backoff grows to 120 s)
      'grpc.initial_reconnect_backoff_ms': 500,
      'grpc.max_reconnect_backoff_ms': 5_000,
      ...(opts.serverName !== undefined
        ? { 'grpc.ssl_target_name_override': opts.serverName, 'grpc.default_authority': opts.serverName }
        : {}),
    };
    const channel = new grpcJs.Channel(opts.address, creds, channelOptions);
    const over = { channelOverride: channel };
    return new RemoteServerSigner(opts, {
      channel,
      keys: new services.KeyManagement(opts.address, creds, over),
      signer: new services.Signer(opts.address, creds, over),
      health: new services.Health(opts.address, creds, over),
      metadata: () => new grpcJs.Metadata(),
    });
  }

  toJSON(): string {
    return `[RemoteServerSigner ${this.#address}]`;
  }

  async #call<Res>(client: grpc.Client, method: string, req: object): Promise<Res> {
    try {
      return await unary<Res>(client, this.#clients.metadata(), method, req, this.#timeoutMs);
    } catch (err) {
      throw callFailure(this.#address, method, err as CallError);
    }
  }

  /** The signer's public key message as a TUF key whose ID must be `expectId` (when given). */
  #publicKey(msg: PublicKeyMsg, expectId: string | undefined, method: string): PublicKey {
    const algorithm = msg.keyInfo?.algorithm?.algorithm;
    const id = msg.keyInfo?.keyID?.ID;
    if (algorithm !== ALGORITHM) {
      throw new SignetError(
        'SIGNER',
        `the remote signer at ${this.#address} answered ${method} with a ${algorithm || 'untyped'} key; the server signs with ecdsa keys only`,
        { fix: 'rotate the key to a new one made by this server: notary key rotate GUN timestamp -r (or snapshot -r)' },
      );
    }
    let pk: PublicKey;
    try {
      pk = publicKeyFromSpki(Buffer.from(msg.publicKey), 'ecdsa');
    } catch (cause) {
      throw new SignetError(
        'SIGNER',
        `the remote signer at ${this.#address} answered ${method} with an unreadable public key`,
        {
          cause,
          fix: signerFix(this.#address),
        },
      );
    }
    if (pk.id !== id || (expectId !== undefined && pk.id !== expectId)) {
      throw new SignetError(
        'SIGNER',
        `the remote signer at ${this.#address} answered ${method} with a public key whose ID is ${pk.id}, not ${expectId ?? id ?? '(none)'}`,
        { fix: signerFix(this.#address) },
      );
    }
    return pk;
  }

  #remember(id: string, key: HeldKey): void {
    if (this.#held.size >= MAX_HELD) this.#held.clear();
    this.#held.set(id, key);
  }

  /** What the signer holds under `id`, or null (NOT_FOUND; remembered briefly). */
  async #keyInfo(id: string): Promise<HeldKey | null> {
    const held = this.#held.get(id);
    if (held !== undefined) return held;
    const until = this.#absent.get(id);
    if (until !== undefined && until > Date.now()) return null;
    let res: GetKeyInfoResponseMsg;
    try {
      res = await unary<GetKeyInfoResponseMsg>(
        this.#clients.keys,
        this.#clients.metadata(),
        'GetKeyInfo',
        { ID: id },
        this.#timeoutMs,
      );
    } catch (err) {
      if ((err as CallError).code === NOT_FOUND) {
        if (this.#absent.size > 10_000) this.#absent.clear();
        this.#absent.set(id, Date.now() + ABSENT_TTL_MS);
        return null;
      }
      throw callFailure(this.#address, 'GetKeyInfo', err as CallError);
    }
    // a key of another algorithm cannot be one of ours: not held, as notary-server would fail to use it
    if (res.keyInfo?.algorithm?.algorithm !== ALGORITHM) return null;
    const key = { publicKey: this.#publicKey(res, id, 'GetKeyInfo'), role: res.role };
    this.#remember(id, key);
    this.#absent.delete(id);
    return key;
  }

  /** The first key `root` lists for `role` that the signer holds for that role. */
  async #listed(role: ServerKeyRole, root: RootSigned): Promise<HeldKey | null> {
    for (const id of root.roles[role]?.keyids ?? []) {
      const held = await this.#keyInfo(id);
      // notary-signer keeps each key's role (N:signer/keydbstore/sql_keydbstore.go); an empty role is not checked
      if (held !== null && (held.role === '' || held.role === role)) return held;
    }
    return null;
  }

  async #create(gun: string, role: ServerKeyRole, audit: AuditFields | undefined): Promise<PublicKey> {
    const res = await this.#call<PublicKeyMsg>(this.#clients.keys, 'CreateKey', { algorithm: ALGORITHM, gun, role });
    const pk = this.#publicKey(res, undefined, 'CreateKey');
    this.#remember(pk.id, { publicKey: pk, role });
    this.#absent.delete(pk.id);
    // recorded before the key is handed out: a key the trail does not name is never used
    if (audit !== undefined && this.#audit !== undefined) {
      await this.#audit.append([{ ...audit, gun, role, keyId: pk.id, algorithm: ALGORITHM, signer: this.name }]);
    }
    return pk;
  }

  async getOrCreateKey(gun: string, role: ServerKeyRole, root?: RootSigned, audit?: AuditFields): Promise<PublicKey> {
    if (root !== undefined) {
      const held = await this.#listed(role, root);
      if (held !== null) return held.publicKey;
    }
    return this.#create(gun, role, audit);
  }

  rotateKey(gun: string, role: ServerKeyRole, audit?: AuditFields): Promise<PublicKey> {
    return this.#create(gun, role, audit);
  }

  async signerFor(_gun: string, role: ServerKeyRole, root: RootSigned): Promise<Signer | null> {
    const held = await this.#listed(role, root);
    if (held === null) return null;
    const publicKey = held.publicKey;
    return {
      publicKey,
      sign: async (data: Buffer) => {
        const res = await this.#call<SignatureMsg>(this.#clients.signer, 'Sign', {
          keyID: { ID: publicKey.id },
          content: data,
        });
        const sig = Buffer.from(res.content);
        // a signer that signs with another key or garbles the bytes must not get metadata published
        if (!verifySignature(publicKey, 'ecdsa', data, sig)) {
          throw new SignetError(
            'SIGNER',
            `the remote signer at ${this.#address} returned a signature that does not verify with key ${publicKey.id}`,
            { fix: signerFix(this.#address) },
          );
        }
        return { method: 'ecdsa', sig };
      },
    };
  }

  async holds(_gun: string, role: ServerKeyRole, root: RootSigned): Promise<boolean> {
    return (await this.#listed(role, root)) !== null;
  }

  async markUsed(): Promise<void> {
    // notary-signer marks a key active when it signs (N:signer/keydbstore/keydbstore.go activatingPrivateKey)
  }

  /** Both services report SERVING (the health check notary-server makes, N:signer/client/signer_trust.go). */
  async checkHealth(): Promise<void> {
    // both at once: a signer that does not answer costs one deadline, not two
    const answers = await Promise.all(
      HEALTH_SERVICES.map(async (service) => ({
        service,
        status: (await this.#call<{ status: string }>(this.#clients.health, 'Check', { service })).status,
      })),
    );
    const down = answers.find((a) => a.status !== 'SERVING');
    if (down !== undefined) {
      throw new SignetError(
        'SIGNER_UNAVAILABLE',
        `the remote signer at ${this.#address} reports ${down.service.split('.').pop() ?? down.service} ${down.status}`,
        { fix: signerFix(this.#address) },
      );
    }
  }

  async close(): Promise<void> {
    this.#clients.keys.close();
    this.#clients.signer.close();
    this.#clients.health.close();
    this.#clients.channel.close();
  }
}
