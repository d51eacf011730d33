/** Starts Signet's real server (HTTPS with its own CA) on 127.0.0.1 and a free port, in-process. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { startServer, type AuthConfig, type RunningServer } from '../../src/server/index.js';

export interface StartedServer extends RunningServer {
  dataDir: string;
  /** close and remove the data dir */
  dispose(): Promise<void>;
}

export async function startTestServer(
  opts: { database?: string; dataDir?: string; insecureHttp?: boolean; auth?: AuthConfig } = {},
): Promise<StartedServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'signet-it-'));
  const logger = pino({ level: process.env.SIGNET_TEST_LOG ?? 'silent' });
  const s = await startServer({
    listen: '127.0.0.1:0',
    dataDir,
    database: opts.database,
    tls: opts.insecureHttp ? { mode: 'insecure-http' } : { mode: 'auto' },
    signerPassphrase: 'interop-test-passphrase',
    logger,
    handleSignals: false,
    auth: opts.auth,
  });
  return {
    ...s,
    dataDir,
    async dispose() {
      await s.close();
      if (opts.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
