/**
 * Unsafe starts are refused with a SignetError naming the flag and the fix, and a refused start
 * creates nothing in the data dir.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { SignetError } from '../../src/errors.js';
import { startServer, type ServerConfig } from '../../src/server/index.js';
import { bundleEntry } from '../harness/bundle.js';
import { run } from '../harness/proc.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-refuse-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => path.join(dir, `d${++n}`);

function config(dataDir: string, extra: Partial<ServerConfig> = {}): ServerConfig {
  return {
    listen: '127.0.0.1:0',
    dataDir,
    tls: { mode: 'insecure-http' },
    signerPassphrase: 'first-passphrase',
    logger: pino({ level: 'silent' }),
    handleSignals: false,
    ...extra,
  };
}

async function refusal(c: ServerConfig): Promise<SignetError> {
  const err = await startServer(c).then(
    async (s) => {
      await s.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err, 'the start must be refused').toBeInstanceOf(SignetError);
  const e = err as SignetError;
  process.stdout.write(`refused: [${e.code}] ${e.message}\n  fix: ${e.fix ?? '(none)'}\n`);
  return e;
}

async function listening(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

describe('refused starts', () => {
  it('a port already in use: names --listen, creates no data dir', async () => {
    const { server, port } = await listening();
    try {
      const d = fresh();
      const e = await refusal(config(d, { listen: `127.0.0.1:${port}` }));
      expect(e.message).toContain(`127.0.0.1:${port}`);
      expect(e.message).toContain('already in use');
      expect(e.fix).toContain('--listen');
      expect(existsSync(d)).toBe(false);
    } finally {
      server.close();
    }
  });

  it('a data dir below a file (ENOTDIR): names --data-dir', async () => {
    const file = path.join(dir, 'a-file');
    writeFileSync(file, 'x');
    const e = await refusal(config(path.join(file, 'data')));
    expect(e.message).toContain('not a directory');
    expect(e.fix).toContain('--data-dir');
  });

  it('a data dir that may not be created (EACCES): names --data-dir', async () => {
    // /sys refuses new directories even to root, where chmod would not
    const e = await refusal(config('/sys/signet-refusal-test/data'));
    expect(e.message).toMatch(/permission denied|read-only/);
    expect(e.fix).toContain('--data-dir');
    expect(existsSync('/sys/signet-refusal-test')).toBe(false);
  });

  it('an invalid log level: names --log-level, creates no data dir', async () => {
    const d = fresh();
    const { logger: _l, ...c } = config(d);
    const e = await refusal({ ...c, logLevel: 'verbose' });
    expect(e.fix).toContain('--log-level');
    expect(e.fix).toContain('debug');
    expect(existsSync(d)).toBe(false);
  });

  it('a second process on one SQLite data dir; a stale lock (SIGKILLed owner) does not block', async () => {
    const d = fresh();
    const first = await startServer(config(d));
    try {
      const before = readdirSync(d).sort();
      const e = await refusal(config(d));
      expect(e.message).toContain('in use by another signet server');
      expect(e.fix).toContain('--data-dir');
      expect(readdirSync(d).sort()).toEqual(before);
    } finally {
      await first.close();
    }
    expect(existsSync(path.join(d, 'signet.lock'))).toBe(false);
    // a lock left by a process killed with SIGKILL
    const victim = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    const pid = victim.pid as number;
    victim.kill('SIGKILL');
    await new Promise((r) => victim.once('exit', r));
    writeFileSync(path.join(d, 'signet.lock'), JSON.stringify({ pid, host: os.hostname(), start: '1' }) + '\n');
    const again = await startServer(config(d));
    await again.close();
  });

  it('a signer passphrase that does not decrypt the stored server keys; nothing created', async () => {
    const d = fresh();
    const first = await startServer(config(d));
    const res = await fetch(`${first.url}/v2/example.com/p/app/_trust/tuf/timestamp.key`);
    expect(res.status).toBe(200);
    await first.close();
    const before = readdirSync(d).sort();
    const e = await refusal(config(d, { signerPassphrase: 'another-passphrase' }));
    expect(e.code).toBe('BAD_PASSPHRASE');
    expect(e.message).toContain('does not decrypt the server keys');
    expect(e.fix).toContain('--signer-passphrase-file');
    expect(readdirSync(d).sort()).toEqual(before);
    // no passphrase at all (and none in the data dir) while the database holds keys: refused, no file made
    const e2 = await refusal(config(d, { signerPassphrase: undefined }));
    expect(e2.code).toBe('BAD_PASSPHRASE');
    expect(readdirSync(d).sort()).toEqual(before);
    expect(existsSync(path.join(d, 'signer.passphrase'))).toBe(false);
  });
});

describe('signet server (CLI) refusals', () => {
  it('exits non-zero with the flag and a fix, never "unexpected error"', async () => {
    const cli = await bundleEntry('src/cli/main.ts', dir, 'signet.mjs');
    const { server, port } = await listening();
    const env = { PATH: process.env.PATH, HOME: dir };
    try {
      const cases: [string[], RegExp][] = [
        [['--listen', `127.0.0.1:${port}`, '--data-dir', fresh()], /--listen/],
        [['--log-level', 'loud', '--data-dir', fresh()], /--log-level/],
        [['--data-dir', path.join(dir, 'a-file', 'x')], /--data-dir/],
      ];
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'a-file'), 'x');
      // a second process on a data dir this (test) process serves
      const held = fresh();
      const first = await startServer(config(held));
      cases.push([['--data-dir', held], /in use by another signet server \(process \d+\)[\s\S]*--data-dir/]);
      for (const [args, flag] of cases) {
        const r = await run(process.execPath, [cli, 'server', '--insecure-http', ...args], { env, timeoutMs: 30_000 });
        process.stdout.write(`signet server ${args.join(' ')} → exit ${r.code}\n${r.stderr}\n`);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(flag);
        expect(r.stderr).not.toContain('unexpected error');
      }
      await first.close();
    } finally {
      server.close();
    }
  });
});
