// Issue 16 finding 6: the one atomic write (src/fs) cannot be captured through a shared sticky
// folder: no predictable temp name, exclusive create, the final mode set at creation, no leftovers.
import { closeSync, openSync, readSync } from 'node:fs';
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/fs/index.js';

const SECRET = '-----BEGIN ENCRYPTED PRIVATE KEY-----\nsecret\n-----END ENCRYPTED PRIVATE KEY-----\n';
// a different owner for the "attacker's" files where the tests run as root (nobody), else ourselves
const OTHER_UID = process.getuid?.() === 0 ? 65534 : undefined;

function readFd(fd: number): string {
  const buf = Buffer.alloc(4096);
  const n = readSync(fd, buf, 0, buf.length, 0);
  return buf.subarray(0, n).toString('utf8');
}

describe('writeFileAtomic', () => {
  let base: string;
  let shared: string;

  beforeAll(async () => {
    base = await mkdtemp(path.join(os.tmpdir(), 'signet-atomic-'));
    shared = path.join(base, 'shared');
    await mkdir(shared);
    await chmod(shared, 0o1777); // like /tmp
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  async function plant(file: string, mode = 0o666): Promise<void> {
    await writeFile(file, '');
    await chmod(file, mode);
    if (OTHER_UID !== undefined) await chown(file, OTHER_UID, OTHER_UID);
  }

  it('is not captured by files or symlinks planted at predictable temp names or at the target', async () => {
    const out = path.join(shared, 'keys.pem');
    // the temp names earlier versions used (`${file}.${pid}.tmp`, `.${name}.tmp`) and a symlink
    const planted = [`${out}.${process.pid}.tmp`, path.join(shared, '.keys.pem.tmp')];
    for (const p of planted) await plant(p);
    const loot = path.join(base, 'attacker-loot');
    await plant(loot);
    await symlink(loot, `${out}.${process.pid + 1}.tmp`);
    // the target itself is pre-created by the attacker, who keeps it open to read what lands there
    await plant(out);
    const fd = openSync(out, 'r');
    try {
      await writeFileAtomic(out, SECRET);
      expect(readFd(fd)).toBe(''); // the attacker's inode never received the secret
    } finally {
      closeSync(fd);
    }
    for (const p of planted) expect(await readFile(p, 'utf8')).toBe('');
    expect(await readFile(loot, 'utf8')).toBe('');
    const st = await stat(out);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.uid).toBe(process.getuid?.());
    expect(await readFile(out, 'utf8')).toBe(SECRET);
  });

  it('replaces a symlink at the target instead of writing through it', async () => {
    const loot = path.join(base, 'loot-2');
    await plant(loot);
    const out = path.join(shared, 'linked.pem');
    await symlink(loot, out);
    await writeFileAtomic(out, SECRET);
    expect((await lstat(out)).isSymbolicLink()).toBe(false);
    expect(await readFile(loot, 'utf8')).toBe('');
    expect((await stat(out)).mode & 0o777).toBe(0o600);
  });

  it('sets the requested mode exactly whatever the umask, and leaves no temp file on error', async () => {
    const dir = path.join(base, 'modes');
    const old = process.umask(0o077);
    try {
      await writeFileAtomic(path.join(dir, 'pub.pem'), 'x', { mode: 0o644, createDir: true });
    } finally {
      process.umask(old);
    }
    expect((await stat(path.join(dir, 'pub.pem'))).mode & 0o777).toBe(0o644);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    // rename onto a non-empty folder fails: the temp file must be gone
    await mkdir(path.join(dir, 'busy'));
    await writeFile(path.join(dir, 'busy', 'f'), '');
    await expect(writeFileAtomic(path.join(dir, 'busy'), SECRET)).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(['busy', 'pub.pem']);
  });

  it('does not create a missing folder unless asked', async () => {
    await expect(writeFileAtomic(path.join(base, 'nope', 'f'), 'x')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
