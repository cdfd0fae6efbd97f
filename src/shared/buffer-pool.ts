/**
 * Reusable large buffers. Segment bodies are 0.5–5 MB and a busy origin sends hundreds a second; allocating
 * each one fresh makes V8 chase external memory with GC (a fifth of the CPU, and RSS far above the live set).
 * Buffers are kept per size class (rounded up to `granularity`) until `maxPooledBytes` are idle.
 */
export class BufferPool {
  readonly #free = new Map<number, Buffer[]>();
  #pooledBytes = 0;

  constructor(private readonly options: { maxPooledBytes: number; granularity?: number }) {}

  /** A buffer of at least `size` bytes (its contents are garbage); give it back with `release`. */
  acquire(size: number): Buffer {
    const capacity = this.#classOf(size);
    const list = this.#free.get(capacity);
    const reused = list?.pop();
    if (reused) {
      this.#pooledBytes -= reused.length;
      return reused;
    }
    return Buffer.allocUnsafeSlow(capacity);
  }

  /** Returns a buffer from `acquire`; nothing may use it afterwards. */
  release(buffer: Buffer): void {
    if (this.#pooledBytes + buffer.length > this.options.maxPooledBytes) return; // let GC have it
    const list = this.#free.get(buffer.length);
    if (list) list.push(buffer);
    else this.#free.set(buffer.length, [buffer]);
    this.#pooledBytes += buffer.length;
  }

  get pooledBytes(): number {
    return this.#pooledBytes;
  }

  #classOf(size: number): number {
    const g = this.options.granularity ?? 128 * 1024;
    return Math.max(g, Math.ceil(size / g) * g);
  }
}
