/**
 * Durability: data survives a graceful restart, and a server killed with SIGKILL in the middle of
 * a stream of publishes loses no acknowledged update and leaves no half-written one.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkFileMeta,
  parseRoot,
  parseSnapshot,
  parseTargets,
  parseTimestamp,
  rootRoleKeys,
  verifyThreshold,
} from '../../src/tuf/index.js';
import { notaryCli } from '../harness/notary-cli.js';
import { TestRepo, httpInjector, type Injector } from '../server/helpers.js';
import { startChildServer } from '../server/child.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'signet-restart-'));
  dirs.push(d);
  return d;
}

/** Walks timestamp → snapshot → root/targets as a client would, verifying every signature and hash. */
async function verifiedTargets(http: Injector, gun: string): Promise<{ names: string[]; version: number }> {
  const get = async (f: string): Promise<Buffer> => {
    const r = await http.inject({ method: 'GET', url: `/v2/${gun}/_trust/tuf/${f}` });
    if (r.statusCode !== 200) throw new Error(`GET ${f}: ${r.statusCode} ${r.body}`);
    return r.rawPayload;
  };
  const root = parseRoot(await get('root.json'));
  const rk = rootRoleKeys(root.signed, 'root');
  verifyThreshold(root, rk.keys, rk.keyids, rk.threshold);
  const ts = parseTimestamp(await get('timestamp.json'));
  const tk = rootRoleKeys(root.signed, 'timestamp');
  verifyThreshold(ts, tk.keys, tk.keyids, tk.threshold);
  const snHex = Buffer.from(ts.signed.meta.snapshot.hashes.sha256 as string, 'base64').toString('hex');
  const snBytes = await get(`snapshot.${snHex}.json`);
  checkFileMeta(snBytes, ts.signed.meta.snapshot, 'snapshot');
  const sn = parseSnapshot(snBytes);
  const sk = rootRoleKeys(root.signed, 'snapshot');
  verifyThreshold(sn, sk.keys, sk.keyids, sk.threshold);
  checkFileMeta(root.bytes, sn.signed.meta.root!, 'root');
  const tHex = Buffer.from(sn.signed.meta.targets!.hashes.sha256 as string, 'base64').toString('hex');
  const tBytes = await get(`targets.${tHex}.json`);
  checkFileMeta(tBytes, sn.signed.meta.targets!, 'targets');
  const t = parseTargets('targets', tBytes);
  const tgk = rootRoleKeys(root.signed, 'targets');
  verifyThreshold(t, tgk.keys, tgk.keyids, tgk.threshold);
  // the current file is the one the chain references
  expect((await get('targets.json')).equals(tBytes)).toBe(true);
  return { names: Object.keys(t.signed.targets), version: t.signed.version };
}

describe('restarts', () => {
  it('keeps every repository, key and the TLS CA across a graceful restart (SIGTERM)', async () => {
    const dataDir = tmp();
    let child = await startChildServer(dataDir);
    const ca = readFileSync(child.caFile, 'utf8');
    let http = await httpInjector(child.url, ca);
    const repo = await new TestRepo(http, 'example.com/restart/app').init({ serverSnapshot: true });
    repo.addTarget('v1', 'one');
    expect((await repo.publish()).statusCode).toBe(200);
    const notary = notaryCli({ server: child.url, caFile: child.caFile, trustDir: path.join(dataDir, 'trust') });
    expect((await notary.run(['init', '-p', 'example.com/restart/notary'])).code).toBe(0);
    await http.close();
    child.proc.kill('SIGTERM');
    expect(await child.proc.exited).toBe(0);

    child = await startChildServer(dataDir, Number(new URL(child.url).port));
    expect(readFileSync(child.caFile, 'utf8')).toBe(ca);
    http = await httpInjector(child.url, ca);
    try {
      expect((await verifiedTargets(http, repo.gun)).names).toEqual(['v1']);
      // the server still holds the timestamp/snapshot keys (encrypted at rest): publishing goes on
      repo.http = http;
      repo.addTarget('v2', 'two');
      const r = await repo.publish();
      expect(r.statusCode, r.body).toBe(200);
      expect((await verifiedTargets(http, repo.gun)).names.sort()).toEqual(['v1', 'v2']);
      const l = await notary.run(['list', 'example.com/restart/notary']);
      expect(l.code, l.stderr).toBe(0);
    } finally {
      await http.close();
      await child.proc.stop();
    }
  });

  it('loses no acknowledged publish and writes no half of one when SIGKILLed mid-stream', async () => {
    const dataDir = tmp();
    const child = await startChildServer(dataDir);
    const ca = readFileSync(child.caFile, 'utf8');
    const http = await httpInjector(child.url, ca);
    const guns = [0, 1, 2, 3].map((i) => `example.com/kill/app${i}`);
    const acked = new Map<string, { names: string[]; version: number }>();
    const repos: TestRepo[] = [];
    for (const g of guns) {
      const repo = await new TestRepo(http, g).init({ serverSnapshot: true });
      expect((await repo.publish()).statusCode).toBe(200);
      repos.push(repo);
      acked.set(g, { names: [], version: repo.targets.version });
    }
    let killed = false;
    let publishes = 0;
    const loops = repos.map(async (repo) => {
      for (let i = 0; !killed; i++) {
        repo.addTarget(`t${i}`, `content ${i}`);
        let r;
        try {
          r = await repo.publish();
        } catch {
          return; // connection reset by the kill: outcome unknown, not acknowledged
        }
        if (r.statusCode !== 200) {
          if (killed) return;
          throw new Error(`publish failed before the kill: ${r.statusCode} ${r.body}`);
        }
        publishes++;
        acked.set(repo.gun, { names: Object.keys(repo.targets.targets), version: repo.targets.version });
      }
    });
    // let the stream run, then kill -9 while publishes are in flight
    while (publishes < 40) await new Promise((r) => setTimeout(r, 20));
    killed = true;
    child.proc.kill('SIGKILL');
    await Promise.all(loops);
    await child.proc.exited;
    await http.close();

    const again = await startChildServer(dataDir, Number(new URL(child.url).port));
    const http2 = await httpInjector(again.url, ca);
    try {
      for (const g of guns) {
        const want = acked.get(g)!;
        const got = await verifiedTargets(http2, g);
        // every acknowledged target is there; at most the one in-flight publish was added on top
        for (const n of want.names) expect(got.names).toContain(n);
        expect(got.version === want.version || got.version === want.version + 1).toBe(true);
        // every acknowledged version is still served by version
        for (let v = 1; v <= want.version; v++) {
          const r = await http2.inject({ method: 'GET', url: `/v2/${g}/_trust/tuf/${v}.targets.json` });
          expect(r.statusCode, `${g} targets v${v}`).toBe(200);
        }
      }
    } finally {
      await http2.close();
      await again.proc.stop();
    }
  });
});
