// Exit codes a pipeline can act on (docs/client.md), with messages that say what to do.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../harness/ports.js';
import { pushImages } from '../harness/push-image.js';
import type { TestRegistry } from '../harness/registry.js';
import { signetCli, type SignetCli } from '../cli/signet.js';
import { startClientPeers, type ClientPeers, type TrustServer } from '../client/servers.js';

describe('client errors and exit codes', () => {
  let registry: TestRegistry;
  let server: TrustServer;
  let peers: ClientPeers | undefined;
  let dir: string;
  let gun: string;
  let signet: SignetCli;

  beforeAll(async () => {
    peers = await startClientPeers('signet-server', 'signet-client-err-');
    ({ dir, registry, server } = peers);
    gun = `${registry.host}/err/app`;
    await pushImages(registry.host, 'err/app', ['1.0']);
    signet = signetCli({ server: server.url, caFile: server.caFile, trustDir: path.join(dir, 'trust') });
  });

  afterAll(async () => {
    await peers?.stop();
  });

  it('exit 3 for a repository without trust data', async () => {
    const r = await signet.run(['--tofu', 'inspect', gun]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/does not have trust data/);
  });

  it('exit 3 for a tag the registry does not have, before anything is signed', async () => {
    const r = await signet.run(['sign', `${gun}:nope`]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/nope/);
  });

  it('exit 3 when revoking a tag that is not signed', async () => {
    await signet.ok(['sign', `${gun}:1.0`]);
    const r = await signet.run(['revoke', `${gun}:2.0`]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/2\.0 is not signed/);
  });

  it('exit 4 for a root nobody pinned, with the pin command in the message', async () => {
    const other = signetCli({ server: server.url, caFile: server.caFile, trustDir: path.join(dir, 'other') });
    const r = await other.run(['inspect', gun]);
    expect(r.code).toBe(4);
    // the pin command repeats the global flags given, so it pins this trust dir
    expect(r.stderr).toContain(
      `signet -d ${other.trustDir} --server ${server.url} --tls-ca ${server.caFile} pin ${gun} `,
    );
  });

  it('exit 6 when the trust server cannot be reached', async () => {
    // (with a cache, reads fall back to it like notary's; a fresh trust dir must reach the server)
    const down = signetCli({ server: `https://127.0.0.1:${await freePort()}`, trustDir: path.join(dir, 'fresh') });
    const r = await down.run(['--timeout', '3000', 'inspect', gun]);
    expect(r.code).toBe(6);
  });

  it('exit 2 for usage errors', async () => {
    expect((await signet.run(['sign', gun])).code).toBe(2); // no tag
    expect((await signet.run(['revoke', gun])).code).toBe(2); // all tags without --yes
    expect((await signet.run(['frobnicate'])).code).toBe(2);
    expect((await signet.run(['signer', 'add', 'releases', gun, '--key', '/dev/null'])).code).not.toBe(0);
  });

  it('--json errors are machine-readable', async () => {
    const r = await signet.run(['inspect', `${registry.host}/err/none`, '--json']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stderr)).toMatchObject({ error: { code: 'REPOSITORY_NOT_FOUND' } });
  });

  it('signs many tags in one call and one publish', async () => {
    const many = `${registry.host}/err/many`;
    const tags = Array.from({ length: 40 }, (_, i) => `t${i}`);
    const pushed = await pushImages(registry.host, 'err/many', tags);
    const started = Date.now();
    const r = await signet.ok(['sign', ...tags.map((t) => `${many}:${t}`), '--json']);
    const res = JSON.parse(r.stdout) as { tags: { tag: string; digest: string }[] }[];
    expect(res[0]?.tags.map((t) => t.digest)).toEqual(pushed.map((p) => p.digest));
    expect(Date.now() - started).toBeLessThan(30_000);
    const insp = JSON.parse((await signet.ok(['inspect', many])).stdout) as { SignedTags: unknown[] }[];
    expect(insp[0]?.SignedTags).toHaveLength(40);
  });
});
