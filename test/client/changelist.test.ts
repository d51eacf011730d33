// The changelist is notary's on-disk format, so notary and signet can share a trust dir.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Changelist, delegationPayload, targetPayload } from '../../src/client/index.js';

describe('changelist', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'signet-cl-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('writes <%020d unixnano>_<uuid>.change files with base64 data, in order', async () => {
    const cl = new Changelist(dir, 'example.com/a/b');
    const meta = { hashes: { sha256: Buffer.alloc(32, 1).toString('base64') }, length: 42 };
    await cl.add([
      { action: 'create', role: 'targets', type: 'target', path: 'v1', data: targetPayload(meta) },
      { action: 'delete', role: 'targets', type: 'target', path: 'v0', data: null },
    ]);
    const files = (await readdir(cl.dir)).sort();
    expect(cl.dir).toBe(path.join(dir, 'tuf', 'example.com', 'a', 'b', 'changelist'));
    expect(files).toHaveLength(2);
    for (const f of files)
      expect(f).toMatch(/^\d{20}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.change$/);
    const first = JSON.parse(await readFile(path.join(cl.dir, files[0]!), 'utf8'));
    expect(first).toEqual({
      action: 'create',
      role: 'targets',
      type: 'target',
      path: 'v1',
      data: Buffer.from('{"length":42,"hashes":{"sha256":"' + meta.hashes.sha256 + '"}}').toString('base64'),
    });
    const second = JSON.parse(await readFile(path.join(cl.dir, files[1]!), 'utf8'));
    expect(second.data).toBeNull();
    expect((await cl.list()).map((c) => c.change.path)).toEqual(['v1', 'v0']);
  });

  it('reads a change file written by notary', async () => {
    const cl = new Changelist(dir, 'example.com/a/b');
    await cl.add([]);
    const data = Buffer.from('{"threshold":1,"add_paths":[""]}').toString('base64');
    await writeFile(
      path.join(cl.dir, '01732500000000000000_1b4e28ba-2fa1-11d2-883f-0016d3cca427.change'),
      `{"action":"create","role":"targets/releases","type":"delegation","path":"","data":"${data}"}`,
    );
    const [c] = await cl.list();
    expect(c?.change).toMatchObject({ action: 'create', role: 'targets/releases', type: 'delegation', path: '' });
    expect(JSON.parse(c!.change.data!.toString())).toEqual({ threshold: 1, add_paths: [''] });
  });

  it('omits empty delegation fields as Go omitempty does', () => {
    expect(delegationPayload({ add_paths: [''] }).toString()).toBe('{"add_paths":[""]}');
    expect(delegationPayload({ remove_keys: [], clear_paths: false }).toString()).toBe('{}');
  });

  it('clears only the published changes', async () => {
    const cl = new Changelist(dir, 'g/h');
    await cl.add([{ action: 'delete', role: 'targets', type: 'target', path: 'a', data: null }]);
    const first = await cl.list();
    await cl.add([{ action: 'delete', role: 'targets', type: 'target', path: 'b', data: null }]);
    await cl.clear(first.map((f) => f.file));
    expect((await cl.list()).map((c) => c.change.path)).toEqual(['b']);
  });

  it('refuses a GUN that would leave the trust dir', () => {
    expect(() => new Changelist(dir, '../../etc')).toThrow(/not a valid repository name/);
  });
});
