/**
 * Memory under load: 16 concurrent 45 MB publish bodies against a real `signet server`
 * process keep its peak RSS (VmHWM) under a documented bound (docs/server.md "Limits"), thanks to
 * the global budget of body bytes in flight; reads of current metadata stay responsive meanwhile,
 * and their p99 is printed. Bounds are generous on purpose (2 shared cores).
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleEntry } from '../harness/bundle.js';
import { notaryCli } from '../harness/notary-cli.js';
import { httpOk } from '../harness/notary-peers.js';
import { freePort } from '../harness/ports.js';
import { startProc } from '../harness/proc.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-mem-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The documented bound of peak RSS under this load (docs/server.md). */
const RSS_BOUND_MB = 700;
const BODIES = 16;
const BODY_MB = 45;

function statusKb(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN);
}

/** POSTs one multipart body of `mb` MiB (a "targets" part the server must read whole). */
function bigPublish(port: number, gun: string, chunk: Buffer, mb: number): Promise<string> {
  const boundary = 'signetmemoryload';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="targets"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const length = head.length + chunk.length * mb + tail.length;
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: `/v2/${gun}/_trust/tuf`,
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.statusCode)));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    let i = 0;
    const write = (): void => {
      while (i < mb) {
        i++;
        if (!req.write(chunk)) {
          req.once('drain', write);
          return;
        }
      }
      req.end(tail);
    };
    req.write(head);
    write();
  });
}

function timedGet(url: string): Promise<{ ms: number; status: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    http
      .get(url, (res) => {
        res.resume();
        res.on('end', () => resolve({ ms: performance.now() - t0, status: res.statusCode ?? 0 }));
      })
      .on('error', () => resolve({ ms: performance.now() - t0, status: 0 }));
  });
}

describe('memory under load', () => {
  it(`${BODIES} concurrent ${BODY_MB} MB publish bodies: RSS under ${RSS_BOUND_MB} MB, reads answered`, async () => {
    const cli = await bundleEntry('src/cli/main.ts', dir, 'signet.mjs');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proc = await startProc({
      name: 'signet-memory',
      cmd: process.execPath,
      args: [cli, 'server', '--insecure-http', '--listen', `127.0.0.1:${port}`, '--data-dir', path.join(dir, 'data')],
      env: { PATH: process.env.PATH, HOME: dir, SIGNET_SIGNER_PASSPHRASE: 'memory-test', SIGNET_LOG_LEVEL: 'warn' },
      logDir: path.join(dir, 'logs'),
      listenPort: port,
      timeoutMs: 30_000,
      ready: () => httpOk(`${url}/_notary_server/health`).catch(() => false),
    });
    try {
      const gun = 'example.com/memory/app';
      const notary = notaryCli({ server: url, trustDir: path.join(dir, 'trust') });
      const init = await notary.run(['init', '-p', gun]);
      expect(init.code, init.stderr).toBe(0);
      const readUrl = `${url}/v2/${gun}/_trust/tuf/timestamp.json`;
      expect((await timedGet(readUrl)).status).toBe(200);
      const rssBefore = statusKb(proc.pid, 'VmRSS');

      const chunk = Buffer.alloc(1024 * 1024, 'a');
      let loading = true;
      const load = Promise.all(
        Array.from({ length: BODIES }, (_, i) => bigPublish(port, `example.com/memory/big${i}`, chunk, BODY_MB)),
      ).finally(() => {
        loading = false;
      });
      const reads: number[] = [];
      let failedReads = 0;
      while (loading) {
        const r = await timedGet(readUrl);
        if (r.status === 200) reads.push(r.ms);
        else failedReads++;
      }
      const outcomes = await load;
      const peakMb = statusKb(proc.pid, 'VmHWM') / 1024;
      reads.sort((a, b) => a - b);
      const p = (q: number): number => reads[Math.min(reads.length - 1, Math.floor(q * reads.length))] ?? NaN;
      const counts: Record<string, number> = {};
      for (const o of outcomes) counts[o] = (counts[o] ?? 0) + 1;
      process.stdout.write(
        `memory under load: RSS before ${(rssBefore / 1024).toFixed(0)} MB, peak (VmHWM) ${peakMb.toFixed(0)} MB ` +
          `(bound ${RSS_BOUND_MB} MB); publish outcomes ${JSON.stringify(counts)}; ` +
          `${reads.length} reads during the load: p50 ${p(0.5).toFixed(1)} ms, p99 ${p(0.99).toFixed(1)} ms, ` +
          `max ${(reads[reads.length - 1] ?? NaN).toFixed(1)} ms, failed ${failedReads}\n`,
      );
      expect(peakMb).toBeLessThan(RSS_BOUND_MB);
      expect(failedReads).toBe(0);
      expect(reads.length).toBeGreaterThan(10);
      // every body was answered: read whole and refused as malformed (400), or turned away by the budget (503)
      for (const o of outcomes) expect(['400', '503', 'EPIPE', 'ECONNRESET']).toContain(o);
      expect(counts['400'] ?? 0).toBeGreaterThan(0);
      // generous: a read waits at most seconds, not the whole load
      expect(p(0.99)).toBeLessThan(2000);
      expect((await timedGet(readUrl)).status).toBe(200);
    } finally {
      proc.kill('SIGINT');
      await proc.exited;
    }
  });
});
