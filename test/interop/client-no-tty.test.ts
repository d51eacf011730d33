// Issue 4 acceptance 4: without a TTY and without the passphrase variable, every key-using command
// fails at once (exit 7) with an error naming the variable; no command hangs (stdin closed, short
// timeout). The repository and keys are made first with the passphrases set.
import { cp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushImages } from '../harness/push-image.js';
import type { TestRegistry } from '../harness/registry.js';
import { signetCli, type SignetCli } from '../cli/signet.js';
import { startClientPeers, type ClientPeers, type TrustServer } from '../client/servers.js';

const ROOT_VARS = /DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE|NOTARY_ROOT_PASSPHRASE/;
const REPO_VARS = /DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE|NOTARY_(TARGETS|DELEGATION)_PASSPHRASE/;

describe('no TTY and no passphrase variable', () => {
  let registry: TestRegistry;
  let server: TrustServer;
  let peers: ClientPeers | undefined;
  let dir: string;
  let gun: string;
  let setup: SignetCli;
  /** same trust dir, no passphrase variables */
  let bare: SignetCli;
  let empty: SignetCli;

  beforeAll(async () => {
    peers = await startClientPeers('notary-server', 'signet-client-notty-');
    ({ dir, registry, server } = peers);
    gun = `${registry.host}/notty/app`;
    await pushImages(registry.host, 'notty/app', ['1.0', '2.0']);
    setup = signetCli({ server: server.url, caFile: server.caFile, trustDir: path.join(dir, 'a', 'trust') });
    await setup.ok(['key', 'generate', 'erin', '--dir', path.join(dir, 'pub')]);
    await setup.ok(['signer', 'add', 'erin', gun, '--key', path.join(dir, 'pub', 'erin.pub')]);
    await setup.ok(['sign', `${gun}:1.0`]);
    await setup.ok(['key', 'export', '-o', path.join(dir, 'exported.pem')]);
    await setup.ok(['key', 'backup', path.join(dir, 'keys.backup')], {
      env: { SIGNET_BACKUP_PASSPHRASE: 'backup-pass-123' },
    });
    await cp(path.join(dir, 'a'), path.join(dir, 'b'), { recursive: true });
    bare = signetCli({
      server: server.url,
      caFile: server.caFile,
      trustDir: path.join(dir, 'b', 'trust'),
      withPassphrases: false,
    });
    empty = signetCli({
      server: server.url,
      caFile: server.caFile,
      trustDir: path.join(dir, 'c', 'trust'),
      withPassphrases: false,
    });
  });

  afterAll(async () => {
    await peers?.stop();
  });

  const cases: {
    name: string;
    cli: () => SignetCli;
    args: () => string[];
    vars: RegExp;
    before?: () => Promise<void>;
  }[] = [
    {
      name: 'key generate',
      cli: () => bare,
      args: () => ['key', 'generate', 'frank', '--dir', path.join(dir, 'pub2')],
      vars: REPO_VARS,
    },
    {
      name: 'init (new root key)',
      cli: () => empty,
      args: () => ['init', `${registry.host}/notty/other`],
      vars: ROOT_VARS,
    },
    { name: 'sign', cli: () => bare, args: () => ['sign', `${gun}:2.0`], vars: REPO_VARS },
    { name: 'revoke', cli: () => bare, args: () => ['revoke', `${gun}:1.0`], vars: REPO_VARS },
    {
      name: 'signer add',
      cli: () => bare,
      args: () => ['signer', 'add', 'gina', gun, '--key', path.join(dir, 'pub', 'erin.pub')],
      vars: REPO_VARS,
    },
    { name: 'signer remove', cli: () => bare, args: () => ['signer', 'remove', 'erin', gun], vars: REPO_VARS },
    { name: 'key rotate targets', cli: () => bare, args: () => ['key', 'rotate', gun, 'targets'], vars: REPO_VARS },
    { name: 'key rotate root', cli: () => bare, args: () => ['key', 'rotate', gun, 'root'], vars: ROOT_VARS },
    {
      name: 'key export',
      cli: () => bare,
      args: () => ['key', 'export', '-o', path.join(dir, 'again.pem')],
      vars: /PASSPHRASE/,
    },
    {
      name: 'key import',
      cli: () => empty,
      args: () => ['key', 'import', path.join(dir, 'exported.pem')],
      vars: /PASSPHRASE/,
    },
    {
      name: 'key load (encrypted key)',
      cli: () => empty,
      args: () => ['key', 'load', path.join(dir, 'erin.key'), '--name', 'erin'],
      vars: REPO_VARS,
      before: async () => {
        const { readdir, readFile } = await import('node:fs/promises');
        const priv = path.join(dir, 'a', 'trust', 'private');
        for (const f of await readdir(priv)) {
          const text = await readFile(path.join(priv, f), 'utf8');
          if (text.includes('role: erin')) await writeFile(path.join(dir, 'erin.key'), text, { mode: 0o600 });
        }
      },
    },
    {
      name: 'key backup',
      cli: () => bare,
      args: () => ['key', 'backup', path.join(dir, 'b.backup')],
      vars: /SIGNET_BACKUP_PASSPHRASE/,
    },
    {
      name: 'key restore',
      cli: () => empty,
      args: () => ['key', 'restore', path.join(dir, 'keys.backup')],
      vars: /SIGNET_BACKUP_PASSPHRASE/,
    },
    {
      name: 'publish (staged target)',
      cli: () => bare,
      args: () => ['publish', gun],
      vars: REPO_VARS,
      before: async () => {
        await bare.ok(['target', 'add', gun, 'by-hand', '--sha256', 'ab'.repeat(32), '--size', '10']);
      },
    },
  ];

  for (const c of cases) {
    it(`${c.name}: exits 7 at once, naming the variable`, async () => {
      await c.before?.();
      const started = Date.now();
      const r = await c.cli().run(c.args(), { timeoutMs: 20_000 });
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(7);
      expect(r.stderr).toMatch(c.vars);
      expect(Date.now() - started).toBeLessThan(15_000);
    });
  }

  it('read commands need no passphrase', async () => {
    const r = await bare.run(['inspect', gun]);
    expect(r.code, r.stderr).toBe(0);
    expect((await bare.run(['key', 'list'])).code).toBe(0);
  });
});
