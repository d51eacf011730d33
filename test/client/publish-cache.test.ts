// After a publish the client keeps a copy of what it uploaded beside its metadata cache, so the next
// update reads those bytes from disk when the new snapshot lists their hashes: adding a tag to a large
// repository does not download its whole targets.json again. The cache itself stays the set the
// cached snapshot lists (an offline read after a publish still works). Against Signet's server
// in-process (plain HTTP).
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Repository, metadataDir, roleCachePath, signTags } from '../../src/client/index.js';
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

interface Client {
  repo: Repository;
  trustDir: string;
  remote: NotaryRemote;
  /** the role of every metadata file downloaded */
  fetched: string[];
}

function client(gun: string, name: string, opts: { tofu?: boolean; offline?: boolean } = {}): Client {
  const trustDir = path.join(tmp, name);
  const remote = new NotaryRemote({ serverUrl: server.url, retries: 0 });
  remotes.push(remote);
  const fetched: string[] = [];
  const getRole = remote.getRole.bind(remote);
  remote.getRole = (g, role, o) => {
    fetched.push(role);
    return getRole(g, role, o);
  };
  const keyStore = new TrustDirKeyStore(trustDir, constantPassphraseRetriever('publish-cache-test-passphrase'));
  const pins = new PinStore(trustDir);
  const reader = new Updater({ gun, remote, trustDir, pins, ...opts });
  return { repo: new Repository({ gun, trustDir, remote, keyStore, reader, pins }), trustDir, fetched, remote };
}

const tagsOf = async (c: Client): Promise<string[][]> =>
  listSignedTags(await c.repo.read()).map((t) => [t.tag, t.digest]);

describe('the metadata cache after a publish', () => {
  it('the next sign reads the uploaded targets.json from disk; offline reads still find a consistent cache', async () => {
    const gun = 'registry.test/cache/after-publish';
    const c = client(gun, 'signer');
    await signTags(c.repo, [{ tag: 'v1', digest: digestOf(1), size: 10 }]);
    c.fetched.length = 0;
    await signTags(c.repo, [{ tag: 'v2', digest: digestOf(2), size: 20 }]);
    expect(c.fetched).not.toContain('targets');
    expect(c.fetched).toEqual(expect.arrayContaining(['timestamp', 'snapshot']));
    // the copy read from disk became the cached file (v1); the copy of v2 waits beside it
    const served = await c.remote.getRole(gun, 'targets', { maxBytes: 1 << 20 });
    expect(await readFile(path.join(metadataDir(c.trustDir, gun), '.uploaded', 'targets.json'))).toEqual(served);
    expect(await readFile(roleCachePath(c.trustDir, gun, 'targets'))).not.toEqual(served);

    // offline, the cache is the set its snapshot lists: the state of the last read (before v2)
    const offline = client(gun, 'signer', { offline: true });
    expect(await tagsOf(offline)).toEqual([['v1', digestOf(1)]]);
    expect(offline.fetched).toEqual([]);

    // what the signer read from disk and published is what a fresh client verifies
    const other = client(gun, 'reader', { tofu: true });
    expect(await tagsOf(other)).toEqual([
      ['v1', digestOf(1)],
      ['v2', digestOf(2)],
    ]);
    c.fetched.length = 0;
    expect(await tagsOf(c)).toEqual(await tagsOf(other));
    expect(c.fetched).not.toContain('targets');
  });

  it('a refused publish leaves the cache as it was and no uploaded copy behind', async () => {
    const gun = 'registry.test/cache/refused';
    const c = client(gun, 'refused');
    await signTags(c.repo, [{ tag: 'v1', digest: digestOf(3), size: 30 }]);
    await c.repo.read();
    const before = await readFile(roleCachePath(c.trustDir, gun, 'targets'));
    c.remote.publish = () => Promise.reject(new Error('refused by the test'));
    await expect(signTags(c.repo, [{ tag: 'v2', digest: digestOf(4), size: 40 }])).rejects.toThrow(
      'refused by the test',
    );
    expect(await readFile(roleCachePath(c.trustDir, gun, 'targets'))).toEqual(before);
    await expect(access(path.join(metadataDir(c.trustDir, gun), '.uploaded', 'targets.json'))).rejects.toThrow();
  });
});
