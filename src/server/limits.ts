/**
 * Bounded resources of the trust server: a global budget of request-body bytes in flight, a
 * per-address token bucket (key creation), and a per-address backoff after failed authentication.
 * All state is in memory, bounded in size, and per process.
 */
import { HttpError } from './errors.js';
import type { ServerOptions } from './options.js';
import { WRITE_ROUTES, type RouteName } from './routes.js';

/** Most addresses remembered by a per-address limiter; the oldest is forgotten first. */
const MAX_ADDRESSES = 10_000;

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  if (map.size >= MAX_ADDRESSES) map.delete(map.keys().next().value as string);
  map.set(key, value);
}

/** Bytes of publish bodies being received at once, across all requests. */
export class InflightBudget {
  #used = 0;
  constructor(readonly capacity: number) {}

  get used(): number {
    return this.#used;
  }

  /** Reserves `bytes`; returns the release function, or null when the budget cannot hold them. */
  reserve(bytes: number): (() => void) | null {
    if (this.#used + bytes > this.capacity) return null;
    this.#used += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#used -= bytes;
    };
  }
}

/** A token bucket per address: `burst` at once, refilled at `perMinute`. */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    readonly perMinute: number,
    readonly burst: number,
    readonly now: () => number = Date.now,
  ) {}

  /** Takes one token; returns 0 when allowed, else the seconds until a token is available. */
  take(address: string): number {
    const now = this.now();
    const b = this.#buckets.get(address) ?? { tokens: this.burst, at: now };
    const tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 60_000) * this.perMinute);
    if (tokens < 1) {
      remember(this.#buckets, address, { tokens, at: now });
      return Math.max(1, Math.ceil(((1 - tokens) * 60) / this.perMinute));
    }
    remember(this.#buckets, address, { tokens: tokens - 1, at: now });
    return 0;
  }
}

/**
 * After `free` failed authentications from one address, each further failure blocks the address's
 * credentialed requests for twice as long as the last (1 s, 2 s, … up to `maxBlockMs`). A success
 * or `forgetMs` without failures starts the count again.
 */
export class AuthBackoff {
  readonly #state = new Map<string, { failures: number; last: number; blockedUntil: number }>();
  constructor(
    readonly free = 5,
    readonly maxBlockMs = 60_000,
    readonly forgetMs = 15 * 60_000,
    readonly now: () => number = Date.now,
  ) {}

  /** Seconds the address must still wait, or 0. */
  blockedFor(address: string): number {
    const s = this.#state.get(address);
    if (s === undefined) return 0;
    const left = s.blockedUntil - this.now();
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  failed(address: string): void {
    const now = this.now();
    const prev = this.#state.get(address);
    const failures = prev !== undefined && now - prev.last < this.forgetMs ? prev.failures + 1 : 1;
    const over = failures - this.free;
    const blockedUntil = over > 0 ? now + Math.min(this.maxBlockMs, 1000 * 2 ** (over - 1)) : 0;
    remember(this.#state, address, { failures, last: now, blockedUntil });
  }

  succeeded(address: string): void {
    this.#state.delete(address);
  }
}

export interface Admission {
  /**
   * The limits of a request about to be handled: anonymous writes, the key-request rate per
   * address, the global budget of publish body bytes. Throws the refusal (HttpError); returns what
   * releases the request's share of the budget.
   */
  admit(route: RouteName, address: string, contentLength: string | undefined): (() => void) | undefined;
  backoff: AuthBackoff;
}

/** The limits of one app (docs/server.md "Limits"). `refuseAnonymousWrites`: no auth and not allowed. */
export function admission(opts: ServerOptions, refuseAnonymousWrites: boolean): Admission {
  const bodies = new InflightBudget(opts.maxInflightBodyBytes);
  const keyRequests = new RateLimiter(opts.keyRequestsPerMinute, opts.keyRequestBurst);
  return {
    backoff: new AuthBackoff(),
    admit(route, address, contentLength) {
      if (refuseAnonymousWrites && WRITE_ROUTES.has(route)) {
        throw new HttpError(
          'DENIED',
          'anonymous writes are off on this server: configure auth, or start it with --allow-anonymous-writes',
          'anonymous write refused',
        );
      }
      if (route === 'get_key' || route === 'rotate_key') {
        const wait = keyRequests.take(address);
        if (wait > 0)
          throw new HttpError('TOOMANYREQUESTS', 'too many key requests from this address', 'key request rate', {
            'retry-after': String(wait),
          });
      }
      if (route !== 'publish') return undefined;
      const length = Number(contentLength);
      // a body of unknown length may grow to the body limit
      const want =
        contentLength !== undefined && Number.isSafeInteger(length) && length >= 0
          ? Math.min(length, opts.bodyLimit)
          : opts.bodyLimit;
      const release = bodies.reserve(want);
      if (release === null) {
        throw new HttpError('UNAVAILABLE', 'too many publish bodies in flight; retry shortly', 'body budget full', {
          'retry-after': '1',
        });
      }
      return release;
    },
  };
}
