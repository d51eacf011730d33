/**
 * Cross-server change notices on PostgreSQL: every publish that stores a timestamp, and every
 * delete, sends `NOTIFY signet_changes` inside its transaction (PostgreSQL delivers it at COMMIT,
 * to every listening session). `ChangeListener` keeps one dedicated connection LISTENing and
 * hands the notices to subscribers; when that connection is lost it reconnects and reports one
 * `resync` (notices sent meanwhile are gone, so caches must drop everything).
 */
import { sql } from 'kysely';
import pg from 'pg';
import type { Db } from './queries.js';
import type { StoreChange } from './types.js';
import type { StoreLogger } from './types.js';

export const CHANGES_CHANNEL = 'signet_changes';

/** Sends the notice of a change to `gun` (delivered when the enclosing transaction commits). */
export async function notifyChange(db: Db, gun: string, version: number, deleted: boolean): Promise<void> {
  const payload = JSON.stringify({ g: gun, v: version, d: deleted });
  await sql`select pg_notify(${CHANGES_CHANNEL}, ${payload})`.execute(db);
}

function parse(payload: string | undefined): StoreChange | null {
  try {
    const o = JSON.parse(payload ?? '') as { g?: unknown; v?: unknown; d?: unknown };
    if (typeof o.g !== 'string' || typeof o.v !== 'number') return null;
    return { kind: 'gun', gun: o.g, version: o.v, deleted: o.d === true };
  } catch {
    return null;
  }
}

const RECONNECT_MS = [100, 500, 1000, 2000, 5000];

export class ChangeListener {
  readonly #url: string;
  readonly #logger: StoreLogger;
  readonly #listeners = new Set<(c: StoreChange) => void>();
  #client: pg.Client | undefined;
  #closed = false;
  #started = false;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  /** per GUN, the highest timestamp version a notice announced (bounded) */
  readonly #seen = new Map<string, number>();
  readonly #waiters = new Map<string, { version: number; done: () => void }[]>();

  constructor(url: string, logger: StoreLogger) {
    this.#url = url;
    this.#logger = logger;
  }

  /** Whether notices are arriving (false while (re)connecting). */
  get live(): boolean {
    return this.#client !== undefined;
  }

  subscribe(l: (c: StoreChange) => void): () => void {
    this.#listeners.add(l);
    if (!this.#started) {
      this.#started = true;
      void this.#connect(false);
    }
    return () => this.#listeners.delete(l);
  }

  #emit(c: StoreChange): void {
    for (const l of this.#listeners) {
      try {
        l(c);
      } catch {
        // a subscriber's failure is its own
      }
    }
  }

  async #connect(after: boolean): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({ connectionString: this.#url, connectionTimeoutMillis: 10_000 });
    const lost = (err?: Error): void => {
      if (this.#client !== client) return;
      this.#client = undefined;
      client.removeAllListeners('notification');
      client.end().catch(() => undefined);
      if (!this.#closed) {
        this.#logger.warn({ err: err?.message }, 'PostgreSQL change listener lost its connection; reconnecting');
        this.#retry();
      }
    };
    client.on('error', (err) => lost(err));
    client.on('end', () => lost());
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      if (this.#closed) return;
      this.#logger.warn({ err: (err as Error).message }, 'PostgreSQL change listener could not connect; retrying');
      this.#retry();
      return;
    }
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    client.on('notification', (msg) => {
      const c = parse(msg.payload);
      if (c === null) return;
      if (c.kind === 'gun' && !c.deleted) this.#heard(c.gun, c.version);
      this.#emit(c);
    });
    this.#client = client;
    this.#failures = 0;
    // notices sent while nobody listened are lost: everything cached may be stale
    if (after) this.#emit({ kind: 'resync' });
  }

  #heard(gun: string, version: number): void {
    if (this.#seen.size >= 10_000) this.#seen.clear();
    if (version > (this.#seen.get(gun) ?? -1)) this.#seen.set(gun, version);
    const ws = this.#waiters.get(gun);
    if (ws === undefined) return;
    const left = ws.filter((w) => w.version > version);
    for (const w of ws) if (w.version <= version) w.done();
    if (left.length === 0) this.#waiters.delete(gun);
    else this.#waiters.set(gun, left);
  }

  /**
   * Resolves once this session has received the notice of timestamp `version` of `gun` (at most
   * `ms` later; at once when not listening). A server replies to a publish after that, so the
   * other servers, which PostgreSQL notifies at the same commit, have had the notice as long.
   */
  heardOf(gun: string, version: number, ms: number): Promise<void> {
    if (!this.live || (this.#seen.get(gun) ?? -1) >= version) return Promise.resolve();
    return new Promise((resolve) => {
      const w = {
        version,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        const ws = this.#waiters.get(gun)?.filter((x) => x !== w) ?? [];
        if (ws.length === 0) this.#waiters.delete(gun);
        else this.#waiters.set(gun, ws);
        resolve();
      }, ms);
      const ws = this.#waiters.get(gun) ?? [];
      ws.push(w);
      this.#waiters.set(gun, ws);
    });
  }

  #retry(): void {
    const wait = RECONNECT_MS[Math.min(this.#failures++, RECONNECT_MS.length - 1)] as number;
    this.#timer = setTimeout(() => void this.#connect(true), wait);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const c = this.#client;
    this.#client = undefined;
    if (c !== undefined) await c.end().catch(() => undefined);
  }
}
