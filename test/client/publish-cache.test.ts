// After a publish the client keeps the roles it uploaded in its metadata cache, so the next update
// reads them from disk when the new snapshot lists their hashes: adding a tag to a large repository
// does not download its whole targets.json again. Against Signet's server in-process (plain HTTP).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Repository, roleCachePath, signTags } from '../../src/client/index.js';
import { TrustDirKeyStore, constantPassphraseRetriever } from '../../src/keys/index.js';
import { NotaryRemote } from '../../src/remote/index.js';
import { PinStore, Updater, listSignedTags } from '../../src/updater/index.js';
import { startTestServer, type StartedServer } from '../server/start-helper.js';

const digestOf = (fill: number): string => `sha256:${Buffer.alloc(32, fill).toString('hex')}`;

let server: StartedServer;
let tmp: string;
const remotes: NotaryRemote[] = [];

beforeAll(async () => {
  server = await startTestServer({ insecureHttp: true });
  tmp = await mkdtemp(path.join(os.tmpdir(), 'signet-publish-cache-'));
});

afterAll(async () => {
  await Promise.allSettled(remotes.map((r) => r.close()));
  await server?.dispose();
  if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
});

/** A client whose remote records the role of every metadata file it downloads. */
function client(
  gun: string,
  name: string,
  tofu = false,
): { repo: Repository; trustDir: string; fetched: string[]; remote: NotaryRemote } {
  const trustDir = path.join(tmp, name);
  const remote = new NotaryRemote({ serverUrl: server.url, retries: 0 });
  remotes.push(remote);
  const fetched: string[] = [];
  const getRole = remote.getRole.bind(remote);
  remote.getRole = (g, role, opts) => {
    fetched.push(role);
    return getRole(g, role, opts);
  };
  const keyStore = new TrustDirKeyStore(trustDir, constantPassphraseRetriever('publish-cache-test-passphrase'));
  const pins = new PinStore(trustDir);
  const reader = new Updater({ gun, remote, trustDir, pins, tofu });
  return { repo: new Repository({ gun, trustDir, remote, keyStore, reader, pins }), trustDir, fetched, remote };
}

describe('the metadata cache after a publish', () => {
  it('holds the uploaded targets.json, so the next sign downloads only timestamp and snapshot', async () => {
    const gun = 'registry.test/cache/after-publish';
    const c = client(gun, 'signer');
    await signTags(c.repo, [{ tag: 'v1', digest: digestOf(1), size: 10 }]);
    const served = await c.remote.getRole(gun, 'targets', { maxBytes: 1 << 20 });
    expect(await readFile(roleCachePath(c.trustDir, gun, 'targets'))).toEqual(served);

    c.fetched.length = 0;
    await signTags(c.repo, [{ tag: 'v2', digest: digestOf(2), size: 20 }]);
    expect(c.fetched).not.toContain('targets');
    expect(c.fetched).toEqual(expect.arrayContaining(['timestamp', 'snapshot']));
    // what it read from its cache and published is what a fresh client verifies
    const other = client(gun, 'reader', true);
    const tags = listSignedTags(await other.repo.read()).map((t) => [t.tag, t.digest]);
    expect(tags).toEqual([
      ['v1', digestOf(1)],
      ['v2', digestOf(2)],
    ]);
    expect(other.fetched).toContain('targets');
  });

  it('keeps a refused publish out of the cache (it would be read as a rollback floor)', async () => {
    const gun = 'registry.test/cache/refused';
    const c = client(gun, 'refused');
    await signTags(c.repo, [{ tag: 'v1', digest: digestOf(3), size: 30 }]);
    const before = await readFile(roleCachePath(c.trustDir, gun, 'targets'));
    c.remote.publish = () => Promise.reject(new Error('refused by the test'));
    await expect(signTags(c.repo, [{ tag: 'v2', digest: digestOf(4), size: 40 }])).rejects.toThrow(
      'refused by the test',
    );
    expect(await readFile(roleCachePath(c.trustDir, gun, 'targets'))).toEqual(before);
  });
});
