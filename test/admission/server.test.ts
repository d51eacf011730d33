// The webhook's HTTPS layer with a stand-in enforcer: routes and methods, JSON errors, the body
// limit, health and readiness, and a renewed certificate served without a restart.
import https from 'node:https';
import { X509Certificate } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdmissionServer, type AdmissionServer } from '../../src/admission/index.js';
import type { Verdict } from '../../src/enforce/index.js';
import { makeTestCA } from '../harness/tls.js';
import { admissionReview, workload } from './reviews.js';

interface Reply {
  status: number;
  body: string;
  cert?: X509Certificate;
}

function request(url: string, ca: Buffer[], method: string, body?: string, type = 'application/json'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, ca, agent: false, headers: { 'content-type': type } }, (res) => {
      const raw = (res.socket as import('node:tls').TLSSocket).getPeerX509Certificate();
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          ...(raw ? { cert: raw } : {}),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('admission HTTPS server', () => {
  let dir: string;
  let server: AdmissionServer;
  let cas: Buffer[];
  let second: { cert: string; key: string };
  const certFile = (): string => path.join(dir, 'live.crt');
  const keyFile = (): string => path.join(dir, 'live.key');
  const lines: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'signet-admission-srv-'));
    const a = await makeTestCA(path.join(dir, 'a'));
    const b = await makeTestCA(path.join(dir, 'b'));
    const first = await a.issue('webhook', { eku: 'serverAuth' });
    second = await b.issue('webhook', { eku: 'serverAuth' });
    cas = [await readFile(a.caCert), await readFile(b.caCert)];
    await copyFile(first.cert, certFile());
    await copyFile(first.key, keyFile());
    const enforcer = {
      async checkReference(ref: string): Promise<Verdict> {
        return {
          reference: ref,
          repository: ref,
          tag: '1',
          digest: `sha256:${'c'.repeat(64)}`,
          mode: 'enforce',
          allowed: true,
        };
      },
    };
    server = await startAdmissionServer({
      host: '127.0.0.1',
      port: 0,
      tlsCertFile: certFile(),
      tlsKeyFile: keyFile(),
      tlsReloadMs: 100,
      maxBodyBytes: 64 * 1024,
      enforcer,
      reportOnly: false,
      excludeNamespaces: [],
      log: (l) => lines.push(l),
    });
  });

  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('health, readiness, unknown paths, wrong methods and content types answer with JSON', async () => {
    expect(await request(`${server.url}/healthz`, cas, 'GET')).toMatchObject({ status: 200, body: '{"status":"ok"}' });
    expect(await request(`${server.url}/readyz`, cas, 'GET')).toMatchObject({ status: 200 });
    const cases: [string, string, number, string][] = [
      ['/nope', 'POST', 404, 'NOT_FOUND'],
      ['/validate', 'GET', 405, 'METHOD_NOT_ALLOWED'],
      ['/healthz', 'POST', 405, 'METHOD_NOT_ALLOWED'],
    ];
    for (const [p, method, status, code] of cases) {
      const r = await request(`${server.url}${p}`, cas, method);
      expect(r.status).toBe(status);
      expect(JSON.parse(r.body)).toMatchObject({ error: { code } });
    }
    const t = await request(`${server.url}/validate`, cas, 'POST', '{}', 'text/plain');
    expect(t.status).toBe(415);
    const big = await request(`${server.url}/validate`, cas, 'POST', ' '.repeat(65 * 1024));
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body)).toMatchObject({ error: { code: 'BODY_TOO_LARGE' } });
  });

  it('answers a review (query string as the API server adds it) and logs one line per decision', async () => {
    const review = admissionReview(
      workload('Pod', 'p', 'ns', { containers: [{ name: 'c', image: 'reg.example/app:1' }] }),
      { uid: 'u-log' },
    );
    const r = await request(`${server.url}/mutate?timeout=10s`, cas, 'POST', JSON.stringify(review));
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ response: { uid: 'u-log', allowed: true, patchType: 'JSONPatch' } });
    expect(
      lines.some((l) => l.startsWith('/mutate Pod ns/p CREATE uid=u-log: allowed') && l.includes('pinned=1')),
    ).toBe(true);
  });

  it('serves a renewed certificate without a restart', async () => {
    const before = await request(`${server.url}/healthz`, cas, 'GET');
    await copyFile(second.key, keyFile());
    await copyFile(second.cert, certFile());
    const want = new X509Certificate(await readFile(second.cert)).fingerprint256;
    expect(before.cert?.fingerprint256).not.toBe(want);
    let seen: string | undefined;
    for (let i = 0; i < 50 && seen !== want; i++) {
      await new Promise((r) => setTimeout(r, 100));
      seen = (await request(`${server.url}/healthz`, cas, 'GET')).cert?.fingerprint256;
    }
    expect(seen).toBe(want);
    expect(lines).toContain('reloaded the TLS certificate');
  });

  it('stops listening when closed', async () => {
    const s = await startAdmissionServer({
      host: '127.0.0.1',
      port: 0,
      tlsCertFile: certFile(),
      tlsKeyFile: keyFile(),
      tlsReloadMs: 0,
      enforcer: { checkReference: () => Promise.reject(new Error('unused')) },
      reportOnly: false,
      excludeNamespaces: [],
    });
    expect((await request(`${s.url}/readyz`, cas, 'GET')).status).toBe(200);
    await s.close();
    await expect(request(`${s.url}/readyz`, cas, 'GET')).rejects.toThrow();
  });
});
