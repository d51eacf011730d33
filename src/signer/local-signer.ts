/**
 * The trust server's built-in signer: the keys of ServerKeyring (keyring.ts: generated in-process,
 * encrypted at rest, notary-signer's reuse of unused keys) behind the ServerSigner interface
 * (N:server/handlers/default.go, N:proto/signer.proto).
 */
import type crypto from 'node:crypto';
import type { AuditFields, ServerKeyStore } from '../storage/index.js';
import type { PublicKey, RootSigned, Signer } from '../tuf/index.js';
import { ServerKeyring } from './keyring.js';
import type { ServerKeyRole, ServerSigner } from './types.js';

export interface LocalSignerOptions {
  keys: ServerKeyStore;
  passphrase: string;
  now?: () => Date;
}

export class LocalServerSigner implements ServerSigner {
  readonly #ring: ServerKeyring;

  constructor(opts: LocalSignerOptions) {
    this.#ring = new ServerKeyring(opts);
  }

  toJSON(): string {
    return '[LocalServerSigner]';
  }

  /** See ServerKeyring.importKey (`signet server import`). */
  importKey(key: {
    gun: string;
    role: ServerKeyRole;
    privateKey: crypto.KeyObject;
    createdAt: Date;
    lastUsed: Date | null;
  }): Promise<{ id: string; imported: boolean }> {
    return this.#ring.importKey(key);
  }

  async getOrCreateKey(gun: string, role: ServerKeyRole, root?: RootSigned, audit?: AuditFields): Promise<PublicKey> {
    if (root !== undefined) {
      for (const id of root.roles[role]?.keyids ?? []) {
        const held = await this.#ring.get(id);
        if (held !== null && held.row.gun === gun && held.row.role === role) return held.publicKey;
      }
    }
    return (await this.#ring.unusedOrNew(gun, role, audit)).key;
  }

  rotateKey(gun: string, role: ServerKeyRole, audit?: AuditFields): Promise<PublicKey> {
    return this.#ring.create(gun, role, audit);
  }

  async signerFor(gun: string, role: ServerKeyRole, root: RootSigned): Promise<Signer | null> {
    for (const id of root.roles[role]?.keyids ?? []) {
      const held = await this.#ring.get(id);
      if (held === null || held.row.gun !== gun || held.row.role !== role) continue;
      return this.#ring.signer(held);
    }
    return null;
  }

  /**
   * Start-up check: the passphrase decrypts a stored key. A server started with another passphrase
   * would otherwise run healthy and fail every publish that needs a stored key.
   */
  checkPassphrase(): Promise<void> {
    return this.#ring.checkPassphrase();
  }

  markUsed(keyIds: string[], at: Date): Promise<void> {
    return this.#ring.markUsed(keyIds, at);
  }
}
