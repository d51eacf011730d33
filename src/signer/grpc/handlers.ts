/**
 * notary-signer's RPCs over Signet's key store (N:signer/api/rpc_api.go): CreateKey, DeleteKey,
 * GetKeyInfo, Sign, and the health check notary-server polls (N:signer/client/signer_trust.go
 * CheckHealth). Every CreateKey, DeleteKey and Sign is recorded in the audit trail with the client
 * certificate's subject — key IDs, GUN and role, never key material.
 */
import crypto from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { SignetError } from '../../errors.js';
import type { AuditFields, AuditStore } from '../../storage/index.js';
import { MAX_GUN_LENGTH } from '../../tuf/index.js';
import { SERVER_KEY_ALGORITHM, type ServerKeyring } from '../keyring.js';
import type { ServerKeyRole } from '../types.js';
import {
  HEALTH_SERVICES,
  type CreateKeyRequestMsg,
  type GetKeyInfoResponseMsg,
  type HealthStatus,
  type KeyIdMsg,
  type PublicKeyMsg,
  type SignatureMsg,
  type SignatureRequestMsg,
} from './proto.js';

/** Where the service reports; a pino logger fits. Never given key material. */
export interface ServiceLogger {
  info(o: object, msg: string): void;
  warn(o: object, msg: string): void;
  error(o: object, msg: string): void;
}

export interface HandlerDeps {
  ring: ServerKeyring;
  audit: AuditStore;
  /** resolves when the key store answers (the health check) */
  ping: () => Promise<void>;
  log: ServiceLogger;
  status: typeof grpc.status;
  now?: () => Date;
}

/** A gRPC error: `code` and message, as grpc-js sends a thrown ServiceError. */
function rpcError(code: grpc.status, details: string): Partial<grpc.ServiceError> {
  return { code, details, message: details };
}

/** Who called: the client certificate's subject CN (mutual TLS), and the peer address. */
function caller(call: grpc.ServerUnaryCall<unknown, unknown>): { client: string | null; remote: string } {
  const cert = call.getAuthContext()?.sslPeerCertificate;
  const cn = cert?.subject?.CN as string | string[] | undefined;
  return { client: Array.isArray(cn) ? cn.join(',') : (cn ?? null), remote: call.getPeer() };
}

const ROLES: readonly ServerKeyRole[] = ['timestamp', 'snapshot'];

/** Turns an async handler into grpc-js's callback form; unexpected errors become INTERNAL (logged, not sent). */
function unary<Req, Res>(
  deps: HandlerDeps,
  name: string,
  fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call.request, call).then(
      (res) => callback(null, res),
      (err: unknown) => {
        if (typeof (err as { code?: unknown }).code === 'number' && (err as { details?: unknown }).details) {
          callback(err as grpc.ServiceError);
          return;
        }
        deps.log.error({ rpc: name, err: err instanceof Error ? err.message : String(err) }, 'signer RPC failed');
        callback(rpcError(deps.status.INTERNAL, `${name} failed`) as grpc.ServiceError);
      },
    );
  };
}

function keyIdOf(msg: KeyIdMsg | null, deps: HandlerDeps): string {
  const id = msg?.ID ?? '';
  if (!/^[0-9a-f]{64}$/.test(id)) throw rpcError(deps.status.NOT_FOUND, `key ${id} not found`);
  return id;
}

