/**
 * Re-signing a targets role after a few target entries changed. notary keeps a role's targets as
 * one map and signs the canonical encoding of all of it (N:tuf/data/targets.go), so adding one tag
 * to a role of 100,000 re-encodes 100,000 entries. Here the canonical bytes of the entries that did
 * not change are taken from the parsed file they came from (its `signedBytes`, canonical by
 * construction: metadata.ts), the changed ones are encoded and put in key order, and the result is
 * the same bytes the encoder would make of the whole body. Whenever that cannot be shown cheaply
 * (a key with an escape, an entry count that does not add up), the whole body is encoded instead.
 */
import { canonicalJsonAt, canonicalJsonWith, compareUtf8, type JsonObject, type JsonValue } from './canonical-json.js';
import { canonicalMemberStart, spliceCanonicalObject, type MemberChange } from './canonical-scan.js';
import { signCanonical, signMetadata } from './metadata.js';
import { checkSignedStructure } from './structure.js';
import type { FileMeta, Metadata, RoleName, Signature, Signer, TargetsSigned } from './types.js';

/** Set an own property even for names like `__proto__` (a plain assignment would change the prototype). */
export function setOwn<T>(map: Record<string, T>, name: string, value: T): void {
  Object.defineProperty(map, name, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * canonical(signed) when `signed` differs from `base.signed` only in members other than `targets`
 * and in the target entries named in `changed` (added, replaced or removed: the caller must name
 * every one, as WorkingRepo does; an unnamed addition or removal is caught by the entry count);
 * undefined when the bytes cannot be built from base's. Checks the structure of everything but the
 * unchanged entries, which passed the same checks when `base` was parsed or signed.
 */
export function editedTargetsBytes(
  role: RoleName,
  base: Metadata<TargetsSigned>,
  signed: TargetsSigned,
  changed: ReadonlySet<string>,
): Buffer | undefined {
  const targets = signed.targets;
  const entries: Record<string, FileMeta> = {};
  for (const name of changed) if (Object.hasOwn(targets, name)) setOwn(entries, name, targets[name] as FileMeta);
  checkSignedStructure(role, { ...signed, targets: entries } as unknown as JsonValue, `${role}.json`);
  const start = canonicalMemberStart(base.signedBytes, 0, 'targets');
  if (start === undefined) return undefined;
  const changes: MemberChange[] = [...changed].sort(compareUtf8).map((name) => ({
    key: Buffer.from(name, 'utf8'),
    member: Object.hasOwn(entries, name) ? memberBytes(name, entries[name] as FileMeta) : undefined,
  }));
  const spliced = spliceCanonicalObject(base.signedBytes, start, 1, changes);
  // every entry not named in `changed` must be one of base's: a count that differs means one is not
  if (spliced === undefined || spliced.members !== Object.keys(targets).length) return undefined;
  return canonicalJsonWith(signed as unknown as JsonObject, new Map([['targets', spliced.parts]]));
}

/** `"name":<canonical entry>`, the entry nested as a target is (signed → targets → entry). */
function memberBytes(name: string, meta: FileMeta): Buffer {
  const one: Record<string, FileMeta> = {};
  setOwn(one, name, meta);
  const obj = canonicalJsonAt(one as unknown as JsonValue, 1);
  return obj.subarray(1, obj.length - 1);
}

/** signMetadata of an edited targets body (see editedTargetsBytes), the same file either way. */
export async function signEditedTargets(
  role: RoleName,
  base: Metadata<TargetsSigned>,
  signed: TargetsSigned,
  changed: ReadonlySet<string>,
  signers: readonly Signer[],
  keep: readonly Signature[] = [],
): Promise<Metadata<TargetsSigned>> {
  const bytes = editedTargetsBytes(role, base, signed, changed);
  if (bytes === undefined) return signMetadata(role, signed, signers, keep);
  return signCanonical(role, signed, bytes, signers, keep);
}
