/** Bundles child-server.ts once (esbuild) and starts it as a real process on a fixed port. */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleEntry } from '../harness/bundle.js';
import { httpOk } from '../harness/notary-peers.js';
import { freePort } from '../harness/ports.js';
import { startProc, type Proc } from '../harness/proc.js';

let bundled: Promise<string> | undefined;

/** dist-like single file of the server entry; node_modules resolved through a symlink. */
export function bundleChildServer(): Promise<string> {
  bundled ??= (async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-child-'));
    const outfile = await bundleEntry('test/server/child-server.ts', dir, 'child-server.mjs');
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return outfile;
  })();
  return bundled;
}

export interface ChildServer {
  url: string;
  caFile: string;
  proc: Proc;
}

export async function startChildServer(dataDir: string, port?: number, database?: string): Promise<ChildServer> {
  const entry = await bundleChildServer();
  const p = port ?? (await freePort());
  const url = `https://127.0.0.1:${p}`;
  const caFile = path.join(dataDir, 'tls', 'ca.crt');
  mkdirSync(path.join(dataDir, 'logs'), { recursive: true });
  const { readFile } = await import('node:fs/promises');
  const proc = await startProc({
    name: `signet-${p}`,
    cmd: process.execPath,
    args: [entry, dataDir, String(p), database ?? ''],
    logDir: path.join(dataDir, 'logs'),
    listenPort: p,
    timeoutMs: 30_000,
    ready: async () => {
      const ca = await readFile(caFile).catch(() => undefined);
      return ca !== undefined && (await httpOk(`${url}/_notary_server/health`, ca));
    },
  });
  return { url, caFile, proc };
}
