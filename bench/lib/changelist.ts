// Stage many target additions at once by writing notary changelist files directly (N:client/client.go):
//   <trustDir>/tuf/<gun>/changelist/<%020d unixnano>_<uuid>.change
// Both the notary CLI and signet read this format, so one writer builds big repos for both.
import crypto from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Target } from './minituf.js';

export async function stageTargets(trustDir: string, gun: string, targets: Target[]): Promise<void> {
  const dir = path.join(trustDir, 'tuf', ...gun.split('/'), 'changelist');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const base = BigInt(Date.now()) * 1_000_000n;
  const batch = 256;
  for (let i = 0; i < targets.length; i += batch) {
    await Promise.all(
      targets.slice(i, i + batch).map((t, j) => {
        const fileMeta = { length: t.length, hashes: { sha256: Buffer.from(t.sha256hex, 'hex').toString('base64') } };
        const change = {
          action: 'create',
          role: 'targets',
          type: 'target',
          path: t.name,
          data: Buffer.from(JSON.stringify(fileMeta)).toString('base64'),
        };
        const name = `${String(base + BigInt(i + j)).padStart(20, '0')}_${crypto.randomUUID()}.change`;
        return writeFile(path.join(dir, name), JSON.stringify(change), { mode: 0o600 });
      }),
    );
  }
}
