/**
 * Every runbook in docs/runbooks/ runs: its ```sh blocks, in order, as one bash script, with the
 * variables its README documents set to local peers on 127.0.0.1 (docker-registry 2.8, Signet's
 * trust server; a notary-server 0.7 for the move). Runbooks that build on earlier ones run after
 * them on the same repository and work dir, each in a fresh shell.
 */
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, SIGNET_PASSPHRASES, ensureBuilt, signetCli } from '../cli/signet.js';
import { startClientPeers, type ClientPeers } from '../client/servers.js';
import { TEST_PASSPHRASES, notaryCli } from '../harness/notary-cli.js';
import { startNotaryPeers, type NotaryPeers } from '../harness/notary-peers.js';
import { freePort } from '../harness/ports.js';
import { requireBinary, run } from '../harness/proc.js';
import { pushImage } from '../harness/push-image.js';
import { writeSignetWrapper } from './peers.js';

const RUNBOOKS = path.join(ROOT, 'docs', 'runbooks');
const CI_KEY_PASSPHRASE = 'ci-key-passphrase-runbook';
/** a root key in `signet key list` output */
const ROOT_KEY_LINE = /^root\s+[0-9a-f]{64}$/m;

/** The ```sh blocks of a runbook, in order. */
async function shBlocks(file: string): Promise<string[]> {
  const text = await readFile(path.join(RUNBOOKS, file), 'utf8');
  return [...text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

describe('docs/runbooks: every command runs, in order', () => {
  let peers: ClientPeers;
  let notary: NotaryPeers | undefined;
  let binDir: string;

  beforeAll(async () => {
    await requireBinary('/usr/bin/jq', 'jq');
    await requireBinary('/usr/bin/curl', 'curl');
    await ensureBuilt();
    peers = await startClientPeers('signet-server', 'signet-runbooks-');
    binDir = path.join(peers.dir, 'bin');
    await writeSignetWrapper(binDir);
  }, 240_000);

  afterAll(async () => {
    await notary?.stop();
    await peers?.stop();
  });

  /** The documented variables for one repository and work dir. */
  async function scenario(name: string, tags: string[]): Promise<{ gun: string; env: Record<string, string> }> {
    for (const tag of tags) await pushImage(peers.registry.host, `runbook/${name}`, tag);
    const base = path.join(peers.dir, name);
    await mkdir(base, { recursive: true });
    const gun = `${peers.registry.host}/runbook/${name}`;
    return {
      gun,
      env: {
        PATH: `${binDir}:/usr/local/bin:/usr/bin:/bin`,
        HOME: base,
        NO_PROXY: '127.0.0.1,localhost',
        GUN: gun,
        REGISTRY: peers.registry.host,
        REGISTRY_URL: `http://${peers.registry.host}`,
        TRUST_SERVER: peers.server.url,
        TRUST_CA: peers.server.caFile,
        WORK: path.join(base, 'work'),
        OFFLINE_MEDIA: path.join(base, 'offline-media'),
        DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: SIGNET_PASSPHRASES.root,
        DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: SIGNET_PASSPHRASES.repository,
        SIGNET_BACKUP_PASSPHRASE: 'backup-passphrase-runbook',
        CI_KEY_PASSPHRASE,
      },
    };
  }

  async function runbook(file: string, env: Record<string, string>): Promise<string> {
    const blocks = await shBlocks(file);
    expect(blocks.length, file).toBeGreaterThan(0);
    // A background process a runbook starts (the proxy) never outlives the script.
    const script = ['set -euo pipefail', "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT", ...blocks].join('\n');
    const r = await run('/bin/bash', ['-c', script], { env, timeoutMs: 240_000 });
    if (r.code !== 0) throw new Error(`${file} failed (exit ${String(r.code)})\n${r.stdout}\n${r.stderr}`);
    return r.stdout + r.stderr;
  }

  it('every runbook in docs/runbooks is covered by this test', async () => {
    const files = (await readdir(RUNBOOKS)).filter((f) => /^\d\d-.*\.md$/.test(f)).sort();
    expect(files).toEqual([
      '01-first-setup.md',
      '02-add-ci-signer.md',
      '03-remove-ci-signer.md',
      '04-rotate-keys.md',
      '05-compromised-delegation-key.md',
      '06-lost-root-key.md',
      '07-staged-rollout.md',
      '08-move-from-notary-server.md',
    ]);
  });

  it('01 first set-up, 02 add a CI signer, 03 remove it, 04 rotate targets/snapshot/timestamp keys', async () => {
    const { env } = await scenario('a', ['1.0', '1.1']);
    const first = await runbook('01-first-setup.md', env);
    expect(first).not.toMatch(ROOT_KEY_LINE); // key list after the root key went offline
    const add = await runbook('02-add-ci-signer.md', env);
    expect(add).toMatch(/^ci$/m); // signer list, and the signer of 1.1
    const remove = await runbook('03-remove-ci-signer.md', env);
    expect(remove).toContain('1.1');
    const rotate = await runbook('04-rotate-keys.md', env);
    expect(rotate).toContain('Signed');
  }, 400_000);

  it('05 compromised delegation key: what it signed stops verifying', async () => {
    const { gun, env } = await scenario('b', ['1.0', '1.1', 'evil']);
    await runbook('01-first-setup.md', env);
    await runbook('02-add-ci-signer.md', env);
    // the attacker holds the CI key and its passphrase
    const attacker = signetCli({
      server: peers.server.url,
      caFile: peers.server.caFile,
      trustDir: path.join(env.WORK!, 'ci-job'),
      env: { DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: CI_KEY_PASSPHRASE },
    });
    await attacker.ok(['sign', `${gun}:evil`]);
    const out = await runbook('05-compromised-delegation-key.md', env);
    expect(out).toContain('evil: no longer trusted');
    expect(out).toContain('1.1: no longer trusted');
    const verifier = signetCli({
      server: peers.server.url,
      caFile: peers.server.caFile,
      trustDir: path.join(env.WORK!, 'verifier'),
    });
    expect((await verifier.run(['verify', `${gun}:evil`])).code).not.toBe(0);
    await verifier.ok(['verify', `${gun}:1.1`]);
  }, 400_000);

  it('06 lost root key: restored from the backup, rotated, stored offline again', async () => {
    const { env } = await scenario('c', ['1.0']);
    await runbook('01-first-setup.md', env);
    await rm(path.join(env.OFFLINE_MEDIA!, 'root.key')); // the loss
    const out = await runbook('06-lost-root-key.md', env);
    expect(out).not.toMatch(ROOT_KEY_LINE);
    // the verifier pinned to the old certificate followed the rotation (said once per trust dir)
    expect(out.match(/signed by the pinned root\); pin updated/g)).toHaveLength(2);
    const rotation = JSON.parse(await readFile(path.join(env.WORK!, 'root-rotation.json'), 'utf8')) as object;
    expect(rotation).toBeTypeOf('object');
    expect((await readFile(path.join(env.OFFLINE_MEDIA!, 'root.key'), 'utf8')).length).toBeGreaterThan(0);
  }, 400_000);

  it('07 staged rollout: report-only, then enforce one repository, then everywhere', async () => {
    const { env } = await scenario('d', ['1.0', '1.2']);
    await runbook('01-first-setup.md', env);
    const out = await runbook('07-staged-rollout.md', { ...env, PROXY_LISTEN: `127.0.0.1:${await freePort()}` });
    expect(out).toContain('would-refuse');
    expect(out).toContain('"refused"');
  }, 400_000);

  it('08 move a repository from notary-server 0.7 to Signet', async () => {
    notary = await startNotaryPeers();
    const { gun, env } = await scenario('e', []);
    const img = await pushImage(peers.registry.host, 'runbook/e', '1.0');
    const notaryTrust = path.join(env.WORK!, 'notary-trust');
    const n = notaryCli({ server: notary.url, caFile: notary.caFile, trustDir: notaryTrust });
    for (const args of [
      ['init', gun],
      ['addhash', gun, '1.0', String(img.size), '--sha256', img.digest.slice('sha256:'.length)],
      ['publish', gun],
    ]) {
      const r = await n.run(args);
      expect(r.code, `notary ${args.join(' ')}\n${r.stderr}`).toBe(0);
    }
    const out = await runbook('08-move-from-notary-server.md', {
      ...env,
      NOTARY_SERVER: notary.url,
      NOTARY_CA: notary.caFile,
      NOTARY_TRUST: notaryTrust,
      NOTARY_ROOT_PASSPHRASE: TEST_PASSPHRASES.root,
      NOTARY_TARGETS_PASSPHRASE: TEST_PASSPHRASES.targets,
      NOTARY_SNAPSHOT_PASSPHRASE: TEST_PASSPHRASES.snapshot,
    });
    expect(out).toMatch(/^1\.0$/m);
  }, 400_000);
});
