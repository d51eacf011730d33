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
import { z } from 'zod';
import type { FileMeta, KeyJson } from '../tuf/index.js';
import type { Change, DelegationEdit } from './change.js';
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

const keyJson = z.object({
  keytype: z.string(),
  keyval: z.object({ public: z.string() }),
});
const fileMetaData = z.object({
  length: z.number().int().nonnegative(),
  hashes: z.record(z.string(), z.string()),
  custom: z.unknown().optional(),
});
const delegationData = z.object({
  new_name: z.string().optional(),
  threshold: z.number().int().nonnegative().optional(),
  add_keys: z.array(keyJson).nullish(),
  remove_keys: z.array(z.string()).nullish(),
  add_paths: z.array(z.string()).nullish(),
  remove_paths: z.array(z.string()).nullish(),
  clear_paths: z.boolean().optional(),
});
const rootRoleData = z.object({
  keys: z.array(keyJson),
  role: z.enum(['root', 'targets', 'snapshot', 'timestamp']),
});
const changeFile = z.object({
  action: z.enum(['create', 'update', 'delete']),
  role: z.string(),
  type: z.string(),
  path: z.string().default(''),
  data: z.string().nullish(),
});

/** A change file's JSON as the typed change it stands for; throws (a message) when it is not one. */
function decodeChange(raw: unknown): Change {
  const f = changeFile.parse(raw);
  const data = <T>(schema: z.ZodType<T>): T => {
    if (f.data === undefined || f.data === null) throw new Error(`a ${f.action} ${f.type} change needs data`);
    return schema.parse(JSON.parse(Buffer.from(f.data, 'base64').toString('utf8')));
  };
  const { role, path: p } = f;
  if (f.type === 'target') {
    if (f.action === 'delete') return { type: 'target', action: 'delete', role, path: p };
    if (f.action !== 'create') throw new Error(`unsupported target action ${f.action}`);
    const m = data(fileMetaData);
    const meta: FileMeta = { length: m.length, hashes: m.hashes };
    if (m.custom !== undefined) meta.custom = m.custom as FileMeta['custom'];
    return { type: 'target', action: 'create', role, path: p, meta };
  }
  if (f.type === 'delegation') {
    if (f.action === 'delete') return { type: 'delegation', action: 'delete', role, path: p };
    const d = data(delegationData);
    const edit: DelegationEdit = {};
    if (d.new_name) edit.newName = d.new_name;
    if (d.threshold) edit.threshold = d.threshold;
    if (d.add_keys)
      edit.addKeys = d.add_keys.map(
        (k) => ({ keytype: k.keytype, keyval: { private: null, public: k.keyval.public } }) as KeyJson,
      );
    if (d.remove_keys) edit.removeKeys = d.remove_keys;
    if (d.add_paths) edit.addPaths = d.add_paths;
    if (d.remove_paths) edit.removePaths = d.remove_paths;
    if (d.clear_paths) edit.clearPaths = true;
    return { type: 'delegation', action: f.action, role, path: p, edit };
  }
  if (f.type === 'role') {
    if (role !== 'root' || f.action !== 'create') throw new Error(`unsupported ${f.action} role change in ${role}`);
    const r = data(rootRoleData);
    const keys = r.keys.map(
      (k) => ({ keytype: k.keytype, keyval: { private: null, public: k.keyval.public } }) as KeyJson,
    );
    return { type: 'role', action: 'create', role: 'root', path: p, baseRole: r.role, keys };
  }
  throw new Error(`unsupported change type ${f.type}`);
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
      const text = await readFile(file, 'utf8');
      let change: Change;
      try {
        change = decodeChange(JSON.parse(text));
      } catch (e) {
        const why = e instanceof z.ZodError ? z.prettifyError(e).replace(/\n/g, '; ') : (e as Error).message;
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
