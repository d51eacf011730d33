/** File helpers for commands that write user-chosen output files. */
import { chmod, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export async function writeFileAtomicPublic(file: string, data: string | Buffer, mode: number): Promise<void> {
  const abs = path.resolve(file);
  const tmp = `${abs}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode });
  await chmod(tmp, mode);
  await rename(tmp, abs);
}
