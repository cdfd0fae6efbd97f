import type { SegmentBody } from './segment-body.js';

/**
 * Packaged segments kept in memory, bounded by bytes. Eviction is LRU, but a new segment only displaces the
 * oldest one when it has been asked for more often recently (TinyLFU-style admission): players cycling
 * through more segments than fit would otherwise make every request a miss and churn the whole cache, while
 * with admission a stable subset stays and keeps hitting.
 */
export class SegmentCache {
  readonly #entries = new Map<string, SegmentBody>();
  readonly #frequency = new Map<string, number>();
  #bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: string): SegmentBody | undefined {
    this.#touch(key);
    const hit = this.#entries.get(key);
    if (!hit) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, hit);
    return hit;
  }

  /** Offers a freshly packaged segment; returns whether it was kept. */
  offer(key: string, body: SegmentBody): boolean {
    const weight = body.weight;
    if (weight > this.maxBytes || this.#entries.has(key)) return false;
    const mine = this.#frequency.get(key) ?? 0;
    const victims: string[] = [];
    let freed = 0;
    for (const [k, v] of this.#entries) {
      if (this.#bytes - freed + weight <= this.maxBytes) break;
      if ((this.#frequency.get(k) ?? 0) >= mine) return false; // the resident set is at least as popular
      victims.push(k);
      freed += v.weight;
    }
    for (const k of victims) this.#evict(k);
    this.#entries.set(key, body);
    this.#bytes += weight;
    body.cached = true;
    return true;
  }

  clear(): void {
    for (const key of [...this.#entries.keys()]) this.#evict(key);
    this.#frequency.clear();
  }

  get bytes(): number {
    return this.#bytes;
  }

  #evict(key: string): void {
    const body = this.#entries.get(key);
    if (!body) return;
    this.#entries.delete(key);
    this.#bytes -= body.weight;
    body.cached = false;
  }

  /** Request counts decay by halving, so yesterday's popular segments do not squat forever. */
  #touch(key: string): void {
    this.#frequency.set(key, (this.#frequency.get(key) ?? 0) + 1);
    if (this.#frequency.size > 100_000) {
      for (const [k, n] of this.#frequency) {
        if (n <= 1) this.#frequency.delete(k);
        else this.#frequency.set(k, n >> 1);
      }
    }
  }
}
