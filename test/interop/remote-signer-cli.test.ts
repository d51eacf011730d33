/**
 * `signet server --remote-signer …` as users run it (the bundled CLI), with the real notary-signer
 * 0.7: it starts without a signer passphrase and creates none, says the signer is ready, and the
 * real notary client initialises and lists a repository whose timestamp key notary-signer made.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEntry } from '../harness/bundle.js';
import { notaryCli } from '../harness/notary-cli.js';
import { startNotarySigner, type NotarySigner } from '../harness/notary-signer.js';
import { httpOk } from '../harness/notary-peers.js';
import { freePort } from '../harness/ports.js';
import { startProc } from '../harness/proc.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-rs-cli-'));
let ns: NotarySigner;
beforeAll(async () => {
  ns = await startNotarySigner();
});
afterAll(async () => {
  await ns?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('signet server --remote-signer (CLI)', () => {
  it('starts with no passphrase, signs through notary-signer, stops on SIGINT', async () => {
    const cli = await bundleEntry('src/cli/main.ts', dir, 'signet.mjs');
    const port = await freePort();
    const dataDir = path.join(dir, 'data');
    const ca = path.join(dataDir, 'tls', 'ca.crt');
    const proc = await startProc({
      name: 'signet-remote-signer-cli',
      cmd: process.execPath,
      args: [
        cli,
        'server',
        '--listen',
        `127.0.0.1:${port}`,
        '--data-dir',
        dataDir,
        '--remote-signer',
        ns.address,
        '--remote-signer-ca',
        ns.caFile,
        '--remote-signer-cert',
        ns.clientCert,
        '--remote-signer-key',
        ns.clientKey,
        '--remote-signer-server-name',
        'localhost',
      ],
      env: { PATH: process.env.PATH, HOME: dir },
      logDir: path.join(dir, 'logs'),
      listenPort: port,
      timeoutMs: 30_000,
      ready: async () => existsSync(ca) && httpOk(`https://127.0.0.1:${port}/v2/`, readFileSync(ca)),
    });
    try {
      const notary = notaryCli({ server: `https://127.0.0.1:${port}`, caFile: ca, trustDir: path.join(dir, 'trust') });
      const r = await notary.run(['init', '-p', 'example.com/cli/remote']);
      expect(r.code, r.stderr).toBe(0);
      expect((await notary.run(['list', 'example.com/cli/remote'])).code).toBe(0);
      const log = readFileSync(proc.logFile, 'utf8');
      expect(log).toContain('remote signer ready');
      expect(log).not.toContain('signer passphrase');
      expect(existsSync(path.join(dataDir, 'signer.passphrase'))).toBe(false);
      // notary-signer made the key: its log names the creation
      expect(readFileSync(ns.logFile, 'utf8')).toContain('CreateKey: Created KeyID');
    } finally {
      proc.kill('SIGINT');
    }
    expect(await proc.exited).toBe(0);
  });
});
