import { WeightedLru } from './lru.js';

export interface TtlCacheOptions<V> {
  /** How long an entry answers after it was set, unless `set` is given its own lifetime. */
  ttlMs: number;
  /**
   * The bound on what the cache holds: entries, or the summed `weigh` of the values (bytes…) when `weigh` is
   * given. Past it the least recently used entries go first, expired or not.
   */
  max: number;
  weigh?: (value: V) => number;
  /** The clock, for tests. */
  now?: () => number;
}

/**
 * A bounded map whose entries expire: the one way Reel keeps rows, drivers or verified tokens for a short while
 * (project rows 5 s, a storage account's driver 2 s for playback, a JWT until its `exp`). An expired entry is
 * never returned; it is dropped when next asked for or when the bound needs room.
 */
export class TtlCache<K, V> {
  readonly #entries: WeightedLru<K, { value: V; expiresAtMs: number }>;
  readonly #now: () => number;

  constructor(private readonly options: TtlCacheOptions<V>) {
    const weigh = options.weigh;
    this.#entries = new WeightedLru(options.max, weigh ? (entry) => weigh(entry.value) : undefined);
    this.#now = options.now ?? Date.now;
  }

  get(key: K): V | undefined {
    const hit = this.#entries.get(key);
    if (!hit) return undefined;
    // Expired: let it go now, so what it holds can be collected even if it is never set again.
    if (hit.expiresAtMs <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return hit.value;
  }

  /** Keeps `value` for `ttlMs` (the cache's own lifetime by default); a lifetime of 0 or less keeps nothing. */
  set(key: K, value: V, ttlMs = this.options.ttlMs): void {
    if (ttlMs <= 0) {
      this.#entries.delete(key);
      return;
    }
    this.#entries.set(key, { value, expiresAtMs: this.#now() + ttlMs });
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  /** Entries held, expired ones not yet dropped included. */
  get size(): number {
    return this.#entries.size;
  }
}
