/**
 * The proxy's decision log (--audit-log F): a decision is on file before the answer goes out, so a
 * pipeline step that greps the log right after a refused pull finds it (runbook 07 does).
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createObserver } from '../../src/proxy/index.js';

describe('proxy decision log file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'signet-observe-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('holds a refusal as soon as it is decided (no flush to wait for), mode 0600, appended', async () => {
    const file = path.join(dir, 'audit.log');
    const first = createObserver(file);
    first.decision({ decision: 'refused', mode: 'enforce', repository: 'r/app', reference: 'v2', code: 'NOT_SIGNED' });
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ event: 'decision', decision: 'refused', reference: 'v2' });
    // an allowed decision on fresh trust data is counted, not logged
    first.decision({ decision: 'served', mode: 'enforce', repository: 'r/app', reference: 'v1' });
    await first.close();
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const second = createObserver(file);
    second.decision({ decision: 'would-refuse', mode: 'report', repository: 'r/app', reference: 'v3' });
    const all = readFileSync(file, 'utf8').trim().split('\n');
    expect(all.map((l) => (JSON.parse(l) as { reference: string }).reference)).toEqual(['v2', 'v3']);
    await second.close();
  });

  it('fails at start on a path it cannot append to', () => {
    expect(() => createObserver(path.join(dir, 'missing-dir', 'audit.log'))).toThrow(/ENOENT/);
  });
});
