/**
 * Per role of a verified repository: its threshold, its keys and which of them have valid
 * signatures on the current file (`signet inspect --roles`, docs/thresholds.md). Counted as
 * src/tuf/verify-core.ts counts them: distinct keys, each listed key once.
 */
import {
  SignatureBudget,
  delegatorKeys,
  rootRoleKeys,
  verifyDelegate,
  type Metadata,
  type RoleKeySet,
} from '../tuf/index.js';
import { delegationRoles, signerName, walkRoles, type RepoView } from './view.js';

export interface RoleSignatureRow {
  Role: string;
  Threshold: number;
  /** canonical key IDs the role lists (root: the certificate key IDs it lists) */
  Keys: string[];
  /** canonical key IDs with a valid signature on the current file */
  SignedBy: string[];
  /** signer names (docker's `targets/<name>`) of the SignedBy keys, when they have one */
  Signers: string[];
  /** false when the file is missing or below its threshold: readers ignore the role */
  Valid: boolean;
}

function row(role: string, md: Metadata | undefined, keys: RoleKeySet, names: Map<string, string[]>): RoleSignatureRow {
  // root keys are shown by their certificate IDs, as `docker trust inspect` shows them
  const canon = (id: string): string => (role === 'root' ? id : (keys.keys[id]?.canonicalId ?? id));
  const valid =
    md === undefined
      ? []
      : verifyDelegate(md, { ...keys, threshold: Math.max(keys.keyids.length, 1) }, new SignatureBudget()).valid;
  const signedBy = valid.map(canon);
  return {
    Role: role,
    Threshold: keys.threshold,
    Keys: keys.keyids.map(canon),
    SignedBy: signedBy,
    Signers: [...new Set(signedBy.flatMap((id) => names.get(id) ?? []))],
    Valid: md !== undefined && signedBy.length >= keys.threshold,
  };
}

/** root, targets, then every delegation in notary's walk order. */
export function roleSignatureRows(repo: RepoView): RoleSignatureRow[] {
  const names = new Map<string, string[]>();
  for (const d of delegationRoles(repo)) {
    if (d.name.split('/').length !== 2 || d.name === 'targets/releases') continue;
    for (const id of d.keyIds) names.set(id, [...(names.get(id) ?? []), signerName(d.name)]);
  }
  const root = repo.root.signed;
  const rows = [
    row('root', repo.root, rootRoleKeys(root, 'root'), names),
    row('targets', repo.targets, rootRoleKeys(root, 'targets'), names),
  ];
  walkRoles(repo, (_parent, md) => {
    for (const d of md.signed.delegations?.roles ?? []) {
      const keys = delegatorKeys(d.name, root, md.signed);
      if (!keys.ok) continue;
      rows.push(row(d.name, repo.delegations.get(d.name), keys.keys, names));
    }
  });
  return rows;
}
