// The changelist is notary's on-disk format, so notary and signet can share a trust dir.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Changelist } from '../../src/client/index.js';

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
      { type: 'target', action: 'create', role: 'targets', path: 'v1', meta },
      { type: 'target', action: 'delete', role: 'targets', path: 'v0' },
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
    expect(c?.change).toEqual({
      action: 'create',
      role: 'targets/releases',
      type: 'delegation',
      path: '',
      edit: { threshold: 1, addPaths: [''] },
    });
  });

  it('omits empty delegation fields as Go omitempty does', async () => {
    const cl = new Changelist(dir, 'g/h');
    await cl.add([
      { type: 'delegation', action: 'create', role: 'targets/a', path: '', edit: { addPaths: [''] } },
      {
        type: 'delegation',
        action: 'update',
        role: 'targets/a',
        path: '',
        edit: { removeKeys: [], clearPaths: false },
      },
    ]);
    const data = await Promise.all(
      (await readdir(cl.dir)).sort().map(async (f) => {
        const b64 = JSON.parse(await readFile(path.join(cl.dir, f), 'utf8')).data as string;
        return Buffer.from(b64, 'base64').toString();
      }),
    );
    expect(data).toEqual(['{"add_paths":[""]}', '{}']);
  });

  it('writes a root key change as notary TUFRootData and reads it back', async () => {
    const cl = new Changelist(dir, 'g/h');
    const keys = [{ keytype: 'ecdsa' as const, keyval: { private: null, public: 'AAAA' } }];
    await cl.add([{ type: 'role', action: 'create', role: 'root', path: 'targets', baseRole: 'targets', keys }]);
    const [f] = await readdir(cl.dir);
    const raw = JSON.parse(await readFile(path.join(cl.dir, f!), 'utf8'));
    expect(Buffer.from(raw.data, 'base64').toString()).toBe(
      '{"keys":[{"keytype":"ecdsa","keyval":{"private":null,"public":"AAAA"}}],"role":"targets"}',
    );
    expect((await cl.list())[0]?.change).toEqual({
      type: 'role',
      action: 'create',
      role: 'root',
      path: 'targets',
      baseRole: 'targets',
      keys,
    });
  });

  it('refuses, naming the file, a change whose data is not what its type needs (MALFORMED_METADATA)', async () => {
    const cl = new Changelist(dir, 'g/h');
    await cl.add([]);
    const bad = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64');
    const cases = [
      { action: 'create', role: 'targets', type: 'target', path: 'v1', data: null },
      { action: 'create', role: 'targets', type: 'target', path: 'v1', data: bad({ length: -1, hashes: {} }) },
      { action: 'create', role: 'targets/a', type: 'delegation', path: '', data: bad({ threshold: 'one' }) },
      { action: 'create', role: 'root', type: 'role', path: 'x', data: bad({ keys: [], role: 'targets/a' }) },
      { action: 'create', role: 'targets', type: 'witness', path: '', data: null },
      { action: 'rename', role: 'targets', type: 'target', path: 'v1', data: null },
    ];
    for (const [i, c] of cases.entries()) {
      const file = path.join(cl.dir, `0000000000000000000${i}_x.change`);
      await writeFile(file, JSON.stringify(c));
      await expect(cl.list()).rejects.toMatchObject({
        code: 'MALFORMED_METADATA',
        message: expect.stringContaining(file),
        fix: expect.stringMatching(/--clear/),
      });
      await rm(file);
    }
  });

  it('clears only the published changes', async () => {
    const cl = new Changelist(dir, 'g/h');
    await cl.add([{ type: 'target', action: 'delete', role: 'targets', path: 'a' }]);
    const first = await cl.list();
    await cl.add([{ type: 'target', action: 'delete', role: 'targets', path: 'b' }]);
    await cl.clear(first.map((f) => f.file));
    expect((await cl.list()).map((c) => c.change.path)).toEqual(['b']);
  });

  it('refuses a GUN that would leave the trust dir', () => {
    expect(() => new Changelist(dir, '../../etc')).toThrow(/not a valid repository name/);
  });
});
