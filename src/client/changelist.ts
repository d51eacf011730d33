/**
 * notary's on-disk changelist (N:client/client.go, N:client/changelist/file_changelist.go), so that the
 * `notary` CLI and `signet` can share one trust dir: a staged `notary add` is published by
 * `signet publish` and the other way round.
 *
 *   <trustDir>/tuf/<gun>/changelist/<%020d unixnano>_<uuid>.change
 *   {"action":"create","role":"targets","type":"target","path":"v1","data":"<base64 of FileMeta JSON>"}
 *
 * Changes apply in file-name order (the zero-padded nanosecond prefix makes that creation order).
 */
import crypto from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { SignetError } from '../errors.js';
import { ensurePrivateDir, writeFileAtomic } from '../fs/index.js';
import type { Change } from './change.js';
import { changelistDir } from './paths.js';

/** Go's `json.Marshal` of each payload (field order as the Go structs declare them, `omitempty`). */
function encodeData(c: Change): string | null {
  if (c.type === 'target') {
    if (c.action === 'delete') return null;
    const o: Record<string, unknown> = { length: c.meta.length, hashes: c.meta.hashes };
    if (c.meta.custom !== undefined) o.custom = c.meta.custom;
    return b64json(o);
  }
  if (c.type === 'role') {
    // notary's TUFRootData has no threshold: it would be lost, and the staged change would mean another
    if (c.threshold !== undefined && c.threshold !== 1) {
      throw new SignetError(
        'USAGE',
        `a change of the ${c.baseRole} threshold cannot be staged in notary's changelist`,
        {
          fix: 'publish it at once, or write it into a proposal (--proposal FILE)',
        },
      );
    }
    return b64json({ keys: c.keys, role: c.baseRole });
  }
  if (c.action === 'delete') return null;
  const e = c.edit;
  const o: Record<string, unknown> = {};
  if (e.newName) o.new_name = e.newName;
  if (e.threshold) o.threshold = e.threshold;
  if (e.addKeys && e.addKeys.length > 0) o.add_keys = e.addKeys;
  if (e.removeKeys && e.removeKeys.length > 0) o.remove_keys = e.removeKeys;
  if (e.addPaths && e.addPaths.length > 0) o.add_paths = e.addPaths;
  if (e.removePaths && e.removePaths.length > 0) o.remove_paths = e.removePaths;
  if (e.clearPaths) o.clear_paths = true;
  return b64json(o);
}

const b64json = (o: unknown): string => Buffer.from(JSON.stringify(o), 'utf8').toString('base64');

let lastNano = 0n;
/** A strictly increasing nanosecond clock (two changes staged in one millisecond keep their order). */
function unixNano(): bigint {
  const now = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  lastNano = now > lastNano ? now : lastNano + 1n;
  return lastNano;
}

export class Changelist {
  readonly dir: string;

  constructor(trustDir: string, gun: string) {
    this.dir = changelistDir(trustDir, gun);
  }

  async list(): Promise<{ file: string; change: Change }[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    names = names.filter((n) => n.endsWith('.change')).sort();
    const out: { file: string; change: Change }[] = [];
    if (names.length === 0) return out;
    // zod is loaded only when there is a staged change to read (start-up cost: docs/performance.md)
    const { decodeChange } = await import('./changelist-decode.js');
    for (const name of names) {
      const file = path.join(this.dir, name);
      const text = await readFile(file, 'utf8');
      let change: Change;
      try {
        change = decodeChange(text);
      } catch (e) {
        const why = (e as Error).message;
        throw new SignetError(
          'MALFORMED_METADATA',
          `staged change ${file} is not a change notary or signet can apply: ${why}`,
          {
            cause: e,
            fix: `remove the file, or clear the staged changes with \`signet status <repository> --clear\``,
          },
        );
      }
      out.push({ file, change });
    }
    return out;
  }

  async add(changes: Change[]): Promise<void> {
    await ensurePrivateDir(this.dir);
    for (const c of changes) {
      const name = `${unixNano().toString().padStart(20, '0')}_${crypto.randomUUID()}.change`;
      const body = JSON.stringify({
        action: c.action,
        role: c.role,
        type: c.type,
        path: c.path,
        data: encodeData(c),
      });
      await writeFileAtomic(path.join(this.dir, name), body);
    }
  }

  /** Remove the given files (those just published), or every staged change. */
  async clear(files?: string[]): Promise<void> {
    if (files === undefined) {
      await rm(this.dir, { recursive: true, force: true });
      return;
    }
    for (const f of files) await rm(f, { force: true });
  }
}
