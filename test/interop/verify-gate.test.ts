/**
 * `signet verify` as a deploy gate, against a real docker-registry 2.8 (images pushed with skopeo) and
 * Signet's own trust server: a tag re-pointed in the registry after signing is refused with TAG_MOVED
 * (exit 8) showing both digests; with the trust server stopped, the cached trust data is used only
 * within --max-stale / the policy's maxStale or with --offline, and the output says so (else
 * TRUST_STALE, exit 9). `signer remove` lists the tags whose signed digest changed.
 */
import { utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signetCli, type SignetCli } from '../cli/signet.js';
import { startClientPeers, type ClientPeers } from '../client/servers.js';
import { pushImage, type PushedImage } from '../harness/push-image.js';

/** The JSON result on stdout (pretty-printed), or the one-line JSON error among stderr's lines. */
function jsonOf(text: string): Record<string, unknown> {
  const t = text.trim();
  if (t.startsWith('{') && t.endsWith('}')) return JSON.parse(t) as Record<string, unknown>;
  return JSON.parse(t.split('\n').find((l) => l.startsWith('{')) ?? t) as Record<string, unknown>;
}

describe('signet verify as a deploy gate (docker-registry 2.8, signet server)', () => {
  let peers: ClientPeers | undefined;
  let gun: string;
  let v1: PushedImage;
  let v2: PushedImage;
  let signer: SignetCli;
  let verifier: SignetCli;

  beforeAll(async () => {
    peers = await startClientPeers('signet-server', 'signet-verify-gate-');
    const { dir, registry, server } = peers;
    v1 = await pushImage(registry.host, 'gate/app', 'v1');
    v2 = await pushImage(registry.host, 'gate/app', 'v2');
    gun = v1.gun;
    signer = signetCli({ server: server.url, caFile: server.caFile, trustDir: path.join(dir, 'signer') });
    await signer.ok(['sign', `${gun}:v1`, `${gun}:v2`]);
    verifier = signetCli({ server: server.url, caFile: server.caFile, trustDir: path.join(dir, 'verifier') });
  }, 240_000);

  afterAll(async () => {
    await peers?.stop();
  });

  it('verifies a signed tag whose registry tag points at the signed digest (fresh trust data)', async () => {
    const r = await verifier.run(['--tofu', 'verify', '--json', `${gun}:v1`]);
    expect(r.code, r.stderr).toBe(0);
    expect(jsonOf(r.stdout)).toMatchObject({
      verified: true,
      digest: v1.digest,
      registryTag: 'matches',
      trust: { source: 'fresh' },
    });
    const human = await verifier.run(['verify', `${gun}:v1`]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stderr).toContain('its tag points at it; trust data fresh');
  });

  it('refuses a tag re-pointed in the registry after signing: TAG_MOVED, exit 8, both digests', async () => {
    const moved = await pushImage(peers!.registry.host, 'gate/app', 'v1', { format: 'oci' }); // same tag, other bytes
    expect(moved.digest).not.toBe(v1.digest);
    const r = await verifier.run(['verify', `${gun}:v1`]);
    expect(r.code).toBe(8);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(v1.digest);
    expect(r.stderr).toContain(moved.digest);
    const j = await verifier.run(['verify', '--json', `${gun}:v1`]);
    expect(j.code).toBe(8);
    expect(jsonOf(j.stderr)).toMatchObject({ error: { code: 'TAG_MOVED' } });
    // --trust-only does not look at the registry: the signed digest is still the answer
    const trustOnly = await verifier.run(['verify', '--trust-only', `${gun}:v1`]);
    expect(trustOnly.code, trustOnly.stderr).toBe(0);
    expect(trustOnly.stdout.trim()).toBe(v1.digest);
  }, 120_000);

  it('signer remove says which tags now resolve differently (here: a tag only the signer released)', async () => {
    const v3 = await pushImage(peers!.registry.host, 'gate/app', 'v3');
    const keyDir = path.join(signer.trustDir, '..', 'keys');
    await signer.ok(['key', 'generate', 'erin', '--dir', keyDir]);
    await signer.ok(['signer', 'add', 'erin', gun, '--key', path.join(keyDir, 'erin.pub')]);
    await signer.ok(['sign', `${gun}:v3`]); // into targets/releases + targets/erin
    const r = await signer.ok(['signer', 'remove', 'erin', gun]);
    expect(r.stdout).toContain(`v3: ${v3.digest} → now unsigned`);
    expect(r.stdout).not.toContain('v2:');
    const j = await signer.ok(['signer', 'remove', 'erin', gun, '--json']).catch((e: Error) => e);
    expect(j).toBeInstanceOf(Error); // the signer is gone now
  }, 120_000);

  it('trust server unreachable: cached data only within the allowance or --offline, and said so', async () => {
    await peers!.server.stop();
    const refused = await verifier.run(['verify', '--timeout', '3000', '--retries', '0', `${gun}:v2`]);
    expect(refused.code, refused.stderr).toBe(9); // before: "Verified", exit 0
    expect(refused.stderr).toContain('--max-stale');

    const within = await verifier.run(['verify', '--retries', '0', '--max-stale', '1h', '--json', `${gun}:v2`]);
    expect(within.code, within.stderr).toBe(0);
    const wj = jsonOf(within.stdout);
    expect(wj).toMatchObject({ verified: true, digest: v2.digest, trust: { source: 'cached' } });
    expect((wj.trust as { ageSeconds: number }).ageSeconds).toBeLessThan(3600);
    const human = await verifier.run(['verify', '--retries', '0', '--max-stale', '1h', `${gun}:v2`]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stderr).toMatch(/trust data cached \(\d+[smh]/);

    // age the cache: last confirmed two hours ago
    const ts = path.join(verifier.trustDir, 'tuf', ...gun.split('/'), 'metadata', 'timestamp.json');
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    await utimes(ts, twoHoursAgo, twoHoursAgo);
    const past = await verifier.run(['verify', '--retries', '0', '--max-stale', '1h', '--json', `${gun}:v2`]);
    expect(past.code).toBe(9);
    expect(jsonOf(past.stderr)).toMatchObject({ error: { code: 'TRUST_STALE' } });
    expect(past.stderr).toContain('2h');

    const policy = path.join(verifier.trustDir, '..', 'policy.json');
    await writeFile(policy, JSON.stringify({ version: 1, rules: [{ repository: `${gun}`, maxStale: '3h' }] }));
    const byPolicy = await verifier.run(['verify', '--retries', '0', '--policy', policy, '--json', `${gun}:v2`]);
    expect(byPolicy.code, byPolicy.stderr).toBe(0);
    expect(jsonOf(byPolicy.stdout)).toMatchObject({ trust: { source: 'cached' } });
    expect((jsonOf(byPolicy.stdout).trust as { ageSeconds: number }).ageSeconds).toBeGreaterThanOrEqual(7200);

    const offline = await verifier.run(['verify', '--offline', '--json', `${gun}:v2`]);
    expect(offline.code, offline.stderr).toBe(0);
    expect(jsonOf(offline.stdout)).toMatchObject({
      verified: true,
      registryChecked: false,
      trust: { source: 'cached' },
    });
  }, 120_000);
});
