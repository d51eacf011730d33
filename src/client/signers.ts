/**
 * `docker trust signer add|remove` (C:cli/command/trust/signer_add.go, signer_remove.go).
 * Docker 28's `signer remove` publishes nothing (NOTES.md); ours removes the signer's keys from
 * `targets/releases` and the `targets/<name>` role, and publishes.
 */
import { SignetError } from '../errors.js';
import { decodePemBlocks } from '../keys/index.js';
import { certificatePublicKey, pemEncode, publicKeyFromSpki, type PublicKey } from '../tuf/index.js';
import type { Change } from './change.js';
import type { PublishReport, Repository } from './repository.js';
import { tagChanges, type TagChange } from './tag-changes.js';
import { RELEASES_ROLE, checkSignerName, delegationRoles } from './view.js';

/** Docker reads at most 1 MiB of a public key file (N:const.go). */
export const MAX_PUBLIC_KEY_FILE = 1024 * 1024;

/** A signer's public key file: PEM `PUBLIC KEY` (ecdsa/rsa/ed25519) or `CERTIFICATE` (x509). */
export function parsePublicKeyFile(text: string, file: string): PublicKey {
  if (text.length > MAX_PUBLIC_KEY_FILE) throw new SignetError('INVALID_KEY', `${file} is larger than 1 MiB`);
  let blocks;
  try {
    blocks = decodePemBlocks(text);
  } catch (e) {
    throw new SignetError('INVALID_KEY', `${file} is not a PEM file`, {
      cause: e,
      fix: 'pass the .pub file written by `signet key generate` or `docker trust key generate`',
    });
  }
  const first = blocks[0];
  if (first === undefined) {
    throw new SignetError('INVALID_KEY', `${file} holds no PEM public key`, {
      fix: 'pass the .pub file written by `signet key generate` or `docker trust key generate`',
    });
  }
  if (first.type === 'PUBLIC KEY') return publicKeyFromSpki(first.bytes);
  if (first.type === 'CERTIFICATE') {
    const pem = blocks
      .filter((b) => b.type === 'CERTIFICATE')
      .map((b) => pemEncode('CERTIFICATE', b.bytes))
      .join('');
    return certificatePublicKey(pem);
  }
  if (first.type.includes('PRIVATE KEY')) {
    throw new SignetError('INVALID_KEY', `${file} is a private key; a signer is added with its public key`, {
      fix: 'pass the .pub file (never share the private key)',
    });
  }
  throw new SignetError('INVALID_KEY', `${file} holds a ${first.type}, not a PUBLIC KEY or CERTIFICATE`);
}

/**
 * The changes that add signer `name`: `targets/<name>` and `targets/releases` with its keys, paths
 * [""]. `releasesThreshold`: the signatures `targets/releases` (the role Docker trusts) needs from
 * then on; left out, existing thresholds are kept (a new role starts at 1).
 */
export function signerAddChanges(name: string, keys: PublicKey[], releasesThreshold?: number): Change[] {
  checkSignerName(name);
  if (keys.length === 0) throw new SignetError('USAGE', 'a signer needs at least one public key');
  const addKeys = keys.map((k) => ({ keytype: k.keytype, keyval: { private: null, public: k.public } }));
  const changes: Change[] = [];
  for (const role of [`targets/${name}`, RELEASES_ROLE]) {
    const threshold = role === RELEASES_ROLE ? releasesThreshold : undefined;
    changes.push({
      type: 'delegation',
      action: 'create',
      role,
      path: '',
      edit: { addKeys, addPaths: [''], ...(threshold === undefined ? {} : { threshold }) },
    });
  }
  return changes;
}

/** The change that sets the threshold of delegation `role` (default `targets/releases`). */
export function thresholdChange(role: string, threshold: number): Change {
  if (!Number.isInteger(threshold) || threshold < 1) {
    throw new SignetError('USAGE', `a threshold is a whole number of at least 1, got ${threshold}`);
  }
  return { type: 'delegation', action: 'update', role, path: '', edit: { threshold } };
}

/** Add `targets/<name>` and `targets/releases` with the signer's keys, paths [""]; one publish. */
export async function addSigner(
  repo: Repository,
  name: string,
  keys: PublicKey[],
  opts: { releasesThreshold?: number } = {},
): Promise<PublishReport & { created: boolean }> {
  const changes = signerAddChanges(name, keys, opts.releasesThreshold);
  const { created } = await repo.readOrInit();
  const res = await repo.publish({ extra: changes, includeStaged: false });
  return { ...res, created };
}

/**
 * Remove signer `name`: its keys leave `targets/releases` (the role goes when no key is left) and
 * `targets/<name>` is deleted. Returns the removed key IDs and the tags that now resolve differently.
 */
export async function removeSigner(
  repo: Repository,
  name: string,
): Promise<PublishReport & { removedKeyIds: string[]; tagChanges: TagChange[] }> {
  checkSignerName(name);
  const view = await repo.read({ forWrite: true });
  const dels = delegationRoles(view);
  const role = dels.find((d) => d.name === `targets/${name}`);
  if (role === undefined) {
    throw new SignetError('NOT_FOUND', `${repo.gun} has no signer "${name}"`, {
      fix: 'list the signers with `signet inspect`',
    });
  }
  // keys other signers still use stay in releases
  const stillUsed = new Set(
    dels.filter((d) => d.name !== role.name && d.name !== RELEASES_ROLE).flatMap((d) => d.keyIds),
  );
  const remove = role.keyIds.filter((id) => !stillUsed.has(id));
  const releases = dels.find((d) => d.name === RELEASES_ROLE);
  const changes: Change[] = [];
  if (releases !== undefined && remove.length > 0) {
    const left = releases.keyIds.filter((id) => !remove.includes(id));
    if (left.length === 0) changes.push({ type: 'delegation', action: 'delete', role: RELEASES_ROLE, path: '' });
    else
      changes.push({
        type: 'delegation',
        action: 'update',
        role: RELEASES_ROLE,
        path: '',
        edit: { removeKeys: remove },
      });
  }
  changes.push({ type: 'delegation', action: 'delete', role: role.name, path: '' });
  const res = await repo.publish({ extra: changes, includeStaged: false });
  return { ...res, removedKeyIds: remove, tagChanges: tagChanges(view, await repo.read()) };
}
