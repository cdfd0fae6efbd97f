import type { FlvTag } from './ingest-contracts.js';

const headerBytes = 9;
const tagHeaderBytes = 11;

/**
 * Reads an FLV byte stream (ffmpeg's `-f flv pipe:` output: SRT remuxed, transcoder rungs) as it arrives and
 * hands out its tags. Chunks are kept as a list of views; a tag that lies inside one chunk is handed out as a view
 * of it, and only a tag split across chunks is copied once into its own buffer.
 */
export class FlvStreamReader {
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #sawHeader = false;

  constructor(private readonly onTag: (tag: FlvTag) => void) {}

  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.byteLength;
    this.#drain();
  }

  #drain(): void {
    for (;;) {
      if (!this.#sawHeader) {
        if (this.#buffered < headerBytes + 4) return;
        const head = this.#peek(headerBytes);
        if (head[0] !== 0x46 || head[1] !== 0x4c || head[2] !== 0x56) throw new Error('not an FLV stream: no "FLV" signature');
        const dataOffset = ((head[5] << 24) | (head[6] << 16) | (head[7] << 8) | head[8]) >>> 0;
        if (this.#buffered < dataOffset + 4) return;
        this.#skip(dataOffset + 4); // header, then PreviousTagSize0
        this.#sawHeader = true;
        continue;
      }
      if (this.#buffered < tagHeaderBytes) return;
      const h = this.#peek(tagHeaderBytes);
      const type = h[0] & 0x1f;
      const size = (h[1] << 16) | (h[2] << 8) | h[3];
      const timestampMs = ((h[7] << 24) | (h[4] << 16) | (h[5] << 8) | h[6]) >>> 0;
      if (this.#buffered < tagHeaderBytes + size + 4) return;
      this.#skip(tagHeaderBytes);
      const data = this.#take(size);
      this.#skip(4); // PreviousTagSize
      if (type === 8 || type === 9 || type === 18) this.onTag({ type, timestampMs, data });
    }
  }

  /** The first `n` buffered bytes (a view when they lie in the first chunk). */
  #peek(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first.byteLength >= n) return first.subarray(0, n);
    return this.#copy(n, false);
  }

  #take(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (n === 0) return new Uint8Array(0);
    if (first.byteLength >= n) {
      const view = first.subarray(0, n);
      this.#skip(n);
      return view;
    }
    return this.#copy(n, true);
  }

  #copy(n: number, consume: boolean): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    for (let i = 0; filled < n; i++) {
      const c = this.#chunks[i];
      const part = Math.min(c.byteLength, n - filled);
      out.set(c.subarray(0, part), filled);
      filled += part;
    }
    if (consume) this.#skip(n);
    return out;
  }

  #skip(n: number): void {
    this.#buffered -= n;
    while (n > 0) {
      const first = this.#chunks[0];
      if (first.byteLength <= n) {
        n -= first.byteLength;
        this.#chunks.shift();
      } else {
        this.#chunks[0] = first.subarray(n);
        n = 0;
      }
    }
  }
}
