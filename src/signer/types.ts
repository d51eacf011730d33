/**
 * The server's signing service for the keys it holds (timestamp, and snapshot when the client
 * delegated it; N:cryptoservice/crypto_service.go). Small on purpose: the built-in LocalServerSigner and
 * the RemoteServerSigner (notary-signer's gRPC API, grpc/client.ts) implement it.
 */
import type { AuditFields } from '../storage/index.js';
import type { PublicKey, RootSigned, Signer } from '../tuf/index.js';

export type ServerKeyRole = 'timestamp' | 'snapshot';

export interface ServerSigner {
  /**
   * `GET …/{role}.key` (N:server/handlers/default.go): with a root, the first key its `role` lists that this signer holds;
   * otherwise (or if none is held) an unused key of gun+role (created-but-never-signed keys are
   * handed out again, like notary-signer), else a new one.
   * A key created here is stored with the audit entry `audit` (when given) in one transaction,
   * with `role`, `keyId` and `algorithm` added (never key material).
   */
  getOrCreateKey(gun: string, role: ServerKeyRole, root?: RootSigned, audit?: AuditFields): Promise<PublicKey>;
  /** `POST …/{role}.key`: always a new pending key, audited as above; the client must publish a root listing it. */
  rotateKey(gun: string, role: ServerKeyRole, audit?: AuditFields): Promise<PublicKey>;
  /** A Signer for a key listed in `root.roles[role]` that this signer holds, or null. */
  signerFor(gun: string, role: ServerKeyRole, root: RootSigned): Promise<Signer | null>;
  /** Marks keys as used (after the metadata they signed was committed). Unknown ids are ignored. */
  markUsed(keyIds: string[], at: Date): Promise<void>;
  /**
   * Whether this signer holds a key `root` lists for `role`, without preparing a Signer (the expiry
   * watch asks it of every root). Omitted = the server's key table answers (the built-in signer).
   */
  holds?(gun: string, role: ServerKeyRole, root: RootSigned): Promise<boolean>;
  /** How the audit trail and logs name this signer (`remote HOST:PORT`); omitted = the built-in one (`local`). */
  readonly name?: string;
  /** Throws (SIGNER_UNAVAILABLE) when the signer cannot sign now; for `/_notary_server/health`. Omitted = always able. */
  checkHealth?(): Promise<void>;
  /** Releases connections (server shutdown). */
  close?(): Promise<void>;
}
