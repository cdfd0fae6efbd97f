/**
 * Writes ISO BMFF boxes (ISO/IEC 14496-12 §4.2) into a buffer allocated at its final size. Callers add up box
 * sizes first (the constants below), allocate once, then write headers with the size they computed; `finish`
 * checks that the two passes agree, so a size bug fails loudly instead of producing a truncated box.
 */
import { InternalError } from '../../../../shared/errors.js';

/** `size` + `type`. */
export const BOX_HEADER_SIZE = 8;
/** `size` + `type` + `version` + `flags`. */
export const FULL_BOX_HEADER_SIZE = 12;

/** A four-character code as the big-endian integer it is on the wire (`'moov'` → 0x6d6f6f76). */
export function fourcc(code: string): number {
  if (code.length !== 4) throw new InternalError('InternalError', `four-character code expected, got '${code}'`);
  return ((code.charCodeAt(0) << 24) | (code.charCodeAt(1) << 16) | (code.charCodeAt(2) << 8) | code.charCodeAt(3)) >>> 0;
}

const TWO_POW_32 = 0x1_0000_0000;

export class BoxWriter {
  readonly bytes: Uint8Array;
  /** Next byte to write. */
  position: number;
  private readonly view: DataView;

  /** Writes into `bytes` (zero-filled when freshly allocated) from `position`. */
  constructor(bytes: Uint8Array, position = 0) {
    this.bytes = bytes;
    this.position = position;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Allocates a buffer of exactly `size` bytes to write into. */
  static allocate(size: number): BoxWriter {
    return new BoxWriter(new Uint8Array(size));
  }

  /** A box header; `size` is the whole box, header included. */
  box(size: number, type: number): void {
    this.u32(size);
    this.u32(type);
  }

  /** A full box header (version and 24-bit flags). */
  fullBox(size: number, type: number, version: number, flags: number): void {
    this.u32(size);
    this.u32(type);
    this.u32(((version << 24) | (flags & 0xffffff)) >>> 0);
  }

  u8(value: number): void {
    this.bytes[this.position++] = value;
  }

  u16(value: number): void {
    this.view.setUint16(this.position, value);
    this.position += 2;
  }

  u24(value: number): void {
    this.bytes[this.position] = value >>> 16;
    this.bytes[this.position + 1] = value >>> 8;
    this.bytes[this.position + 2] = value;
    this.position += 3;
  }

  u32(value: number): void {
    this.view.setUint32(this.position, value >>> 0);
    this.position += 4;
  }

  i32(value: number): void {
    this.view.setInt32(this.position, value);
    this.position += 4;
  }

  /** An unsigned 64-bit integer from a non-negative safe integer (ticks, byte counts). */
  u64(value: number): void {
    this.view.setUint32(this.position, Math.floor(value / TWO_POW_32));
    this.view.setUint32(this.position + 4, value % TWO_POW_32);
    this.position += 8;
  }

  /** A signed 64-bit integer from a safe integer. */
  i64(value: number): void {
    if (value >= 0) {
      this.u64(value);
      return;
    }
    this.view.setBigInt64(this.position, BigInt(value));
    this.position += 8;
  }

  /** Skips `count` bytes, which stay zero in a freshly allocated buffer. */
  zeros(count: number): void {
    this.bytes.fill(0, this.position, this.position + count);
    this.position += count;
  }

  /** Copies `source` verbatim. */
  copy(source: Uint8Array): void {
    this.bytes.set(source, this.position);
    this.position += source.byteLength;
  }

  /** An ASCII string followed by a NUL (as in `hdlr` names). */
  cString(text: string): void {
    for (let i = 0; i < text.length; i++) this.bytes[this.position++] = text.charCodeAt(i) & 0x7f;
    this.bytes[this.position++] = 0;
  }

  /** The written buffer; throws when the size pass and the write pass disagree. */
  finish(): Uint8Array {
    if (this.position !== this.bytes.byteLength) {
      throw new InternalError('InternalError', `box writer size mismatch: computed ${this.bytes.byteLength} bytes, wrote ${this.position}`);
    }
    return this.bytes;
  }
}
