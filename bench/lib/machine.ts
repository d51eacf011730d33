// What the numbers were measured on.
import os from 'node:os';
import { readFile } from 'node:fs/promises';
import { exec } from './util.js';

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  os: string;
  node: string;
  notary: string;
  wrk: string;
  loadavg1: number;
}

async function dpkgVersion(pkg: string): Promise<string> {
  try {
    const r = await exec('dpkg-query', ['-W', '-f', '${Version}', pkg], { timeoutMs: 10_000 });
    return r.code === 0 ? `${pkg} ${r.stdout.trim()}` : `${pkg} (not installed via dpkg)`;
  } catch {
    return `${pkg} (unknown)`;
  }
}

export async function machine(): Promise<Machine> {
  let osName = os.type();
  try {
    const rel = await readFile('/etc/os-release', 'utf8');
    osName = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(rel)?.[1] ?? osName;
  } catch {
    /* keep os.type() */
  }
  return {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: os.release(),
    os: osName,
    node: process.version,
    notary: await dpkgVersion('notary'),
    wrk: await dpkgVersion('wrk'),
    loadavg1: os.loadavg()[0] ?? NaN,
  };
}
