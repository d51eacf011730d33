/**
 * What a new user hit in the client, each checked on the built CLI against Signet's own
 * trust server (in-process, TLS with its generated CA, on a free port).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { run } from '../harness/proc.js';
import { ensureBuilt, passphraseEnv, ROOT, SIGNET_MAIN } from './signet.js';

const GUN = '127.0.0.1:1/newcomer/app';
const DIGEST = 'a'.repeat(64);
let tmp: string;
let server: RunningServer;

function sig(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string; passphrases?: boolean } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return run(process.execPath, [SIGNET_MAIN, ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: path.join(tmp, 'home'),
      DOCKER_CONFIG: path.join(tmp, 'docker'),
      NO_PROXY: '127.0.0.1',
      SIGNET_BACKUP_PASSPHRASE: 'backup-pass',
      ...(opts.passphrases === false ? {} : passphraseEnv()),
      ...opts.env,
    },
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    timeoutMs: 60_000,
  });
}

async function ok(args: string[], opts: Parameters<typeof sig>[1] = {}): Promise<string> {
  const r = await sig(args, opts);
  expect(r.code, `signet ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

const dir = (name: string): string => path.join(tmp, name);

beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'signet-newcomer-'));
  server = await startServer({
    listen: '127.0.0.1:0',
    dataDir: dir('server'),
    tls: { mode: 'auto' },
    signerPassphrase: 'newcomer-signer-pass',
    logger: pino({ level: 'silent' }),
    handleSignals: false,
    auditLog: false,
  });
  // the repository every test reads: initialised with --server and --tls-ca into trust dir "a"
  await ok(['--server', server.url, '--tls-ca', server.caFile!, '-d', dir('a'), 'init', GUN]);
  await ok(['-d', dir('a'), 'target', 'add', GUN, 'v1', '--sha256', DIGEST, '--size', '123']);
  await ok(['-d', dir('a'), 'publish', GUN]);
});

afterAll(async () => {
  await server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the client as a newcomer meets it', () => {
  it('remembers the server a repository was initialised with (and its --tls-ca)', async () => {
    const remembered = JSON.parse(readFileSync(path.join(dir('a'), 'signet', 'servers.json'), 'utf8'));
    expect(remembered.servers[GUN]).toEqual({ url: server.url, tlsCa: server.caFile });
    // no --server, no --tls-ca, no DOCKER_CONTENT_TRUST_SERVER: the publish above and this read went to it
    const rows = JSON.parse(await ok(['-d', dir('a'), 'target', 'list', GUN, '--json']));
    expect(rows).toEqual([{ name: 'v1', digest: `sha256:${DIGEST}`, size: 123, role: 'targets' }]);
    // notary's own layout is untouched
    expect(
      JSON.parse(readFileSync(path.join(dir('a'), 'tuf', GUN, 'metadata', 'root.json'), 'utf8')).signed._type,
    ).toBe('Root');
  });

  it('says which trust server was assumed, and why, when it fails', async () => {
    const r = await sig(['-d', dir('fresh'), '--retries', '0', 'inspect', '127.0.0.1:1/other/app']);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain(
      'trust server: https://127.0.0.1:1 (assumed: no --server and no DOCKER_CONTENT_TRUST_SERVER: the default for registry 127.0.0.1:1',
    );
    const env = await sig(['-d', dir('fresh'), '--retries', '0', 'verify', '--json', '127.0.0.1:1/other/app:1'], {
      env: { DOCKER_CONTENT_TRUST_SERVER: 'https://127.0.0.1:2' },
    });
    expect(JSON.parse(env.stderr).error.trustServer).toEqual({
      url: 'https://127.0.0.1:2',
      assumed: 'from DOCKER_CONTENT_TRUST_SERVER',
    });
  });

  it('repeats -d and --server in suggested commands (the pin fix of an unpinned root)', async () => {
    const d = dir('unpinned');
    const r = await sig(['-d', d, '--server', server.url, '--tls-ca', server.caFile!, 'inspect', GUN]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`signet -d ${d} --server ${server.url} --tls-ca ${server.caFile} pin ${GUN} `);
    // and a command printed on success
    const staged = await ok(['-d', dir('a'), 'target', 'add', GUN, 'v2', '--sha256', DIGEST, '--size', '1', '--json']);
    expect(JSON.parse(staged)).toMatchObject({
      gun: GUN,
      staged: 'v2',
      publish: `signet -d ${dir('a')} publish ${GUN}`,
    });
    await ok(['-d', dir('a'), 'status', GUN, '--clear']);
  });

  it('names a plain-HTTP server instead of OpenSSL "wrong version number"', async () => {
    const plain = http.createServer((_q, s) => s.end('{}'));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    try {
      const port = (plain.address() as AddressInfo).port;
      const r = await sig([
        '-d',
        dir('fresh'),
        '--retries',
        '0',
        '--server',
        `https://127.0.0.1:${port}`,
        'inspect',
        'x.example/a',
      ]);
      expect(r.stderr).toContain(`the trust server at https://127.0.0.1:${port} speaks plain HTTP`);
      expect(r.stderr).toContain(`use http://127.0.0.1:${port}`);
      expect(r.stderr).not.toMatch(/wrong version number/i);
    } finally {
      await new Promise<void>((r) => plain.close(() => r()));
    }
  });

  it('a mistyped command prints the hint only; usage errors are JSON under --json; --version', async () => {
    const typo = await sig(['-d', dir('x'), 'verfy', 'a/b:1']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe(
      `Error: unknown command 'verfy'\n(Did you mean verify?)\n  fix: see signet -d ${dir('x')} --help\n`,
    );
    const json = await sig(['verify', '--json', '--bogus', 'a/b:1']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr)).toEqual({
      error: { code: 'USAGE', message: "unknown option '--bogus'", fix: 'see signet verify --help' },
    });
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect((await sig(['--version'])).stdout).toBe(`${pkg.version}\n`);
  });

  it('key rotate root prints the key ID and the certificate ID; key export/backup/restore take --json', async () => {
    const d = dir('rot');
    await ok(['--server', server.url, '--tls-ca', server.caFile!, '-d', d, 'init', `${GUN}-rot`]);
    const rotated = await ok(['-d', d, 'key', 'rotate', `${GUN}-rot`, 'root']);
    expect(rotated).toMatch(/root key: +[0-9a-f]{64}\n +root cert ID: +[0-9a-f]{64}\n/);
    const json = JSON.parse(await ok(['-d', d, 'key', 'rotate', `${GUN}-rot`, 'root', '--json']));
    expect(rotated).not.toContain(json.keyId); // a new key each time
    const exported = JSON.parse(await ok(['-d', d, 'key', 'export', '-o', path.join(tmp, 'exp.pem'), '--json']));
    expect(exported.keys.length).toBeGreaterThanOrEqual(3);
  });

  it('key backup carries the pins: a restored trust dir verifies its own repositories', async () => {
    const archive = path.join(tmp, 'a.backup');
    const b = JSON.parse(await ok(['-d', dir('a'), 'key', 'backup', archive, '--json']));
    expect(b.pins).toBe(1);
    const restored = dir('restored');
    const r = JSON.parse(await ok(['-d', restored, 'key', 'restore', archive, '--json']));
    expect(r.pins).toEqual([GUN]);
    const rows = JSON.parse(
      await ok(['-d', restored, '--server', server.url, '--tls-ca', server.caFile!, 'target', 'list', GUN, '--json']),
    );
    expect(rows.map((x: { name: string }) => x.name)).toEqual(['v1']);
  });

  it('revoke of every tag: an error without a terminal, a y/N question on one', async () => {
    const noTty = await sig(['-d', dir('a'), 'revoke', GUN]);
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toContain('there is no terminal to ask');
    expect(noTty.stderr).toContain('add --yes');
    // a real terminal (util-linux `script` runs the command on a pty); the answer is "n"
    const cmd = [process.execPath, SIGNET_MAIN, '-d', dir('a'), 'revoke', GUN].map((w) => `'${w}'`).join(' ');
    const tty = await run('script', ['-qec', cmd, '/dev/null'], {
      env: { PATH: process.env.PATH, HOME: path.join(tmp, 'home'), ...passphraseEnv() },
      input: 'n\n',
      timeoutMs: 60_000,
    });
    expect(tty.stdout).toContain(`Revoke every signed tag of ${GUN}? [y/N]`);
    expect(tty.stdout).toContain('not confirmed');
    expect(JSON.parse(await ok(['-d', dir('a'), 'target', 'list', GUN, '--json']))).toHaveLength(1);
  });

  it('a missing *_PASSPHRASE_FILE names the variable; a warning says Warning once', async () => {
    const r = await sig(['-d', dir('pf'), '--server', server.url, '--tls-ca', server.caFile!, 'init', `${GUN}-pf`], {
      passphrases: false,
      env: { DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE_FILE: path.join(tmp, 'nope') },
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE_FILE=${path.join(tmp, 'nope')}: no such file`);
    const w = await sig([
      '-d',
      dir('tofu'),
      '--tofu',
      '--server',
      server.url,
      '--tls-ca',
      server.caFile!,
      'inspect',
      GUN,
    ]);
    expect(w.stderr).toContain('WARNING: --tofu');
    expect(w.stderr).not.toMatch(/Warning: WARNING/i);
  });

  it('key import - reads the key from standard input (and /dev/fd/N through the shell)', async () => {
    const pem = readFileSync(path.join(tmp, 'exp.pem'), 'utf8');
    const one = pem.slice(0, pem.indexOf('-----END ENCRYPTED PRIVATE KEY-----') + 36);
    const d = dir('imported');
    const res = JSON.parse(await ok(['-d', d, 'key', 'import', '-', '--json'], { input: one }));
    expect(res).toHaveLength(1);
    const fd = await run(
      'bash',
      ['-c', `"$0" "$1" -d "$2" key import /dev/fd/3 --json 3<<<"$3"`, process.execPath, SIGNET_MAIN, dir('fd'), one],
      {
        env: { PATH: process.env.PATH, HOME: path.join(tmp, 'home'), ...passphraseEnv() },
      },
    );
    expect(fd.code, fd.stderr).toBe(0);
    expect(JSON.parse(fd.stdout)[0].id).toBe(res[0].id);
  });
});
