/**
 * Real data: the real notary 0.7 CLI signs a tag (addhash of a real pushed image's digest/size) on a
 * real trust server (notary-server 0.7, then Signet's server); Signet verifies it as a library call
 * and as the CLI, and refuses an unsigned tag with NOT_SIGNED. The trust dir cache is shared with
 * the notary CLI in both directions.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSignetError, type SignetError } from '../../src/errors.js';
import { RegistryClient } from '../../src/registry/index.js';
import { NotaryRemote } from '../../src/remote/index.js';
import { verifyImage } from '../../src/client/index.js';
import { PinStore, Updater, listSignedTags } from '../../src/updater/index.js';
import { ROOT, SIGNET_MAIN, ensureBuilt, signetCli } from '../cli/signet.js';
import { TRUST_SERVERS, startClientPeers, type ClientPeers, type TrustServer } from '../client/servers.js';
import { notaryCli, type NotaryCli } from '../harness/notary-cli.js';
import { run } from '../harness/proc.js';
import { pushImage, type PushedImage } from '../harness/push-image.js';
import type { TestRegistry } from '../harness/registry.js';

/** dist/ must contain the verify command (an older build may not). */
async function ensureVerifyBuilt(): Promise<void> {
  await ensureBuilt();
  if (existsSync(path.join(ROOT, 'dist', 'cli', 'commands', 'verify.js'))) return;
  const r = await run('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, timeoutMs: 180_000 });
  if (r.code !== 0 || !existsSync(SIGNET_MAIN)) throw new Error(`build failed:\n${r.stdout}\n${r.stderr}`);
}

describe.each(TRUST_SERVERS)('signet verify ⇄ notary CLI on %s', (serverName) => {
  let tmp: string;
  let server: TrustServer;
  let peers: ClientPeers | undefined;
  let registry: TestRegistry;
  let signed: PushedImage;
  let unsigned: PushedImage;
  let notary: NotaryCli;
  let ca: Buffer;

  beforeAll(async () => {
    peers = await startClientPeers(serverName, `signet-verify-${serverName}-`);
    ({ dir: tmp, registry, server } = peers);
    ca = await readFile(server.caFile);
    signed = await pushImage(registry.host, 'verify/app', 'v1');
    unsigned = await pushImage(registry.host, 'verify/app', 'v2');
    notary = notaryCli({ server: server.url, caFile: server.caFile, trustDir: path.join(tmp, 'notary-trust') });
    for (const args of [
      ['init', signed.gun],
      ['addhash', signed.gun, 'v1', String(signed.size), '--sha256', signed.digest.slice('sha256:'.length)],
      ['publish', signed.gun],
    ]) {
      const r = await notary.run(args);
      expect(r.code, `notary ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
    }
  }, 180_000);

  afterAll(async () => {
    await peers?.stop();
  });

  function updater(
    trustDir: string,
    opts: { tofu?: boolean; offline?: boolean } = {},
  ): { updater: Updater; close(): Promise<void> } {
    const remote = new NotaryRemote({ serverUrl: server.url, ca });
    const u = new Updater({
      gun: signed.gun,
      remote,
      trustDir,
      pins: new PinStore(trustDir),
      tofu: opts.tofu ?? false,
      offline: opts.offline ?? false,
    });
    return { updater: u, close: () => remote.close() };
  }

  it('refuses the first-seen root without a pin, then verifies after pinning the reported key ID', async () => {
    const trustDir = path.join(tmp, 'lib-pin');
    const first = updater(trustDir);
    let keyIds: string[] = [];
    try {
      await first.updater.refresh();
      expect.unreachable();
    } catch (e) {
      expect(isSignetError(e, 'UNTRUSTED_ROOT')).toBe(true);
      keyIds = (e as SignetError).details?.keyIds as string[];
    } finally {
      await first.close();
    }
    await new PinStore(trustDir).setCerts(signed.gun, keyIds);
    const u = updater(trustDir);
    const reg = new RegistryClient({ retries: 0 });
    try {
      const v = await verifyImage({
        ref: `${signed.gun}:v1`,
        updater: u.updater,
        registry: reg,
      });
      expect(v.digest).toBe(signed.digest);
      expect(v.size).toBe(signed.size);
      expect(v.role).toBe('targets');
      expect(listSignedTags(v.repo).map((t) => t.tag)).toEqual(['v1']);
    } finally {
      await u.close();
      await reg.close();
    }
  });

  it('refuses an unsigned tag with NOT_SIGNED', async () => {
    const u = updater(path.join(tmp, 'lib-tofu'), { tofu: true });
    try {
      await verifyImage({
        ref: `${unsigned.gun}:v2`,
        updater: u.updater,
      });
      expect.unreachable();
    } catch (e) {
      expect(isSignetError(e, 'NOT_SIGNED')).toBe(true);
      expect((e as Error).message).toBe(`tag v2 is not signed in ${signed.gun}`);
    } finally {
      await u.close();
    }
  });

  it('trusts the notary CLI trust dir cache as is (no pin needed), and notary reads what signet cached', async () => {
    const shared = updater(notary.trustDir);
    try {
      const repo = await shared.updater.refresh();
      expect(repo.targets.signed.targets['v1']).toBeDefined();
    } finally {
      await shared.close();
    }
    const fresh = path.join(tmp, 'signet-cache');
    const u = updater(fresh, { tofu: true });
    try {
      await u.updater.refresh();
    } finally {
      await u.close();
    }
    const mode =
      (await import('node:fs')).statSync(path.join(fresh, 'tuf', ...signed.gun.split('/'), 'metadata', 'root.json'))
        .mode & 0o777;
    expect(mode).toBe(0o600);
    const reader = notaryCli({ server: server.url, caFile: server.caFile, trustDir: fresh });
    const list = await reader.run(['list', signed.gun]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(signed.digest.slice('sha256:'.length));
  });

  it('as the CLI: verifies with --tofu (exit 0, prints the digest) and refuses the unsigned tag (exit 3)', async () => {
    await ensureVerifyBuilt();
    const cli = signetCli({ server: server.url, caFile: server.caFile, trustDir: path.join(tmp, 'cli-trust') });
    const ok = await cli.run(['verify', '--tofu', `${signed.gun}:v1`]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toBe(signed.digest);
    const pinned = await cli.run(['verify', '--digest-only', `${signed.gun}:v1`]);
    expect(pinned.stdout.trim()).toBe(`${signed.gun}@${signed.digest}`);
    const bad = await cli.run(['verify', `${signed.gun}:v2`]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain(`tag v2 is not signed in ${signed.gun}`);
  }, 240_000);
});
