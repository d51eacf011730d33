/**
 * Which tags resolve to another digest after a change to the trust data (a signer removed, a tag
 * revoked): resolution is Docker's (src/updater listSignedTags), before and after the publish, so the
 * answer is what `docker pull` with content trust and `signet verify` now see.
 */
import { listSignedTags, type TargetsView } from '../updater/index.js';

export interface TagChange {
  tag: string;
  before: string;
  /** the digest the tag resolves to now; null: no longer signed */
  after: string | null;
}

export function tagChanges(before: TargetsView, after: TargetsView): TagChange[] {
  const now = new Map(listSignedTags(after).map((t) => [t.tag, t.digest]));
  const out: TagChange[] = [];
  for (const t of listSignedTags(before)) {
    const a = now.get(t.tag) ?? null;
    if (a !== t.digest) out.push({ tag: t.tag, before: t.digest, after: a });
  }
  return out;
}
