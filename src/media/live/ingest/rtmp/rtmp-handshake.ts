import { randomBytes } from 'node:crypto';

/**
 * The server side of RTMP's simple handshake (Adobe RTMP specification 1.0, section 5.2), sans-I/O. C0 is the
 * version (3), C1 and C2 are 1536 bytes each. We answer C0+C1 with S0 (3), S1 (time, zero, random) and S2 (C1
 * echoed). No digest: ffmpeg checks the server digest only when S1's version field is non-zero, and OBS (librtmp)
 * accepts the simple form.
 */

export const handshakeBlockBytes = 1536;
const rtmpVersion = 3;

export type HandshakeStep =
  /** More bytes are needed. */
  | { kind: 'more' }
  /** C0+C1 arrived: send `reply` (S0+S1+S2), then push `rest` (bytes of C2 that came in the same read), if any. */
  | { kind: 'reply'; reply: Uint8Array; rest: Uint8Array }
  /** C2 arrived: the handshake is over; `rest` are the first chunk-stream bytes that came with it. */
  | { kind: 'done'; rest: Uint8Array }
  /** Not RTMP version 3 (e.g. an HTTP request or RTMPE's version 6): close the connection. */
  | { kind: 'refused'; reason: string };

export class RtmpHandshake {
  /** C0+C1, then C2, gathered across reads into one fixed buffer. */
  readonly #buffer = new Uint8Array(1 + 2 * handshakeBlockBytes);
  #filled = 0;
  #replied = false;

  /** Feeds received bytes. After `done`, feed nothing more. */
  push(bytes: Uint8Array): HandshakeStep {
    const want = this.#replied ? this.#buffer.byteLength : 1 + handshakeBlockBytes;
    const n = Math.min(want - this.#filled, bytes.byteLength);
    this.#buffer.set(bytes.subarray(0, n), this.#filled);
    this.#filled += n;
    if (this.#filled >= 1 && this.#buffer[0] !== rtmpVersion) return { kind: 'refused', reason: `handshake version ${this.#buffer[0]}` };
    if (this.#filled < want) return { kind: 'more' };
    const rest = bytes.subarray(n);
    if (!this.#replied) {
      this.#replied = true;
      return { kind: 'reply', reply: this.#reply(), rest };
    }
    return { kind: 'done', rest };
  }

  #reply(): Uint8Array {
    const out = new Uint8Array(1 + 2 * handshakeBlockBytes);
    out[0] = rtmpVersion;
    const s1 = out.subarray(1, 1 + handshakeBlockBytes);
    const uptimeMs = Math.floor(performance.now()) >>> 0;
    s1[0] = uptimeMs >>> 24;
    s1[1] = (uptimeMs >> 16) & 0xff;
    s1[2] = (uptimeMs >> 8) & 0xff;
    s1[3] = uptimeMs & 0xff;
    // Bytes 4–7 stay zero: the simple handshake (no digest).
    s1.set(randomBytes(handshakeBlockBytes - 8), 8);
    out.set(this.#buffer.subarray(1, 1 + handshakeBlockBytes), 1 + handshakeBlockBytes); // S2 = C1
    return out;
  }
}