export function keyManagementHandlers(deps: HandlerDeps): grpc.UntypedServiceImplementation {
  const { ring, audit, status } = deps;
  return {
    CreateKey: unary<CreateKeyRequestMsg, PublicKeyMsg>(deps, 'CreateKey', async (req, call) => {
      if (req.algorithm !== SERVER_KEY_ALGORITHM) {
        // notary-signer answers an algorithm it has no service for with a plain error (code Unknown)
        throw rpcError(status.UNKNOWN, `algorithm ${req.algorithm} not supported for create key`);
      }
      const role = req.role as ServerKeyRole;
      if (!ROLES.includes(role)) {
        throw rpcError(status.INVALID_ARGUMENT, `role ${req.role} is not held by this signer (timestamp or snapshot)`);
      }
      if (req.gun === '' || req.gun.length > MAX_GUN_LENGTH) {
        throw rpcError(status.INVALID_ARGUMENT, `gun must be 1 to ${MAX_GUN_LENGTH} characters`);
      }
      const entry: AuditFields = { event: 'create_key', service: 'signer', ...caller(call) };
      const { key, created } = await ring.unusedOrNew(req.gun, role, entry);
      if (!created) {
        // a created-but-unused key handed out again: no row written, so the entry goes on its own
        await audit.append([
          { ...entry, gun: req.gun, role, keyId: key.id, algorithm: SERVER_KEY_ALGORITHM, reused: true },
        ]);
      }
      deps.log.info({ keyId: key.id, gun: req.gun, role, reused: !created }, 'CreateKey');
      return {
        keyInfo: { keyID: { ID: key.id }, algorithm: { algorithm: SERVER_KEY_ALGORITHM } },
        publicKey: Buffer.from(key.public, 'base64'),
      };
    }),
    DeleteKey: unary<KeyIdMsg, Record<string, never>>(deps, 'DeleteKey', async (req, call) => {
      const id = req.ID;
      const held = /^[0-9a-f]{64}$/.test(id) ? await ring.get(id) : null;
      // an unknown key deletes nothing and succeeds, as notary-signer's RemoveKey does
      const deleted = await ring.delete(id, {
        event: 'delete_key',
        service: 'signer',
        ...caller(call),
        keyId: id,
        ...(held !== null ? { gun: held.row.gun, role: held.row.role } : {}),
      });
      deps.log.info({ keyId: id, deleted }, 'DeleteKey');
      return {};
    }),
    GetKeyInfo: unary<KeyIdMsg, GetKeyInfoResponseMsg>(deps, 'GetKeyInfo', async (req) => {
      const id = keyIdOf(req, deps);
      const held = await ring.current(id);
      if (held === null) throw rpcError(status.NOT_FOUND, `key ${id} not found`);
      return {
        keyInfo: { keyID: { ID: id }, algorithm: { algorithm: held.row.algorithm } },
        publicKey: Buffer.from(held.row.publicKey, 'base64'),
        role: held.row.role,
      };
    }),
  };
}

export function signerHandlers(deps: HandlerDeps): grpc.UntypedServiceImplementation {
  const { ring, audit, status } = deps;
  const now = deps.now ?? (() => new Date());
  return {
    Sign: unary<SignatureRequestMsg, SignatureMsg>(deps, 'Sign', async (req, call) => {
      const id = req.keyID?.ID ?? '';
      // read from the database on every Sign (one primary-key lookup): a key deleted through
      // another instance sharing the database must not sign from this one's cache
      const held = /^[0-9a-f]{64}$/.test(id) ? await ring.current(id) : null;
      // notary-signer's message for trustmanager.ErrKeyNotFound (N:trustmanager/errors.go)
      if (held === null) throw rpcError(status.NOT_FOUND, `signing key not found: ${id}`);
      let sig: Buffer;
      try {
        sig = (await (await ring.signer(held)).sign(req.content)).sig;
      } catch (err) {
        if (err instanceof SignetError) {
          deps.log.error({ keyId: id, code: err.code, err: err.message }, 'Sign: the key cannot sign');
          throw rpcError(status.INTERNAL, `Signing failed for KeyID ${id}`);
        }
        throw err;
      }
      // recorded before the signature leaves: a signature the trail does not show is never handed out
      await audit.append([
        {
          event: 'sign',
          service: 'signer',
          ...caller(call),
          gun: held.row.gun,
          role: held.row.role,
          keyId: id,
          algorithm: held.row.algorithm,
          bytes: req.content.length,
          sha256: crypto.createHash('sha256').update(req.content).digest('hex'),
        },
      ]);
      // notary-signer marks a key active once it has signed (N:signer/keydbstore/keydbstore.go)
      await ring.markUsed([id], now());
      return {
        keyInfo: { keyID: { ID: id }, algorithm: { algorithm: held.row.algorithm } },
        algorithm: { algorithm: 'ecdsa' },
        content: sig,
      };
    }),
  };
}

/** grpc.health.v1.Health/Check for '' and notary's two service names. */
export function healthHandlers(deps: HandlerDeps): grpc.UntypedServiceImplementation {
  const known = new Set<string>(['', ...HEALTH_SERVICES]);
  return {
    Check: unary<{ service: string }, { status: HealthStatus }>(deps, 'Check', async (req) => {
      if (!known.has(req.service)) throw rpcError(deps.status.NOT_FOUND, `unknown service ${req.service}`);
      try {
        await deps.ping();
        return { status: 'SERVING' };
      } catch (err) {
        deps.log.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'health: the key store does not answer',
        );
        return { status: 'NOT_SERVING' };
      }
    }),
  };
}
