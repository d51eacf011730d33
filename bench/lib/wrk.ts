// HTTP load generator: wrk (Debian package "wrk"), run as its own process, keep-alive, HTTPS.
// A small Lua `done` hook prints the summary as JSON so nothing is scraped from the text report.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exec } from './util.js';

export const WRK = '/usr/bin/wrk';

export interface WrkResult {
  connections: number;
  threads: number;
  durationS: number;
  requests: number;
  rps: number;
  bytesPerS: number;
  p50ms: number;
  p90ms: number;
  p99ms: number;
  maxMs: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
}

const LUA = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nWRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,' ..
    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
`;

export function requireWrk(): void {
  if (!existsSync(WRK)) {
    throw new Error(`${WRK} is missing: the benchmark needs the Debian package "wrk" (apt-get install wrk)`);
  }
}

export async function wrk(
  url: string,
  opts: { connections: number; threads: number; durationS: number; workDir: string; headers?: string[] },
): Promise<WrkResult> {
  const script = path.join(opts.workDir, 'wrk-json.lua');
  await writeFile(script, LUA);
  const r = await exec(
    WRK,
    [
      '-t',
      String(opts.threads),
      '-c',
      String(opts.connections),
      '-d',
      `${opts.durationS}s`,
      '--timeout',
      '5s',
      '-s',
      script,
      ...(opts.headers ?? []).flatMap((h) => ['-H', h]),
      url,
    ],
    { timeoutMs: (opts.durationS + 30) * 1000 },
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith('WRKJSON '));
  if (r.code !== 0 || !line) throw new Error(`wrk ${url} failed (exit ${String(r.code)}): ${r.stderr}${r.stdout}`);
  const j = JSON.parse(line.slice(8)) as Record<string, number>;
  const secs = j.duration_us! / 1e6;
  const res: WrkResult = {
    connections: opts.connections,
    threads: opts.threads,
    durationS: secs,
    requests: j.requests!,
    rps: j.requests! / secs,
    bytesPerS: j.bytes! / secs,
    p50ms: j.p50! / 1000,
    p90ms: j.p90! / 1000,
    p99ms: j.p99! / 1000,
    maxMs: j.max! / 1000,
    errors: { connect: j.connect!, read: j.read!, write: j.write!, status: j.status!, timeout: j.timeout! },
  };
  const errs = Object.values(res.errors).reduce((a, b) => a + b, 0);
  if (errs > res.requests * 0.01)
    throw new Error(`wrk ${url}: ${errs} errors in ${res.requests} requests ${JSON.stringify(res.errors)}`);
  return res;
}
