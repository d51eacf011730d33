// Issue 16 findings 6 and 7 through the built CLI: `key export -o` into a shared sticky folder
// cannot be captured, and terminal escapes in key headers never reach the terminal raw.
import { closeSync, openSync, readSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeControl } from '../../src/cli/output.js';
import { encodeKeyPem, generatePrivateKey } from '../../src/keys/index.js';
import { signetCli, type SignetCli } from './signet.js';

const ESC = '\u001b]0;owned\u0007\u001b[31m';
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;

describe('key files through the CLI', () => {
  let dir: string;
  let signet: SignetCli;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'signet-keyfiles-'));
    signet = signetCli({ trustDir: path.join(dir, 'trust') });
    await mkdir(path.join(dir, 'pub'));
    await signet.ok(['key', 'generate', 'alice', '--dir', path.join(dir, 'pub')]);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('key export -o into a sticky shared folder: a pre-created target does not capture the key', async () => {
    const shared = path.join(dir, 'shared');
    await mkdir(shared);
    await chmod(shared, 0o1777);
    const out = path.join(shared, 'keys.pem');
    // the attacker creates the output file (world-writable, their own) and keeps it open
    await writeFile(out, '');
    await chmod(out, 0o666);
    if (process.getuid?.() === 0) await chown(out, 65534, 65534);
    const fd = openSync(out, 'r');
    try {
      await signet.ok(['key', 'export', '-o', out]);
      const buf = Buffer.alloc(4096);
      expect(readSync(fd, buf, 0, buf.length, 0)).toBe(0);
    } finally {
      closeSync(fd);
    }
    const st = await stat(out);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.uid).toBe(process.getuid?.());
    expect(await readFile(out, 'utf8')).toContain('role: alice');
    expect(await readdir(shared)).toEqual(['keys.pem']); // no temp file left behind
  });

  it('key import refuses a PEM whose role header carries terminal escapes; the error is escaped', async () => {
    const file = path.join(dir, 'hostile.pem');
    await writeFile(file, encodeKeyPem(generatePrivateKey(), { role: `bob${ESC}` }, ''), { mode: 0o600 });
    const r = await signet.run(['key', 'import', file]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/invalid key role/);
    expect(r.stderr).not.toMatch(RAW_CONTROL);
    const list = await signet.ok(['key', 'list', '--json']);
    expect((JSON.parse(list.stdout) as { role: string }[]).map((k) => k.role)).toEqual(['alice']);
  });

  it('key list escapes control characters of a key file placed in the trust dir by other means', async () => {
    const key = generatePrivateKey();
    const role = `mallory${ESC}\u009b2J\u202e`;
    await writeFile(
      path.join(signet.trustDir, 'private', `${key.publicKey.canonicalId}.key`),
      encodeKeyPem(key, { role }, 'x-pass-123'),
      { mode: 0o600 },
    );
    const human = await signet.ok(['key', 'list']);
    expect(human.stdout).not.toMatch(RAW_CONTROL);
    expect(human.stdout).toContain(escapeControl(role));
    expect(human.stdout).toContain('mallory\\u001b]0;owned\\u0007');
    // JSON stays valid and still says exactly what the header holds
    const json = await signet.ok(['key', 'list', '--json']);
    expect(json.stdout).not.toMatch(RAW_CONTROL);
    expect((JSON.parse(json.stdout) as { role: string }[]).map((k) => k.role).sort()).toEqual(['alice', role].sort());
  });
});

describe('escapeControl', () => {
  it('escapes C0 (not newline/tab), DEL, C1 and bidi controls, and nothing else', () => {
    expect(escapeControl('a\u001b[2Jb\r\u0007\u007f\u009b\u202e\n\tü✓')).toBe(
      'a\\u001b[2Jb\\u000d\\u0007\\u007f\\u009b\\u202e\n\tü✓',
    );
  });
});
