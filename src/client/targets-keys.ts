/**
 * The keys and threshold of the `targets` role in root (the "Repository Key" of `docker trust
 * inspect`): several administrators, each with their own key, of whom a threshold must sign. The
 * change is notary's base-key replacement (N:tuf/tuf.go ReplaceBaseKeys) with a threshold; the root
 * key signs the new root and the targets file is re-signed under the new keys, so with a threshold
 * above 1 it goes out as a proposal (docs/thresholds.md).
 */
import { SignetError } from '../errors.js';
import { publicKeyFromJson, type KeyJson, type PublicKey } from '../tuf/index.js';
import type { RootRoleChange } from './change.js';
import type { RepoView } from './view.js';

/** The root change that adds `add`, removes `remove` (canonical or TUF key IDs) and sets the threshold. */
export function targetsKeyChange(
  view: RepoView,
  edit: { add?: PublicKey[]; remove?: string[]; threshold?: number },
): RootRoleChange {
  const root = view.root.signed;
  const role = root.roles.targets;
  if (role === undefined) throw new SignetError('MALFORMED_METADATA', 'root has no targets role');
  const remove = new Set(edit.remove ?? []);
  const keys: KeyJson[] = [];
  const seen = new Set<string>();
  for (const id of role.keyids) {
    const k = root.keys[id];
    if (k === undefined) continue;
    const pk = publicKeyFromJson(k);
    if (remove.has(pk.canonicalId) || remove.has(pk.id)) {
      remove.delete(pk.canonicalId);
      remove.delete(pk.id);
      continue;
    }
    seen.add(pk.id);
    keys.push(k);
  }
  if (remove.size > 0) {
    throw new SignetError('NOT_FOUND', `the targets role lists no key ${[...remove].join(', ')}`, {
      fix: 'list the repository keys with `signet inspect --pretty`',
    });
  }
  for (const pk of edit.add ?? []) {
    if (seen.has(pk.id)) continue;
    seen.add(pk.id);
    keys.push({ keytype: pk.keytype, keyval: { private: null, public: pk.public } });
  }
  if (keys.length === 0) throw new SignetError('USAGE', 'the targets role needs at least one key');
  return {
    type: 'role',
    action: 'create',
    role: 'root',
    path: '',
    baseRole: 'targets',
    keys,
    threshold: edit.threshold ?? role.threshold,
  };
}
