/**
 * Immutable files (by checksum / by version) kept in memory, LRU-bounded. They never change, but a
 * GUN deletion removes them, so entries are dropped per GUN and (shared database) expire after ttl.
 */
import type { CachedFile } from './current.js';

interface Entry {
  file: CachedFile;
  at: number;
}

export class FileCache {
  readonly #map = new Map<string, Entry>();
  readonly #max: number;
  readonly #maxBytes: number;
  readonly #ttlMs: number;
  #bytes = 0;

  constructor(max: number, ttlMs: number, maxBytes = 128 * 1024 * 1024) {
    this.#max = max;
    this.#ttlMs = ttlMs;
    this.#maxBytes = maxBytes;
  }

  #delete(key: string): void {
    const e = this.#map.get(key);
    if (e === undefined) return;
    this.#bytes -= e.file.bytes.length;
    this.#map.delete(key);
  }

  static key(gun: string, kind: 'sha' | 'ver', role: string, id: string): string {
    return `${gun}\u0000${kind}\u0000${role}\u0000${id}`;
  }

  get(key: string, now: number): CachedFile | undefined {
    const e = this.#map.get(key);
    if (e === undefined) return undefined;
    if (this.#ttlMs > 0 && now - e.at >= this.#ttlMs) {
      this.#delete(key);
      return undefined;
    }
    return e.file;
  }

  set(key: string, file: CachedFile, now: number): void {
    if (this.#max <= 0 || file.bytes.length > this.#maxBytes / 4) return;
    this.#delete(key);
    this.#map.set(key, { file, at: now });
    this.#bytes += file.bytes.length;
    while (this.#map.size > this.#max || this.#bytes > this.#maxBytes) {
      const oldest = this.#map.keys().next().value;
      if (oldest === undefined) break;
      this.#delete(oldest);
    }
  }

  dropGun(gun: string): void {
    const prefix = `${gun}\u0000`;
    for (const k of [...this.#map.keys()]) if (k.startsWith(prefix)) this.#delete(k);
  }

  clear(): void {
    this.#map.clear();
    this.#bytes = 0;
  }
}
