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
import type { FileMeta, KeyJson } from '../tuf/index.js';
import { changelistDir } from './paths.js';

export type ChangeAction = 'create' | 'update' | 'delete';
/** `target` (scope = a targets role), `delegation` (scope = the delegation role), `role` (scope `root`). */
export type ChangeType = 'target' | 'delegation' | 'role' | 'witness';

export interface Change {
  action: ChangeAction;
  /** the scope: `targets`, `targets/<name>` or `root` */
  role: string;
  type: ChangeType;
  path: string;
  /** decoded `data` (JSON bytes), or null */
  data: Buffer | null;
}

/** Payload of a `delegation` change (N:client/changelist/change.go TUFDelegation). */
export interface DelegationPayload {
  new_name?: string;
  threshold?: number;
  add_keys?: KeyJson[];
  remove_keys?: string[];
  add_paths?: string[];
  remove_paths?: string[];
  clear_paths?: boolean;
}

/** Payload of a root `role` change (TUFRootData). */
export interface RootRolePayload {
  keys: KeyJson[];
  role: string;
}

/** FileMeta JSON as Go marshals it (length, hashes, custom). */
export function targetPayload(meta: FileMeta): Buffer {
  const o: Record<string, unknown> = { length: meta.length, hashes: meta.hashes };
  if (meta.custom !== undefined) o.custom = meta.custom;
  return Buffer.from(JSON.stringify(o));
}

export function delegationPayload(p: DelegationPayload): Buffer {
  // Go `omitempty`: leave out empty values so notary reads the same thing back.
  const o: Record<string, unknown> = {};
  if (p.new_name) o.new_name = p.new_name;
  if (p.threshold) o.threshold = p.threshold;
  if (p.add_keys && p.add_keys.length > 0) o.add_keys = p.add_keys;
  if (p.remove_keys && p.remove_keys.length > 0) o.remove_keys = p.remove_keys;
  if (p.add_paths && p.add_paths.length > 0) o.add_paths = p.add_paths;
  if (p.remove_paths && p.remove_paths.length > 0) o.remove_paths = p.remove_paths;
  if (p.clear_paths) o.clear_paths = true;
  return Buffer.from(JSON.stringify(o));
}

export function parsePayload<T>(c: Change): T {
  if (c.data === null)
    throw new SignetError('MALFORMED_METADATA', `change ${c.action} ${c.type} ${c.role} ${c.path} has no data`);
  try {
    return JSON.parse(c.data.toString('utf8')) as T;
  } catch (e) {
    throw new SignetError(
      'MALFORMED_METADATA',
      `change ${c.action} ${c.type} ${c.role} ${c.path} has unreadable data`,
      { cause: e },
    );
  }
}

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
    for (const name of names) {
      const file = path.join(this.dir, name);
      let raw: unknown;
      try {
        raw = JSON.parse(await readFile(file, 'utf8'));
      } catch (e) {
        throw new SignetError('MALFORMED_METADATA', `staged change ${file} is not valid JSON`, {
          cause: e,
          fix: `remove the file, or clear the staged changes with \`signet status <repository> --clear\``,
        });
      }
      const r = raw as Record<string, unknown>;
      const action = r.action;
      if (action !== 'create' && action !== 'update' && action !== 'delete') {
        throw new SignetError('MALFORMED_METADATA', `staged change ${file} has an unknown action ${String(action)}`);
      }
      const data = typeof r.data === 'string' ? Buffer.from(r.data, 'base64') : null;
      out.push({
        file,
        change: {
          action,
          role: String(r.role ?? ''),
          type: String(r.type ?? '') as ChangeType,
          path: String(r.path ?? ''),
          data,
        },
      });
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
        data: c.data === null ? null : c.data.toString('base64'),
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
