// The trust servers the client interop suites run against: the real notary-server 0.7 (with
// notary-signer) and Signet's own server (`signet server`, a real child process on a free port).
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SIGNET_MAIN, ensureBuilt } from '../cli/signet.js';
import { httpOk, startNotaryPeers, startOnFreePort } from '../harness/notary-peers.js';
import { childEnv, startProc } from '../harness/proc.js';
import { startRegistry, type TestRegistry } from '../harness/registry.js';

export interface TrustServer {
  name: string;
  url: string;
  caFile: string;
  stop(): Promise<void>;
}

export const TRUST_SERVERS = ['notary-server', 'signet-server'] as const;
export type TrustServerName = (typeof TRUST_SERVERS)[number];

export async function startTrustServer(name: TrustServerName, dir: string): Promise<TrustServer> {
  if (name === 'notary-server') {
    const peers = await startNotaryPeers();
    return { name, url: peers.url, caFile: peers.caFile, stop: () => peers.stop() };
  }
  await ensureBuilt();
  const dataDir = path.join(dir, 'signet-server');
  await mkdir(dataDir, { recursive: true });
  const caFile = path.join(dataDir, 'tls', 'ca.crt');
  const env = childEnv({}, (k) => k.startsWith('SIGNET_') || k.startsWith('NOTARY_') || k.startsWith('DOCKER_'));
  const started = await startOnFreePort(async (port, attempt) =>
    startProc({
      name: attempt === 0 ? 'signet-server' : `signet-server.${attempt}`,
      cmd: process.execPath,
      args: [SIGNET_MAIN, 'server', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--log-level', 'warn'],
      env,
      logDir: path.join(dir, 'logs'),
      ready: async () => {
        try {
          return await httpOk(`https://127.0.0.1:${port}/_notary_server/health`, await readFile(caFile));
        } catch {
          return false;
        }
      },
      timeoutMs: 30_000,
    }),
  );
  return { name, url: `https://127.0.0.1:${started.port}`, caFile, stop: () => started.proc.stop() };
}

export interface ClientPeers {
  /** a fresh temp dir for the suite's trust dirs, keys and logs */
  dir: string;
  registry: TestRegistry;
  server: TrustServer;
  /** stops the registry and the trust server and removes `dir` */
  stop(): Promise<void>;
}

/** A temp dir named `prefix`…, and in it a registry and the trust server `name`, started side by side. */
export async function startClientPeers(name: TrustServerName, prefix: string): Promise<ClientPeers> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const removeDir = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const started = await Promise.allSettled([startRegistry(), startTrustServer(name, dir)]);
  const [registry, server] = started;
  if (registry.status === 'rejected' || server.status === 'rejected') {
    await Promise.allSettled(started.map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
    await removeDir();
    throw registry.status === 'rejected' ? registry.reason : (server as PromiseRejectedResult).reason;
  }
  return {
    dir,
    registry: registry.value,
    server: server.value,
    async stop() {
      await Promise.allSettled([registry.value.stop(), server.value.stop()]);
      await removeDir();
    },
  };
}
