/** The trust server with auth settings, for the auth tests: a store in a temp dir, inject or real HTTP. */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { openStore, type MetaStore } from '../../src/storage/index.js';
import { LocalServerSigner } from '../../src/signer/index.js';
import { buildApp, createAuthorizer, type AuthSettings, type SignetApp } from '../../src/server/index.js';
import type { Injector } from './helpers.js';

export interface AuthServer {
  signet: SignetApp;
  store: MetaStore;
  dir: string;
  close(): Promise<void>;
}

export async function authServer(
  settings: AuthSettings | undefined,
  http = false,
): Promise<AuthServer & { url?: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-auth-'));
  const store = await openStore({ dataDir: dir });
  const signer = new LocalServerSigner({ keys: store.keys, passphrase: 'test-passphrase' });
  const signet = buildApp({
    store,
    signer,
    ...(settings ? { auth: createAuthorizer(settings) } : {}),
    ...(http ? { createServer: (h) => createServer(h) } : {}),
  });
  let url: string | undefined;
  if (http) {
    await signet.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(signet.app.server.address() as AddressInfo).port}`;
  } else await signet.app.ready();
  return {
    signet,
    store,
    dir,
    ...(url ? { url } : {}),
    async close() {
      await signet.app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function withAuth(app: SignetApp['app'], authorization: string | undefined): Injector {
  return {
    inject: (o) =>
      app.inject({
        ...o,
        headers: { ...(o.headers ?? {}), ...(authorization ? { authorization } : {}) },
      }) as ReturnType<Injector['inject']>,
  };
}

export const GUN = 'example.com/team/app';

export type Method = 'GET' | 'HEAD' | 'POST' | 'DELETE';
/** `method url` on the server, with the Authorization header when given. */
export const send = (s: AuthServer, method: Method, url: string, authorization?: string) =>
  s.signet.app.inject({ method, url, headers: authorization ? { authorization } : {} });
export const repo = (gun: string, actions: string[]) => ({ type: 'repository', name: gun, actions });
