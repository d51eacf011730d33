/**
 * The hash-chained audit trail (table `audit_log`). An entry is the canonical JSON of the caller's
 * fields plus `seq` (previous + 1), `time` and `prev` (the previous entry's hash; 64 zeros for the
 * first); its hash is the sha256 of exactly those bytes. Entries are appended inside the
 * transaction of the change they record, after taking the chain lock (SQLite: the single writer
 * of BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock), so the chain has one order
 * across every server sharing the database. `AuditChainCheck` is the one verification of it.
 */
import { sql } from 'kysely';
import type { Db } from './queries.js';
import type { AuditEntry, AuditFields, AuditProblem, AuditValue } from './types.js';
import { sha256Hex } from '../digest.js';
import { toNumber } from './columns.js';

/** `prev` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** Advisory lock key of the chain on PostgreSQL: 'SIGA' (audit), distinct from the per-GUN 'SIGN' locks. */
const CHAIN_LOCK_NAMESPACE = 0x53494741;

/** Keys the chain sets itself; a caller's field of the same name is replaced. */
const RESERVED = new Set(['seq', 'time', 'prev', 'hash']);

/** Canonical JSON: object keys sorted by UTF-16 code unit, no whitespace, JSON.stringify's string escaping. */
export function canonicalJson(v: AuditValue): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x: AuditValue) => canonicalJson(x)).join(',')}]`;
  const o = v as { readonly [k: string]: AuditValue };
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k] as AuditValue)}`).join(',')}}`;
}

/** The stored text of an entry (what its hash covers). */
export function entryText(fields: AuditFields, seq: number, time: string, prev: string): string {
  const own: { [k: string]: AuditValue } = {};
  for (const [k, v] of Object.entries(fields)) if (!RESERVED.has(k) && v !== undefined) own[k] = v;
  return canonicalJson({ ...own, seq, time, prev });
}

interface AuditRow {
  seq: number | string;
  created_at: number | string;
  entry: string;
  hash: string;
}

function toEntry(r: AuditRow): AuditEntry {
  return { seq: toNumber(r.seq), createdAt: toNumber(r.created_at), text: r.entry, hash: r.hash };
}

/**
 * Appends `fields` (in order) to the chain through `db`, which must be inside a transaction that
 * commits the change they record. Returns the entries as stored (visible once that commits).
 */
export async function appendAudit(
  db: Db,
  dialect: 'sqlite' | 'postgres',
  fields: readonly AuditFields[],
  now: number = Date.now(),
): Promise<AuditEntry[]> {
  if (fields.length === 0) return [];
  if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(${CHAIN_LOCK_NAMESPACE}::int4, 0)`.execute(db);
  const head = await db
    .selectFrom('audit_log')
    .select(['seq', 'hash'])
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  let seq = head === undefined ? 0 : toNumber(head.seq);
  let prev = head === undefined ? GENESIS_HASH : head.hash;
  const time = new Date(now).toISOString();
  const out: AuditEntry[] = [];
  for (const f of fields) {
    seq++;
    const text = entryText(f, seq, time, prev);
    prev = sha256Hex(Buffer.from(text, 'utf8'));
    out.push({ seq, createdAt: now, text, hash: prev });
  }
  await db
    .insertInto('audit_log')
    .values(out.map((e) => ({ seq: e.seq, created_at: e.createdAt, entry: e.text, hash: e.hash })))
    .execute();
  return out;
}

/** Entries with seq > `afterSeq`, oldest first, at most `limit`. */
export async function listAudit(db: Db, afterSeq: number, limit: number): Promise<AuditEntry[]> {
  const rows = await db
    .selectFrom('audit_log')
    .select(['seq', 'created_at', 'entry', 'hash'])
    .where('seq', '>', afterSeq)
    .orderBy('seq', 'asc')
    .limit(limit)
    .execute();
  return rows.map(toEntry);
}

/** The newest `limit` entries, newest first. */
export async function recentAudit(db: Db, limit: number): Promise<AuditEntry[]> {
  const rows = await db
    .selectFrom('audit_log')
    .select(['seq', 'created_at', 'entry', 'hash'])
    .orderBy('seq', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toEntry);
}

/**
 * Walks the chain in seq order, one entry at a time, and names every break: an entry whose bytes
 * do not hash to its stored hash (edited), a seq that does not follow the previous one (removed
 * or reordered), a `prev` that is not the previous entry's hash (edited, removed or reordered
 * with the hashes recomputed), an entry whose own `seq` differs from its row (moved).
 */
export class AuditChainCheck {
  #prevSeq = 0;
  #prevHash = GENESIS_HASH;
  #count = 0;
  readonly problems: AuditProblem[] = [];

  get count(): number {
    return this.#count;
  }

  /** The last entry's seq and hash (the value to record elsewhere to detect removal of the tail). */
  get head(): { seq: number; hash: string } {
    return { seq: this.#prevSeq, hash: this.#prevHash };
  }

  add(e: AuditEntry): void {
    this.#count++;
    const problem = (kind: AuditProblem['kind'], message: string): void => {
      this.problems.push({ seq: e.seq, kind, message });
    };
    if (e.seq !== this.#prevSeq + 1) {
      if (e.seq > this.#prevSeq + 1) {
        const first = this.#prevSeq + 1;
        const last = e.seq - 1;
        problem('missing', `entr${first === last ? `y ${first} is` : `ies ${first}–${last} are`} missing (removed)`);
      } else problem('order', `entry ${e.seq} comes after entry ${this.#prevSeq} (reordered or duplicated)`);
    }
    if (sha256Hex(Buffer.from(e.text, 'utf8')) !== e.hash) {
      problem('edited', `entry ${e.seq} does not match its hash (its content was edited)`);
    }
    let parsed: { seq?: unknown; prev?: unknown } | undefined;
    try {
      parsed = JSON.parse(e.text) as { seq?: unknown; prev?: unknown };
    } catch {
      problem('edited', `entry ${e.seq} is not JSON`);
    }
    if (parsed !== undefined) {
      if (parsed.seq !== e.seq) problem('order', `entry ${e.seq} says it is entry ${String(parsed.seq)} (moved)`);
      if (parsed.prev !== this.#prevHash) {
        problem(
          'chain',
          `entry ${e.seq} does not link to the entry before it (${this.#prevSeq}): an entry between or before them was edited, removed or reordered`,
        );
      }
    }
    this.#prevSeq = e.seq;
    this.#prevHash = e.hash;
  }
}

export type AuditListener = (entries: readonly AuditEntry[]) => void;

/** Listeners of committed entries (the server's JSON-lines copy); a throwing listener is ignored. */
export class AuditListeners {
  readonly #listeners = new Set<AuditListener>();

  add(l: AuditListener): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }

  emit(entries: readonly AuditEntry[]): void {
    if (entries.length === 0) return;
    for (const l of this.#listeners) {
      try {
        l(entries);
      } catch {
        // a copy that fails must not fail the committed change
      }
    }
  }
}
