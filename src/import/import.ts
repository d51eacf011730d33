/**
 * `signet server import`: a notary-server deployment's repositories (every version of every role,
 * exact bytes, original times) and notary-signer's timestamp/snapshot keys into Signet's storage.
 * Keys first, then one transaction per repository, so an interrupted run resumes where it stopped:
 * rows Signet already holds are compared by hash and skipped, keys already held are skipped. Every
 * repository is verified after its import (./verify.ts).
 */
import { sha256Hex } from '../digest.js';
import { SignetError } from '../errors.js';
import type { MetaStore, MetaUpdate } from '../storage/index.js';
import type { LocalServerSigner } from '../signer/index.js';
import { decryptSignerKey, signerPrivateKey } from './jwe.js';
import type { NotarySource, SourceFile, SourceKey } from './source.js';
import { verifyRepository, type RepositoryCheck } from './verify.js';

export interface ImportOptions {
  source: NotarySource;
  store: MetaStore;
  signer: LocalServerSigner;
  /** passphrase of a notary-signer alias (NOTARY_SIGNER_<ALIAS>), undefined if not set */
  passphrase(alias: string): string | undefined;
  now?: () => Date;
  /** one line per repository as it is done */
  progress?(line: string): void;
}

export interface ImportFailure {
  gun: string;
  code: string;
  message: string;
}

export interface ImportReport {
  repositories: { source: number; imported: number; alreadyCurrent: number; verified: number; stale: number };
  files: { source: number; imported: number; alreadyPresent: number };
  changefeed: {
    sourceUpdates: number;
    sourceDeletions: number;
    /** update records whose timestamp row Signet holds (with the same hash) */
    updatesPresent: number;
    /** update records of repositories deleted on notary-server (their rows are gone there too) */
    updatesOfDeleted: number;
  };
  keys: { source: number; imported: number; alreadyPresent: number; skipped: { keyId: string; reason: string }[] };
  /** repositories Signet cannot keep timestamps fresh for: no timestamp key imported */
  withoutTimestampKey: string[];
  failures: ImportFailure[];
  checks: RepositoryCheck[];
}

/** The environment variable notary-signer reads an alias's passphrase from (cmd/notary-signer/config.go). */
export function aliasVariable(alias: string): string {
  return `NOTARY_SIGNER_${alias.toUpperCase()}`;
}

function isServerRole(role: string): role is 'timestamp' | 'snapshot' {
  return role === 'timestamp' || role === 'snapshot';
}

async function importKeys(opts: ImportOptions, report: ImportReport): Promise<void> {
  const keys: SourceKey[] = await opts.source.keys();
  report.keys.source = keys.length;
  // every alias's passphrase before writing anything: a missing one is a usage error, not a half import
  const missing = [...new Set(keys.map((k) => k.passphraseAlias))].filter((a) => !opts.passphrase(a));
  if (missing.length > 0) {
    throw new SignetError('PASSPHRASE_REQUIRED', `no passphrase for notary-signer alias(es) ${missing.join(', ')}`, {
      fix: `set ${missing.map(aliasVariable).join(', ')} as notary-signer had them`,
    });
  }
  for (const k of keys) {
    if (!isServerRole(k.role)) {
      report.keys.skipped.push({ keyId: k.keyId, reason: `role ${k.role} is not held by a trust server` });
      continue;
    }
    if (k.algorithm !== 'ecdsa') {
      report.keys.skipped.push({
        keyId: k.keyId,
        reason: `algorithm ${k.algorithm} (Signet's signer holds ECDSA P-256 keys)`,
      });
      continue;
    }
    const plain = decryptSignerKey(k.private, opts.passphrase(k.passphraseAlias) as string);
    const privateKey = signerPrivateKey(k.algorithm, plain);
    const r = await opts.signer.importKey({
      gun: k.gun,
      role: k.role,
      privateKey,
      createdAt: k.createdAt,
      lastUsed: k.lastUsed,
    });
    if (r.id !== k.keyId) {
      throw new SignetError(
        'INVALID_KEY_ID',
        `notary-signer key ${k.keyId} of ${k.gun} has the key ID ${r.id} by its content`,
      );
    }
    if (r.imported) report.keys.imported++;
    else report.keys.alreadyPresent++;
  }
}

