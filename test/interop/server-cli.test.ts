/**
 * `signet server` as users run it: configuration from env vars, a random signer passphrase created
 * on first start (0600), the client instructions, notary working against it, SIGINT shutdown.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleEntry } from '../harness/bundle.js';
import { notaryCli } from '../harness/notary-cli.js';
import { httpOk } from '../harness/notary-peers.js';
import { freePort } from '../harness/ports.js';
import { startProc } from '../harness/proc.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-cli-srv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('signet server (CLI)', () => {
  it('starts from SIGNET_* variables, prints how to use it, serves notary, stops on SIGINT', async () => {
    const cli = await bundleEntry('src/cli/main.ts', dir, 'signet.mjs');
    const port = await freePort();
    const dataDir = path.join(dir, 'data');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: dir,
      SIGNET_LISTEN: `127.0.0.1:${port}`,
      SIGNET_DATA_DIR: dataDir,
    };
    const ca = path.join(dataDir, 'tls', 'ca.crt');
    const proc = await startProc({
      name: 'signet-cli-server',
      cmd: process.execPath,
      args: [cli, 'server'],
      env,
      logDir: path.join(dir, 'logs'),
      listenPort: port,
      timeoutMs: 30_000,
      ready: async () => {
        try {
          return await httpOk(`https://127.0.0.1:${port}/v2/`, readFileSync(ca));
        } catch {
          return false;
        }
      },
    });
    try {
      let log = readFileSync(proc.logFile, 'utf8');
      for (let i = 0; i < 50 && !log.includes('DOCKER_CONTENT_TRUST_SERVER'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        log = readFileSync(proc.logFile, 'utf8');
      }
      expect(log).toContain(`notary -s https://127.0.0.1:${port} --tlscacert ${ca}`);
      expect(log).toContain(`export DOCKER_CONTENT_TRUST_SERVER=https://127.0.0.1:${port}`);
      expect(log).toContain('created a random signer passphrase');
      const pass = path.join(dataDir, 'signer.passphrase');
      expect(statSync(pass).mode & 0o777).toBe(0o600);
      // the passphrase itself is never logged
      expect(log).not.toContain(readFileSync(pass, 'utf8').trim());
      const notary = notaryCli({ server: `https://127.0.0.1:${port}`, caFile: ca, trustDir: path.join(dir, 'trust') });
      const r = await notary.run(['init', '-p', 'example.com/cli/app']);
      expect(r.code, r.stderr).toBe(0);
      expect((await notary.run(['list', 'example.com/cli/app'])).code).toBe(0);
    } finally {
      proc.kill('SIGINT');
    }
    expect(await proc.exited).toBe(0);
  });
});
