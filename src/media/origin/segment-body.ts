import type { BufferPool } from '../../shared/buffer-pool.js';

/**
 * A packaged response body as the views that make it up: built boxes and slices of the source reads, sent
 * with one gathered write (no copy into a single buffer). The pooled buffers behind the views go back to the
 * pool once no response is sending them and the segment cache no longer holds them.
 */
export class SegmentBody {
  #refs = 0;
  #cached = false;
  #released = false;
  /** Bytes this body keeps alive: its pooled buffers whole, plus chunks of its own. */
  readonly weight: number;

  constructor(
    readonly chunks: Uint8Array[],
    readonly size: number,
    readonly contentType: string,
    private readonly backing: Buffer[] = [],
    private readonly pool?: BufferPool,
  ) {
    const pooled = new Set(backing.map((b) => b.buffer));
    let weight = 0;
    for (const b of backing) weight += b.length;
    for (const c of chunks) if (!pooled.has(c.buffer)) weight += c.length;
    this.weight = weight + 200;
  }

  /** A response starts sending the chunks. */
  retain(): void {
    this.#refs++;
  }

  /** A response is done with them (finished or aborted). */
  releaseRef(): void {
    this.#refs--;
    this.#maybeRecycle();
  }

  set cached(value: boolean) {
    this.#cached = value;
    this.#maybeRecycle();
  }

  #maybeRecycle(): void {
    if (this.#refs > 0 || this.#cached || this.#released || !this.pool) return;
    this.#released = true;
    for (const b of this.backing) this.pool.release(b);
  }
}
