/**
 * `signet target add REPOSITORY --from-file FILE [--publish]`: many targets with known sizes and
 * digests in one process (notary needs one `notary addhash` process per tag). A bad list stages
 * nothing; `--publish` signs and uploads them (and what was staged before) in the same process.
 * Real CLI against a real Signet server.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../harness/proc.js';
import { startTestServer, type StartedServer } from '../server/start-helper.js';
import { passphraseEnv, SIGNET_MAIN, signetCli, type SignetCli } from './signet.js';

const GUN = 'registry.example.com/batch/app';
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

let dir: string;
let server: StartedServer;
let cli: SignetCli;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'signet-target-file-'));
  server = await startTestServer({ insecureHttp: true });
  cli = signetCli({ server: server.url, trustDir: path.join(dir, 'trust') });
  await cli.ok(['init', GUN]);
  await cli.ok(['publish', GUN]);
});
afterAll(async () => {
  await server?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function listFile(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

async function listed(): Promise<Map<string, { digest: string; size: number; role: string }>> {
  const r = await cli.ok(['target', 'list', GUN, '--json']);
  const rows = JSON.parse(r.stdout) as { name: string; digest: string; size: number; role: string }[];
  return new Map(rows.map((t) => [t.name, { digest: t.digest, size: t.size, role: t.role }]));
}

async function pending(): Promise<{ action: string; path: string; role: string }[]> {
  return JSON.parse((await cli.ok(['status', GUN, '--json'])).stdout) as {
    action: string;
    path: string;
    role: string;
  }[];
}

describe('signet target add --from-file', () => {
  it('stages every listed target (comments, blank lines and sha256: prefixes allowed); publish signs them all', async () => {
    const file = listFile(
      'three.txt',
      `# tag size sha256\nv1 100 ${sha('a')}\n\nv2 200 sha256:${sha('b')}\n  v3\t300   ${sha('c').toUpperCase()}\n`,
    );
    const r = await cli.ok(['target', 'add', GUN, '--from-file', file]);
    expect(r.stdout).toContain(`Staged 3 targets for ${GUN}`);
    expect((await pending()).map((c) => [c.action, c.path, c.role])).toEqual([
      ['create', 'v1', 'targets'],
      ['create', 'v2', 'targets'],
      ['create', 'v3', 'targets'],
    ]);
    await cli.ok(['publish', GUN]);
    const t = await listed();
    expect(t.get('v1')).toEqual({ digest: `sha256:${sha('a')}`, size: 100, role: 'targets' });
    expect(t.get('v2')).toEqual({ digest: `sha256:${sha('b')}`, size: 200, role: 'targets' });
    expect(t.get('v3')).toEqual({ digest: `sha256:${sha('c')}`, size: 300, role: 'targets' });
    expect(await pending()).toEqual([]);
  });

  it('a bad line is refused with its line number and the format, and nothing is staged', async () => {
    const cases: [string, RegExp][] = [
      [`ok 1 ${sha('x')}\nbad 12\n`, /line 2 of .*bad\.txt has 2 field\(s\), expected 3/],
      [`ok 1 ${sha('x')}\nbad -5 ${sha('y')}\n`, /the size on line 2 of .* must be a byte count, got -5/],
      [`ok 1 ${sha('x')}\nbad 5 abc\n`, /the sha256 on line 2 of .* must be 64 hex digits, got abc/],
      [`ok 1 ${sha('x')}\nok 2 ${sha('y')}\n`, /line 2 of .* names "ok" again \(first on line 1\)/],
      ['# nothing\n', /lists no targets/],
    ];
    for (const [text, message] of cases) {
      const r = await cli.run(['target', 'add', GUN, '--from-file', listFile('bad.txt', text)]);
      expect(r.code, text).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(await pending()).toEqual([]);
    }
    const missing = await cli.run(['target', 'add', GUN, '--from-file', path.join(dir, 'absent.txt')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('cannot read --from-file');
  });

  it('a name, --sha256 or --size beside --from-file is refused; without --from-file all three are needed', async () => {
    const file = listFile('one.txt', `v9 1 ${sha('9')}\n`);
    const both = await cli.run(['target', 'add', GUN, 'v9', '--from-file', file]);
    expect(both.code).not.toBe(0);
    expect(both.stderr).toContain('--from-file cannot be combined with a target name, --sha256 or --size');
    const none = await cli.run(['target', 'add', GUN, 'v9', '--size', '1']);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('target add needs --sha256');
    expect(await pending()).toEqual([]);
  });

  it('--publish signs and uploads the list and what was staged before, in one process, from standard input', async () => {
    await cli.ok(['target', 'add', GUN, 'pre', '--sha256', sha('pre'), '--size', '7']);
    const lines = Array.from({ length: 1000 }, (_, i) => `b${i} ${i + 1} ${sha(`b${i}`)}`).join('\n');
    const r = await run(
      process.execPath,
      [
        SIGNET_MAIN,
        '--server',
        server.url,
        '--trust-dir',
        cli.trustDir,
        'target',
        'add',
        GUN,
        '--from-file',
        '-',
        '--publish',
        '--json',
      ],
      {
        input: lines,
        env: { PATH: process.env.PATH, HOME: path.join(dir, 'home'), NO_PROXY: '127.0.0.1', ...passphraseEnv() },
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      gun: GUN,
      added: 1000,
      changes: 1001,
      published: expect.arrayContaining(['targets']),
    });
    const t = await listed();
    expect(t.get('pre')).toEqual({ digest: `sha256:${sha('pre')}`, size: 7, role: 'targets' });
    for (const i of [0, 499, 999])
      expect(t.get(`b${i}`)).toEqual({ digest: `sha256:${sha(`b${i}`)}`, size: i + 1, role: 'targets' });
    expect(t.size).toBe(3 + 1 + 1000);
    expect(await pending()).toEqual([]);
  });
});
