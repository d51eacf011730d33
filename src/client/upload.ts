/** The one upload of a publish (Repository.publish, a co-signed proposal). */
import type { NotaryRemote } from '../remote/index.js';
import { parseGun } from '../tuf/index.js';
import { MetadataCache } from '../updater/index.js';
import type { PublishPart } from './sign-dirty.js';

/**
 * Upload `parts` in one request. Meanwhile the uploaded targets, delegations and snapshot are
 * copied beside the metadata cache (MetadataCache.writeUploaded), so the next update reads them
 * from disk instead of downloading what this client just sent (8.9 MiB for a 100,000-tag
 * targets.json). Root stays as the updater verified it (its rotation rules) and timestamp is the
 * server's. A failed copy costs only a download; the copies of a refused upload are removed.
 */
export async function uploadParts(
  repo: { gun: string; trustDir: string; remote: NotaryRemote },
  parts: readonly PublishPart[],
): Promise<void> {
  const cache = new MetadataCache(repo.trustDir, parseGun(repo.gun));
  const kept = parts.filter((p) => p.role !== 'root' && p.role !== 'timestamp');
  const copies = Promise.all(kept.map((p) => cache.writeUploaded(p.role, p.bytes).catch(() => undefined)));
  try {
    await repo.remote.publish(repo.gun, [...parts]);
  } catch (e) {
    await copies;
    await cache.dropUploaded(kept.map((p) => p.role));
    throw e;
  }
  await copies;
}
