// Starts Signet's signer service (signer/grpc/service.ts) on 127.0.0.1 with a fresh test CA, SQLite
// store and passphrase, and makes gRPC clients for it, with or without a client certificate.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { startSignerService, type SignerService } from '../../src/signer/index.js';
import { signerServices } from '../../src/signer/grpc/proto.js';
import { openStore, type MetaStore } from '../../src/storage/index.js';
import { makeTestCA, type TestCA } from '../harness/tls.js';

export interface ServiceFixture {
  dir: string;
  ca: TestCA;
  store: MetaStore;
  service: SignerService;
  /** a connected client of `name` (KeyManagement, Signer or Health) with the test client certificate */
  client(
    name: 'KeyManagement' | 'Signer' | 'Health',
    opts?: { cert?: 'client' | 'none' | 'other-ca' },
  ): Promise<grpc.Client>;
  stop(): Promise<void>;
}

export const silentLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

export async function startServiceFixture(
  passphrase = 'service-test-passphrase',
  database?: string,
  ping?: () => Promise<void>,
): Promise<ServiceFixture> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-sservice-'));
  const ca = await makeTestCA(path.join(dir, 'tls'));
  const other = await makeTestCA(path.join(dir, 'other'));
  await Promise.all([
    ca.issue('signer', { cn: 'signet-signer', eku: 'serverAuth' }),
    ca.issue('client', { cn: 'notary-server-client', eku: 'clientAuth' }),
    other.issue('intruder', { cn: 'intruder', eku: 'clientAuth' }),
  ]);
  const store = await openStore({ dataDir: dir, ...(database !== undefined ? { database } : {}) });
  const service = await startSignerService({
    host: '127.0.0.1',
    port: 0,
    tls: {
      certFile: path.join(dir, 'tls', 'signer.crt'),
      keyFile: path.join(dir, 'tls', 'signer.key'),
      clientCaFile: ca.caCert,
    },
    keys: store.keys,
    audit: store.audit,
    passphrase,
    ping: ping ?? (() => store.ping()),
    log: silentLog,
  });
  const grpcJs = await import('@grpc/grpc-js');
  const clients: grpc.Client[] = [];
  return {
    dir,
    ca,
    store,
    service,
    async client(name, opts = {}) {
      const services = await signerServices();
      const which = opts.cert ?? 'client';
      const file = (d: string, n: string): Buffer => readFileSync(path.join(dir, d, n));
      const creds =
        which === 'none'
          ? grpcJs.credentials.createSsl(readFileSync(ca.caCert))
          : which === 'client'
            ? grpcJs.credentials.createSsl(
                readFileSync(ca.caCert),
                file('tls', 'client.key'),
                file('tls', 'client.crt'),
              )
            : grpcJs.credentials.createSsl(
                readFileSync(ca.caCert),
                file('other', 'intruder.key'),
                file('other', 'intruder.crt'),
              );
      const c = new services[name](`127.0.0.1:${service.port}`, creds);
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.close();
      await service.close(1000);
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Calls a unary method and resolves to its response (or rejects with the gRPC error). */
export function call<Res>(client: grpc.Client, method: string, req: object): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (
      client as unknown as Record<string, (r: object, opts: object, cb: (e: Error | null, r: Res) => void) => void>
    )[method];
    if (fn === undefined) throw new Error(`no method ${method}`);
    fn.call(client, req, { deadline: Date.now() + 10_000 }, (e, r) => (e ? reject(e) : resolve(r)));
  });
}