/** Imports one repository in one transaction; returns [imported, alreadyPresent]. */
async function importGun(store: MetaStore, gun: string, files: SourceFile[]): Promise<[number, number]> {
  for (const f of files) {
    const actual = sha256Hex(f.data);
    if (f.sha256 !== '' && f.sha256 !== actual) {
      throw new SignetError(
        'MIX_AND_MATCH',
        `${gun} ${f.role} version ${f.version}: the source row's sha256 column does not match its data`,
      );
    }
  }
  return store.withGun(gun, async (tx) => {
    const updates: MetaUpdate[] = [];
    let present = 0;
    for (const f of files) {
      const have = await tx.getByVersion(gun, f.role, f.version);
      if (have === null) {
        updates.push({ role: f.role, version: f.version, data: f.data, createdAt: f.createdAt });
      } else if (have.sha256 === sha256Hex(f.data)) {
        present++;
      } else {
        throw new SignetError(
          'CONFLICT',
          `${gun} ${f.role} version ${f.version}: Signet already holds different bytes`,
          {
            fix: 'the repository was published to Signet after an earlier import; import it before clients publish to Signet, or delete it there first',
          },
        );
      }
    }
    // timestamps last, in version order, so the changefeed records come out in publishing order
    updates.sort((a, b) => Number(a.role === 'timestamp') - Number(b.role === 'timestamp') || a.version - b.version);
    await tx.updateMany(gun, updates);
    return [updates.length, present];
  });
}

function failure(gun: string, err: unknown): ImportFailure {
  return err instanceof SignetError
    ? { gun, code: err.code, message: err.message }
    : { gun, code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

export async function importNotary(opts: ImportOptions): Promise<ImportReport> {
  const now = opts.now ?? (() => new Date());
  const report: ImportReport = {
    repositories: { source: 0, imported: 0, alreadyCurrent: 0, verified: 0, stale: 0 },
    files: { source: 0, imported: 0, alreadyPresent: 0 },
    changefeed: { sourceUpdates: 0, sourceDeletions: 0, updatesPresent: 0, updatesOfDeleted: 0 },
    keys: { source: 0, imported: 0, alreadyPresent: 0, skipped: [] },
    withoutTimestampKey: [],
    failures: [],
    checks: [],
  };
  await importKeys(opts, report);

  const guns = await opts.source.guns();
  const live = new Set(guns);
  report.repositories.source = guns.length;
  for (const gun of guns) {
    try {
      const files = await opts.source.files(gun);
      report.files.source += files.length;
      const [imported, present] = await importGun(opts.store, gun, files);
      report.files.imported += imported;
      report.files.alreadyPresent += present;
      if (imported > 0) report.repositories.imported++;
      else report.repositories.alreadyCurrent++;
      const check = await verifyRepository(opts.store, opts.store.keys, gun, now());
      report.checks.push(check);
      report.repositories.verified++;
      if (check.stale) report.repositories.stale++;
      if (!check.timestampKeyHeld) report.withoutTimestampKey.push(gun);
      opts.progress?.(
        `${gun}: ${imported} file(s) imported, ${present} already present, chain verified (root v${check.rootVersion}, timestamp v${check.timestampVersion})`,
      );
    } catch (err) {
      report.failures.push(failure(gun, err));
      opts.progress?.(`${gun}: FAILED: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  // the changefeed: each 'update' record of notary is one timestamp row, re-created with it above
  for (const c of await opts.source.changes()) {
    if (c.category === 'deletion') {
      report.changefeed.sourceDeletions++;
      continue;
    }
    report.changefeed.sourceUpdates++;
    if (!live.has(c.gun)) {
      report.changefeed.updatesOfDeleted++;
      continue;
    }
    const row = await opts.store.getByVersion(c.gun, 'timestamp', c.version);
    if (row !== null && row.sha256 === c.sha256) report.changefeed.updatesPresent++;
  }
  return report;
}
