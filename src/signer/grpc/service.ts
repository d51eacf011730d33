/**
 * Signet's signer service: notary-signer's gRPC API (KeyManagement, Signer, grpc.health.v1.Health;
 * N:cmd/notary-signer/main.go) over mutual TLS, backed by the same encrypted key store as the trust
 * server's built-in signer (keyring.ts), or by a PKCS#11 token (pkcs11-custody.ts). A notary-server 0.7 configured with
 * `"trust_service": {"type": "remote", …}` uses it as it uses notary-signer (docs/signer-service.md).
 * Client certificates are always required: whoever reaches the port could otherwise sign with every
 * key it holds. grpc-js is loaded only when the service starts.
 */
import { SignetError } from '../../errors.js';
import type { AuditStore, ServerKeyStore } from '../../storage/index.js';
import type { Pkcs11Settings } from '../../keys/index.js';
import { ServerKeyring } from '../keyring.js';
import { Pkcs11Custody } from '../pkcs11-custody.js';
import { healthHandlers, keyManagementHandlers, signerHandlers, type ServiceLogger } from './handlers.js';
import { signerServices } from './proto.js';
import { loadServiceTls, type ServiceTlsFiles } from './service-tls.js';

export type { ServiceLogger } from './handlers.js';
export type { ServiceTlsFiles } from './service-tls.js';

export interface SignerServiceOptions {
  host: string;
  /** 0 = any free port (tests) */
  port: number;
  tls: ServiceTlsFiles;
  keys: ServerKeyStore;
  audit: AuditStore;
  /** the signer passphrase the keys are encrypted under (without `pkcs11`) */
  passphrase?: string;
  /** keys generated and used on this token instead (`uri` names the token; module and PIN in `settings`) */
  pkcs11?: { uri: string; settings: Pkcs11Settings };
  /** resolves when the database answers (health) */
  ping: () => Promise<void>;
  log: ServiceLogger;
}

export interface SignerService {
  host: string;
  port: number;
  /** Stops accepting calls, lets running ones finish (at most `graceMs`), then closes. */
  close(graceMs?: number): Promise<void>;
}

function bindError(err: Error, address: string): SignetError {
  const m = /EADDRINUSE|EACCES|EADDRNOTAVAIL/.exec(err.message);
  const why: Record<string, string> = {
    EADDRINUSE: 'is already in use (another signer, notary-signer or server listens there)',
    EACCES: 'may not be used by this user (ports below 1024 need privileges)',
    EADDRNOTAVAIL: 'is not an address of this machine',
  };
  return new SignetError(
    'USAGE',
    `cannot listen on ${address}: ${m !== null ? `the address ${why[m[0]] ?? m[0]}` : err.message}`,
    { cause: err, fix: `choose another --listen HOST:PORT, or stop what listens on ${address}` },
  );
}

export async function startSignerService(opts: SignerServiceOptions): Promise<SignerService> {
  const tls = await loadServiceTls(opts.tls);
  const token = opts.pkcs11 !== undefined ? new Pkcs11Custody(opts.pkcs11.uri, opts.pkcs11.settings) : undefined;
  const ring = new ServerKeyring({
    keys: opts.keys,
    ...(token !== undefined ? { custody: token } : { passphrase: opts.passphrase }),
  });
  await ring.checkPassphrase();
  const [grpc, services] = await Promise.all([import('@grpc/grpc-js'), signerServices()]);
  // with a token, serving also needs the token (module, token present, PIN): a Sign would fail without it
  const ping =
    token === undefined
      ? opts.ping
      : async (): Promise<void> => {
          await opts.ping();
          await token.check(null);
        };
  const deps = { ring, audit: opts.audit, ping, log: opts.log, status: grpc.status };
  const server = new grpc.Server();
  server.addService(services.KeyManagement.service, keyManagementHandlers(deps));
  server.addService(services.Signer.service, signerHandlers(deps));
  server.addService(services.Health.service, healthHandlers(deps));
  // checkClientCertificate = true: the handshake fails without a certificate issued by --client-ca
  const creds = grpc.ServerCredentials.createSsl(
    tls.clientCa,
    [{ cert_chain: tls.certChain, private_key: tls.privateKey }],
    true,
  );
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const address = `${host}:${opts.port}`;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, creds, (err, bound) => (err ? reject(bindError(err, address)) : resolve(bound))),
  );
  opts.log.info(
    {
      listen: `${host}:${port}`,
      certificate: tls.subject,
      keys: opts.pkcs11 !== undefined ? `PKCS#11 ${opts.pkcs11.uri}` : 'encrypted key store',
    },
    'signer service listening (mutual TLS)',
  );
  return {
    host: opts.host,
    port,
    close: (graceMs = 5_000) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
