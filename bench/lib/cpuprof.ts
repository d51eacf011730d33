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
  totalMs: number;
  top: { selfMs: number; pct: number; frame: string }[];
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
    const samples = p.samples ?? [];
    const deltas = p.timeDeltas ?? [];
    for (let i = 0; i < samples.length; i++) {
      const n = byId.get(samples[i]!);
      if (!n) continue;
      const cf = n.callFrame;
      const where = cf.url ? `${cf.url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/')}:${cf.lineNumber + 1}` : '';
      const key = `${cf.functionName || '(anonymous)'} ${where}`.trim();
      self.set(key, (self.get(key) ?? 0) + (deltas[i] ?? 0) / 1000);
    }
    const totalMs = (p.endTime - p.startTime) / 1000;
    const top = [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([frame, ms]) => ({ selfMs: Math.round(ms), pct: Math.round((ms / totalMs) * 1000) / 10, frame }));
    out.push({ file: f, totalMs: Math.round(totalMs), top });
  }
  return out;
}
