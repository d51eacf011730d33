/**
 * `signet server --workers 2` (src/server/workers.ts): one port, two worker processes over one
 * SQLite file. Every request below opens its own connection, and the primary hands connections
 * to the workers in turn, so consecutive requests are answered by different workers: a publish
 * through one is read through the other at once (its cached view was dropped before the publish
 * was acknowledged), as docs/performance.md says.
 */
import { request as httpRequest } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTargets, parseTimestamp } from '../../src/tuf/index.js';
import { freePort } from '../harness/ports.js';
import { run, startProc, type Proc } from '../harness/proc.js';
import { multipart, TestRepo, type Injector } from './helpers.js';

const MAIN = path.resolve('dist', 'cli', 'main.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-workers-'));
const dataDir = path.join(dir, 'data');
const env = { ...process.env, SIGNET_SIGNER_PASSPHRASE: 'workers-test-passphrase', SIGNET_LOG_LEVEL: 'info' };
let port = 0;
let server: Proc;

/** One request on a connection of its own (no keep-alive), so the primary picks the next worker. */
function once(o: Parameters<Injector['inject']>[0]): ReturnType<Injector['inject']> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method: o.method, path: o.url, headers: o.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const rawPayload = Buffer.concat(chunks);
          resolve({
            statusCode: res.statusCode ?? 0,
            body: rawPayload.toString('utf8'),
            rawPayload,
            headers: res.headers,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(o.payload);
  });
}
const fresh: Injector = { inject: once };

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  port = await freePort();
  server = await startProc({
    name: 'workers',
    cmd: process.execPath,
    args: [MAIN, 'server', '--workers', '2', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--insecure-http'],
    env,
    logDir: dir,
    ready: async () => (await once({ method: 'GET', url: '/v2/' }).catch(() => ({ statusCode: 0 }))).statusCode === 200,
    timeoutMs: 60_000,
  });
  await until('two workers', () => children(server.pid).length === 2);
}, 90_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** `times` GETs of one file, each on a new connection. */
async function getEach(repo: TestRepo, file: string, times = 6): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < times; i++) {
    const r = await repo.http.inject({ method: 'GET', url: repo.url(file) });
    expect(r.statusCode, r.body).toBe(200);
    out.push(r.rawPayload);
  }
  return out;
}

describe('signet server --workers 2', () => {
  it('refuses a worker count that is not 1…64, naming --workers', async () => {
    const r = await run(process.execPath, [MAIN, 'server', '--workers', '0', '--data-dir', path.join(dir, 'never')], {
      env,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--workers must be a whole number from 1 to 64');
    expect(existsSync(path.join(dir, 'never'))).toBe(false);
  });

  it('a publish through one worker is read through every worker right after it is acknowledged', async () => {
    const repo = await new TestRepo(fresh, 'example.com/workers/app').init({ serverSnapshot: true });
    repo.addTarget('v1', '1');
    expect((await repo.publish()).statusCode).toBe(200);
    // every worker now caches version 1 (consecutive connections go to the workers in turn)
    for (const b of await getEach(repo, 'targets.json'))
      expect(Object.keys(parseTargets('targets', b).signed.targets)).toEqual(['v1']);
    await getEach(repo, 'timestamp.json');
    for (let round = 2; round <= 4; round++) {
      repo.addTarget(`v${round}`, String(round));
      const r = await repo.publish();
      expect(r.statusCode, r.body).toBe(200);
      for (const b of await getEach(repo, 'timestamp.json')) expect(parseTimestamp(b).signed.version).toBe(round);
      for (const b of await getEach(repo, 'targets.json'))
        expect(Object.keys(parseTargets('targets', b).signed.targets)).toContain(`v${round}`);
    }
  });

  it('a deletion through one worker: every worker answers 404 at once', async () => {
    const repo = await new TestRepo(fresh, 'example.com/workers/gone').init({ serverSnapshot: true });
    repo.addTarget('v1', '1');
    expect((await repo.publish()).statusCode).toBe(200);
    await getEach(repo, 'timestamp.json');
    const d = await once({ method: 'DELETE', url: repo.url('') });
    expect(d.statusCode, d.body).toBe(200);
    for (let i = 0; i < 6; i++)
      expect((await once({ method: 'GET', url: repo.url('timestamp.json') })).statusCode).toBe(404);
  });

  it('the same version published through two workers at once: one wins, the other gets VERSION', async () => {
    const repo = await new TestRepo(fresh, 'example.com/workers/race').init({ serverSnapshot: true });
    expect((await repo.publish()).statusCode).toBe(200);
    repo.addTarget('x', 'x');
    const parts = await repo.parts();
    const send = () => {
      const { body, contentType } = multipart(parts);
      return once({ method: 'POST', url: repo.url(''), headers: { 'content-type': contentType }, payload: body });
    };
    const [a, b] = await Promise.all([send(), send()]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 400]);
    expect(JSON.parse((a.statusCode === 400 ? a : b).body).errors[0].code).toBe('VERSION');
  });

  it('a worker that dies is replaced; the server keeps answering', async () => {
    const [victim] = children(server.pid);
    expect(victim).toBeDefined();
    const listening = (): number =>
      readFileSync(server.logFile, 'utf8').split('"msg":"signet trust server listening"').length - 1;
    const before = listening();
    process.kill(victim as number, 'SIGKILL');
    await until('a replacement worker', () => {
      const now = children(server.pid);
      return now.length === 2 && !now.includes(victim as number) && listening() > before;
    });
    for (let i = 0; i < 4; i++) expect((await once({ method: 'GET', url: '/v2/' })).statusCode).toBe(200);
  });

  it('SIGTERM to the primary stops every worker and releases the data directory', async () => {
    const workers = children(server.pid);
    server.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    for (const pid of workers) expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(existsSync(path.join(dataDir, 'signet.lock'))).toBe(false);
  });
});
