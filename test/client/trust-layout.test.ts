/**
 * Issue 16 finding 8: in the trust dir (notary's layout `tuf/<gun>/metadata/<role>.json`,
 * `tuf/<gun>/changelist/`, shared with notary and docker) no GUN and no role can share a file, and
 * `delete` touches only its own GUN.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Changelist, gunDir } from '../../src/client/index.js';
import { parseGun } from '../../src/tuf/index.js';
import { MetadataCache } from '../../src/updater/index.js';
import { signetCli } from '../cli/signet.js';
import { thrownError } from '../helpers/errors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'signet-layout-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('trust-dir layout', () => {
  it('a GUN whose folder would lie in another GUN’s metadata/ or changelist/ is refused', async () => {
    const trust = path.join(dir, 'collide');
    // `targets/metadata/root` of r.example.com/app is tuf/r.example.com/app/metadata/targets/metadata/root.json …
    const app = new MetadataCache(trust, parseGun('r.example.com/app'));
    await app.write('targets/metadata/root', Buffer.from('{"delegation":true}'));
    expect(app.fileFor('targets/metadata/root')).toBe(
      path.join(trust, 'tuf', 'r.example.com', 'app', 'metadata', 'targets', 'metadata', 'root.json'),
    );
    // … which is where root.json of r.example.com/app/metadata/targets would be: that GUN is refused
    for (const gun of [
      'r.example.com/app/metadata/targets',
      'r.example.com/app/changelist/x',
      'r.example.com/metadata',
      'r.example.com/a/b/changelist',
    ]) {
      for (const open of [
        () => new MetadataCache(trust, parseGun(gun)),
        () => gunDir(trust, gun),
        () => new Changelist(trust, gun),
      ]) {
        const err = thrownError(open);
        expect(err.code, gun).toBe('INVALID_GUN');
        expect(err.fix).toMatch(/metadata.*changelist/);
      }
    }
    expect(await readFile(app.fileFor('targets/metadata/root'), 'utf8')).toBe('{"delegation":true}');
    // a registry host of that name is fine: nothing lives above it
    expect(() => new MetadataCache(trust, parseGun('metadata/app'))).not.toThrow();
    expect(() => new MetadataCache(trust, parseGun('docker.io/library/metadata-tools'))).not.toThrow();
  });

  it('signet refuses such a GUN on the command line (INVALID_GUN, exit 2)', async () => {
    const signet = signetCli({ trustDir: path.join(dir, 'cli-refuse', 'trust') });
    const r = await signet.run(['delete', 'r.example.com/app/metadata/targets']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"metadata" would put its trust data inside/);
  });

  it('signet delete r/app keeps the trust data of r/app/team/tool (and of its siblings)', async () => {
    const trust = path.join(dir, 'delete', 'trust');
    const tuf = (...p: string[]): string => path.join(trust, 'tuf', 'r.example.com', ...p);
    const files = {
      own: [
        tuf('app', 'metadata', 'root.json'),
        tuf('app', 'metadata', 'targets', 'releases.json'),
        tuf('app', 'changelist', '0001_x.change'),
      ],
      kept: [
        tuf('app', 'team', 'tool', 'metadata', 'root.json'),
        tuf('app', 'team', 'tool', 'changelist', '0002_y.change'),
        tuf('app2', 'metadata', 'root.json'),
      ],
    };
    for (const f of [...files.own, ...files.kept]) {
      await mkdir(path.dirname(f), { recursive: true });
      await writeFile(f, '{}');
    }
    const signet = signetCli({ trustDir: trust });
    await signet.ok(['delete', 'r.example.com/app']);
    for (const f of files.own) expect(existsSync(f), f).toBe(false);
    for (const f of files.kept) expect(existsSync(f), f).toBe(true);
    // deleting the nested GUN leaves nothing of r/app behind
    await signet.ok(['delete', 'r.example.com/app/team/tool']);
    expect(existsSync(tuf('app', 'team', 'tool', 'metadata'))).toBe(false);
    await signet.ok(['delete', 'r.example.com/app2']);
    expect(existsSync(tuf('app2'))).toBe(false);
  });
});
