/**
 * Reading one of notary's change files (changelist.ts) into the typed change it stands for, with
 * zod. Kept apart so that zod is loaded only when a staged change is read.
 */
import { z } from 'zod';
import type { FileMeta, KeyJson } from '../tuf/index.js';
import type { Change, DelegationEdit } from './change.js';
import { schemaError } from './schema-error.js';

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

/** A key of a change file as TUF key JSON (public half only, as notary writes it). */
const publicKeyJson = (k: z.infer<typeof keyJson>): KeyJson =>
  ({ keytype: k.keytype, keyval: { private: null, public: k.keyval.public } }) as KeyJson;

function decodeParsed(raw: unknown): Change {
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
    if (d.add_keys) edit.addKeys = d.add_keys.map(publicKeyJson);
    if (d.remove_keys) edit.removeKeys = d.remove_keys;
    if (d.add_paths) edit.addPaths = d.add_paths;
    if (d.remove_paths) edit.removePaths = d.remove_paths;
    if (d.clear_paths) edit.clearPaths = true;
    return { type: 'delegation', action: f.action, role, path: p, edit };
  }
  if (f.type === 'role') {
    if (role !== 'root' || f.action !== 'create') throw new Error(`unsupported ${f.action} role change in ${role}`);
    const r = data(rootRoleData);
    const keys = r.keys.map(publicKeyJson);
    return { type: 'role', action: 'create', role: 'root', path: p, baseRole: r.role, keys };
  }
  throw new Error(`unsupported change type ${f.type}`);
}

/** A change file's text as the typed change it stands for; throws an Error whose message says why it is not one. */
export function decodeChange(text: string): Change {
  try {
    return decodeParsed(JSON.parse(text));
  } catch (e) {
    throw schemaError(e);
  }
}
