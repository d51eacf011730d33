/**
 * The warm in-process cache of the long-lived enforcers (proxy, admission webhook): one entry per
 * key (a repository), shared by concurrent callers while it loads (single flight), kept until its
 * own expiry time. A load that fails, or that returns no expiry in the future, is not kept: the next
 * caller loads again.
 */
export interface Loaded<V> {
  value: V;
  /** epoch ms after which the entry is loaded again; ≤ now (or undefined) → not cached */
  expiresAt?: number;
}

export class WarmCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  private readonly pending = new Map<string, Promise<V>>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The cached value if present and unexpired (no loading). */
  peek(key: string): V | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** The cached value, or the result of `load` (one call at a time per key, shared by all waiters). */
  get(key: string, load: () => Promise<Loaded<V>>): Promise<V> {
    const hit = this.peek(key);
    if (hit !== undefined) return Promise.resolve(hit);
    let p = this.pending.get(key);
    if (p === undefined) {
      p = load()
        .then((r) => {
          if (r.expiresAt !== undefined && r.expiresAt > this.now())
            this.entries.set(key, { value: r.value, expiresAt: r.expiresAt });
          return r.value;
        })
        .finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    return p;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
