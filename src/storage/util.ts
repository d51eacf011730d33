import { SignetError } from '../errors.js';

export type StoreLogger = { warn(o: object, msg: string): void };
export const silentLogger: StoreLogger = { warn: () => undefined };

/** int8 columns arrive as strings from pg and as numbers from better-sqlite3. */
export function toNumber(v: number | string | bigint): number {
  return typeof v === 'number' ? v : Number(v);
}

/**
 * Go's time.RFC3339Nano for a UTC instant: fraction digits without trailing zeros, and no dot at
 * all when the fraction is zero (`2006-01-02T15:04:05.999999999Z07:00`).
 */
export function rfc3339Nano(ms: number): string {
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const base = iso.slice(0, 19);
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return frac === '' ? `${base}Z` : `${base}.${frac}Z`;
}

/** Largest version notary's SQL schema can hold (`version integer`). */
export const MAX_VERSION = 2 ** 31 - 1;

export function checkVersionRange(role: string, version: number): void {
  if (!Number.isInteger(version) || version < 0 || version > MAX_VERSION) {
    throw new SignetError(
      'USAGE',
      `version ${String(version)} of role ${role} is not an integer in [0, ${MAX_VERSION}]`,
      {
        details: { role, version },
      },
    );
  }
}

export function conflict(role: string, version: number, why: string): SignetError {
  return new SignetError('CONFLICT', `cannot store ${role} version ${version}: ${why}`, {
    details: { role, version },
    fix: 'fetch the latest metadata, bump the version and publish again',
  });
}

/**
 * Per-key async mutex: `run(key, fn)` waits for earlier holders of the same key only.
 * Entries are dropped when nobody waits, so the map does not grow with the number of GUNs.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = prev.then(() => mine);
    this.#tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}

/** Wraps a foreign database error as STORAGE; SignetErrors pass through unchanged. */
export function storageError(err: unknown, what: string): SignetError {
  if (err instanceof SignetError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new SignetError('STORAGE', `${what} failed: ${msg}`, {
    cause: err,
    fix: 'check that the database is reachable and healthy; details are in the server log',
  });
}

function errCode(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
}

/** Unique / primary-key violation on either backend. */
export function isUniqueViolation(err: unknown): boolean {
  const code = errCode(err);
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** Transient contention worth retrying the whole transaction for. */
export function isRetryable(err: unknown): boolean {
  const code = errCode(err);
  return (
    code === '40001' || // serialization_failure
    code === '40P01' || // deadlock_detected
    code === '55P03' || // lock_not_available
    code === 'SQLITE_BUSY' ||
    code === 'SQLITE_BUSY_SNAPSHOT' ||
    code === 'SQLITE_BUSY_RECOVERY' ||
    code === 'SQLITE_LOCKED'
  );
}

/** Counting semaphore: at most `limit` holders at once, the others queue in order. */
export class Semaphore {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.#free = Math.max(1, Math.floor(limit));
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next !== undefined) next();
      else this.#free++;
    }
  }
}
