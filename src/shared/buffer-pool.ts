/**
 * Reusable large buffers. Segment bodies are 0.5–5 MB and a busy origin sends hundreds a second; allocating
 * each one fresh makes V8 chase external memory with GC (a fifth of the CPU, and RSS far above the live set).
 * Buffers are kept per size class (rounded up to `granularity`) until `maxPooledBytes` are idle; once nothing
 * was acquired for `idleMs`, the idle ones are let go, so a quiet origin does not keep its busiest moment's buffers.
 */
export class BufferPool {
  readonly #free = new Map<number, Buffer[]>();
  #pooledBytes = 0;
  #lastAcquire = 0;
  #trimTimer: NodeJS.Timeout | undefined;
  readonly #idleMs: number;

  constructor(private readonly options: { maxPooledBytes: number; granularity?: number; idleMs?: number }) {
    this.#idleMs = options.idleMs ?? 10_000;
  }

  /** A buffer of at least `size` bytes (its contents are garbage); give it back with `release`. */
  acquire(size: number): Buffer {
    this.#lastAcquire = performance.now();
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
    this.#armTrim();
  }

  get pooledBytes(): number {
    return this.#pooledBytes;
  }

  /** Fires `idleMs` after the last acquire (re-armed for the rest when one came since); a burst after a trim refills the pool within a few segments. */
  #armTrim(delayMs = this.#idleMs): void {
    const idleMs = this.#idleMs;
    if (this.#trimTimer || !Number.isFinite(idleMs)) return;
    this.#trimTimer = setTimeout(() => {
      this.#trimTimer = undefined;
      const quietMs = performance.now() - this.#lastAcquire;
      if (quietMs >= idleMs) {
        this.#free.clear();
        this.#pooledBytes = 0;
      } else if (this.#pooledBytes > 0) this.#armTrim(idleMs - quietMs);
    }, delayMs);
    this.#trimTimer.unref();
  }

  #classOf(size: number): number {
    const g = this.options.granularity ?? 128 * 1024;
    return Math.max(g, Math.ceil(size / g) * g);
  }
}
