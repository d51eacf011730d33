// Summarise V8 .cpuprofile files (node --cpu-prof): self time per function, top N.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: Node[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  file: string;
  /** which measurements (--only) were running while this profile was taken */
  measurements?: string;
  totalMs: number;
  /** self time grouped: idle (waiting on I/O), module loading, GC, crypto, SQLite, Signet code, dependencies, other */
  categories: Record<string, number>;
  top: { selfMs: number; pct: number; frame: string }[];
}

function category(fn: string, url: string): string {
  if (fn === '(idle)') return 'idle (waiting for I/O)';
  if (fn === '(garbage collector)') return 'garbage collection';
  if (
    /node:internal\/modules|node:internal\/deps\/cjs-module-lexer|node:internal\/bootstrap/.test(url) ||
    [
      'wrapSafe',
      'compileSourceTextModule',
      'internalModuleStat',
      'openFileHandle',
      'fstat',
      'realpathSync',
      'readFileUtf8',
    ].includes(fn)
  )
    return 'module loading / file system';
  if (
    /node:internal\/crypto/.test(url) ||
    /sign|verify|pbkdf2|createPublicKey|createPrivateKey|X509Certificate|digest/i.test(fn)
  )
    return 'crypto';
  if (/sqlite|kysely/.test(url)) return 'SQLite (kysely + better-sqlite3)';
  if (/\/dist\//.test(url)) return 'Signet code (dist/)';
  if (/node_modules/.test(url)) return 'dependencies (node_modules)';
  return 'other (runtime, TLS, HTTP)';
}

export async function summariseProfiles(dir: string, topN = 15): Promise<ProfileSummary[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    return [];
  }
  const out: ProfileSummary[] = [];
  for (const f of files) {
    const p = JSON.parse(await readFile(path.join(dir, f), 'utf8')) as Profile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const self = new Map<string, number>();
    const cats: Record<string, number> = {};
    const samples = p.samples ?? [];
    const deltas = p.timeDeltas ?? [];
    for (let i = 0; i < samples.length; i++) {
      const n = byId.get(samples[i]!);
      if (!n) continue;
      const cf = n.callFrame;
      const where = cf.url
        ? `${cf.url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/')}:${cf.lineNumber + 1}`
        : '';
      const key = `${cf.functionName || '(anonymous)'} ${where}`.trim();
      self.set(key, (self.get(key) ?? 0) + (deltas[i] ?? 0) / 1000);
      const c = category(cf.functionName, cf.url);
      cats[c] = (cats[c] ?? 0) + (deltas[i] ?? 0) / 1000;
    }
    const totalMs = (p.endTime - p.startTime) / 1000;
    const top = [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([frame, ms]) => ({ selfMs: Math.round(ms), pct: Math.round((ms / totalMs) * 1000) / 10, frame }));
    const categories = Object.fromEntries(
      Object.entries(cats)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => [k, Math.round(v)]),
    );
    out.push({ file: f, totalMs: Math.round(totalMs), categories, top });
  }
  return out;
}
