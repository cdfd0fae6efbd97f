/**
 * What the live sample entries are built from: a bit reader for parameter sets (H.264/H.265 Exp-Golomb fields,
 * AudioSpecificConfig), the removal of emulation prevention bytes that turns a NAL unit into its RBSP, and the
 * VisualSampleEntry box (ISO/IEC 14496-12 §12.1.3) around a decoder configuration record.
 */
import { MediaError } from '../../../shared/errors.js';

/** Bit reader for headers (no emulation prevention: callers hand it RBSP or plain bitstrings). */
export class BitReader {
  #bit = 0;
  constructor(private readonly b: Uint8Array) {}

  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.#bit >> 3;
      if (byte >= this.b.byteLength) throw new MediaError(422, 'CorruptLiveStream', 'codec header ends early');
      v = v * 2 + ((this.b[byte] >> (7 - (this.#bit & 7))) & 1);
      this.#bit++;
    }
    return v;
  }

  /** Skips `n` bits (fields a caller does not need). */
  skip(n: number): void {
    if ((this.#bit + n + 7) >> 3 > this.b.byteLength) throw new MediaError(422, 'CorruptLiveStream', 'codec header ends early');
    this.#bit += n;
  }

  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) if (++zeros > 31) throw new MediaError(422, 'CorruptLiveStream', 'Exp-Golomb code too long');
    return zeros === 0 ? 0 : 2 ** zeros - 1 + this.u(zeros);
  }

  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }
}

/** The RBSP of a NAL unit: the emulation prevention bytes (the 03 of 00 00 03) dropped. A parameter set is small. */
export function nalRbsp(nal: Uint8Array): Uint8Array {
  const rbsp = new Uint8Array(nal.byteLength);
  let n = 0;
  for (let i = 0, zeros = 0; i < nal.byteLength; i++) {
    const x = nal[i];
    if (zeros >= 2 && x === 3) {
      zeros = 0;
      continue;
    }
    zeros = x === 0 ? zeros + 1 : 0;
    rbsp[n++] = x;
  }
  return rbsp.subarray(0, n);
}

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/**
 * A VisualSampleEntry `fourcc` (`avc1`, `hvc1`, `hev1`) of `width`×`height` holding one configuration box
 * `configType` (`avcC`, `hvcC`) whose payload is `record`, the decoder configuration record as received.
 */
export function visualSampleEntry(fourcc: string, width: number, height: number, configType: string, record: Uint8Array): Uint8Array {
  const configSize = 8 + record.byteLength;
  const size = 8 + 78 + configSize;
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  v.setUint32(0, size);
  b.set(ascii(fourcc), 4);
  v.setUint16(14, 1); // data_reference_index (after 6 reserved bytes)
  v.setUint16(32, width);
  v.setUint16(34, height);
  v.setUint32(36, 0x00480000); // 72 dpi
  v.setUint32(40, 0x00480000);
  v.setUint16(48, 1); // frame_count
  v.setUint16(82, 0x0018); // depth
  v.setInt16(84, -1); // pre_defined
  v.setUint32(86, configSize);
  b.set(ascii(configType), 90);
  b.set(record, 94);
  return b;
}
