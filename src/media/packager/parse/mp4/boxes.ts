/**
 * ISO BMFF (ISO/IEC 14496-12) box plumbing: four-cc codes as integers, hand-written big-endian reads over a
 * `Uint8Array`, and box iteration that returns offsets into the caller's buffer (never copies).
 *
 * Offsets passed to and returned by these functions are relative to the buffer `b`; `base` is the absolute file
 * offset of `b[0]`, used only to name the place in error messages.
 */
import { MediaError } from '../../../../shared/errors.js';

// Box and entry types, as the big-endian integer of their four ASCII bytes (`'moov'` → 0x6d6f6f76).
export const FTYP = 0x66747970;
export const STYP = 0x73747970;
export const MOOV = 0x6d6f6f76;
export const MVHD = 0x6d766864;
export const TRAK = 0x7472616b;
export const TKHD = 0x746b6864;
export const EDTS = 0x65647473;
export const ELST = 0x656c7374;
export const MDIA = 0x6d646961;
export const MDHD = 0x6d646864;
export const HDLR = 0x68646c72;
export const MINF = 0x6d696e66;
export const STBL = 0x7374626c;
export const STSD = 0x73747364;
export const STTS = 0x73747473;
export const CTTS = 0x63747473;
export const STSS = 0x73747373;
export const STSZ = 0x7374737a;
export const STZ2 = 0x73747a32;
export const STSC = 0x73747363;
export const STCO = 0x7374636f;
export const CO64 = 0x636f3634;
export const MVEX = 0x6d766578;
export const TREX = 0x74726578;
export const MOOF = 0x6d6f6f66;
export const TRAF = 0x74726166;
export const TFHD = 0x74666864;
export const TFDT = 0x74666474;
export const TRUN = 0x7472756e;
export const MDAT = 0x6d646174;
export const FREE = 0x66726565;
export const SKIP = 0x736b6970;
export const UUID = 0x75756964;
export const SIDX = 0x73696478;
export const MFRA = 0x6d667261;
export const UDTA = 0x75647461;
export const META = 0x6d657461;

// Sample entries and their configuration boxes (ISO/IEC 14496-15, ETSI TS 102 366, ISO/IEC 14496-30).
export const AVC1 = 0x61766331;
export const AVC3 = 0x61766333;
export const AVCC = 0x61766343;
export const HVC1 = 0x68766331;
export const HEV1 = 0x68657631;
export const HVCC = 0x68766343;
export const MP4A = 0x6d703461;
export const ESDS = 0x65736473;
export const AC_3 = 0x61632d33;
export const DAC3 = 0x64616333;
export const EC_3 = 0x65632d33;
export const DEC3 = 0x64656333;
export const WVTT = 0x77767474;
export const STPP = 0x73747070;
export const VTTC_CONFIG = 0x76747443; // 'vttC'
export const ELNG = 0x656c6e67;

// `hdlr` handler types.
export const VIDE = 0x76696465;
export const SOUN = 0x736f756e;
export const TEXT = 0x74657874;
export const SUBT = 0x73756274;
export const SBTL = 0x7362746c;

/** 2^32, for combining the halves of 64-bit fields. */
const TWO_POW_32 = 4294967296;

export function readU8(b: Uint8Array, o: number): number {
  return b[o];
}

export function readU16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

export function readI16(b: Uint8Array, o: number): number {
  return (((b[o] << 8) | b[o + 1]) << 16) >> 16;
}

export function readU24(b: Uint8Array, o: number): number {
  return (b[o] << 16) | (b[o + 1] << 8) | b[o + 2];
}

export function readU32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

export function readI32(b: Uint8Array, o: number): number {
  return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
}

/**
 * An unsigned 64-bit field as a number. Exact up to 2^53; larger values (never a valid offset, size or time in
 * a real file) come back rounded, and callers reject them by range checks against the file size.
 */
export function readU64(b: Uint8Array, o: number): number {
  return readU32(b, o) * TWO_POW_32 + readU32(b, o + 4);
}

/** A signed 64-bit field as a number (`elst` media_time −1 reads as −1). Exact within ±2^53. */
export function readI64(b: Uint8Array, o: number): number {
  return readI32(b, o) * TWO_POW_32 + readU32(b, o + 4);
}

/** The integer code of a four-character string: `fourccCode('moov') === MOOV`. */
export function fourccCode(name: string): number {
  return ((name.charCodeAt(0) << 24) | (name.charCodeAt(1) << 16) | (name.charCodeAt(2) << 8) | name.charCodeAt(3)) >>> 0;
}

/** The four-cc as text for models and messages; bytes outside printable ASCII are shown as `\xNN`. */
export function fourccName(code: number): string {
  let s = '';
  for (let shift = 24; shift >= 0; shift -= 8) {
    const c = (code >>> shift) & 0xff;
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return s;
}

/** The four-cc at `b[o…o+4]` as text. */
export function readFourcc(b: Uint8Array, o: number): string {
  return fourccName(readU32(b, o));
}

/** True when all four bytes of a code are printable ASCII, as every registered box type is. */
export function isPrintableFourcc(code: number): boolean {
  for (let shift = 24; shift >= 0; shift -= 8) {
    const c = (code >>> shift) & 0xff;
    if (c < 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/** The 422 every corrupt-input path throws: `"<box> at offset N: why"`. */
export function corruptBox(type: number | string, absOffset: number, why: string): MediaError {
  const name = typeof type === 'number' ? fourccName(type) : type;
  return new MediaError(422, 'CorruptMedia', `${name} at offset ${absOffset}: ${why}`);
}

/** One box: its type and where it sits in the buffer it was read from. */
export interface BoxHeader {
  type: number;
  /** Offset of the box's first byte (the size field), relative to the buffer. */
  start: number;
  /** Offset of the payload (after size, type and any largesize), relative to the buffer. */
  payload: number;
  /** Offset just past the box, relative to the buffer. */
  end: number;
}

/**
 * Reads the header of the box at `o` inside a parent that ends at `limit`, validating its size against the
 * parent: size 1 means a 64-bit largesize follows, size 0 means "to the end of the parent" (ISO/IEC 14496-12
 * §4.2 allows it for the last top-level box; we accept it inside containers too), 2..7 is corrupt.
 * Returns `undefined` when fewer than 8 bytes remain (trailing padding some writers leave in containers).
 */
export function readBoxHeader(b: Uint8Array, o: number, limit: number, base: number): BoxHeader | undefined {
  if (limit - o < 8) return undefined;
  const size32 = readU32(b, o);
  const type = readU32(b, o + 4);
  let payload = o + 8;
  let size = size32;
  if (size32 === 1) {
    if (limit - o < 16) throw corruptBox(type, base + o, `largesize header needs 16 bytes, only ${limit - o} left in its parent`);
    size = readU64(b, o + 8);
    payload = o + 16;
    if (size < 16) throw corruptBox(type, base + o, `largesize ${size} is smaller than its 16-byte header`);
  } else if (size32 === 0) {
    size = limit - o;
  } else if (size32 < 8) {
    throw corruptBox(type, base + o, `size ${size32} is smaller than the 8-byte box header`);
  }
  if (size > limit - o) {
    throw corruptBox(type, base + o, `size ${size} runs past the end of its parent (${limit - o} bytes left)`);
  }
  return { type, start: o, payload, end: o + size };
}

/** The first box of `boxes` with the given type. */
export function firstBox(boxes: BoxHeader[], type: number): BoxHeader | undefined {
  for (let i = 0; i < boxes.length; i++) if (boxes[i].type === type) return boxes[i];
  return undefined;
}

/** Throws unless the box payload holds at least `bytes` bytes. */
export function needPayload(h: BoxHeader, base: number, bytes: number): void {
  if (h.end - h.payload < bytes)
    throw corruptBox(h.type, base + h.start, `payload of ${h.end - h.payload} bytes is shorter than the ${bytes} bytes its fields need`);
}

/** The child boxes of the container payload `[start, end)`, in file order. */
export function childBoxes(b: Uint8Array, start: number, end: number, base: number): BoxHeader[] {
  const out: BoxHeader[] = [];
  let o = start;
  while (o < end) {
    const h = readBoxHeader(b, o, end, base);
    if (h === undefined) break;
    out.push(h);
    o = h.end;
  }
  return out;
}

/** The first child box of `[start, end)` with the given type. */
export function findChild(b: Uint8Array, start: number, end: number, type: number, base: number): BoxHeader | undefined {
  let o = start;
  while (o < end) {
    const h = readBoxHeader(b, o, end, base);
    if (h === undefined) return undefined;
    if (h.type === type) return h;
    o = h.end;
  }
  return undefined;
}

/** Every child box of `[start, end)` with the given type, in file order. */
export function findChildren(b: Uint8Array, start: number, end: number, type: number, base: number): BoxHeader[] {
  const out: BoxHeader[] = [];
  let o = start;
  while (o < end) {
    const h = readBoxHeader(b, o, end, base);
    if (h === undefined) break;
    if (h.type === type) out.push(h);
    o = h.end;
  }
  return out;
}

/** Follows a path of container types from `[start, end)` (e.g. `[MDIA, MINF, STBL]`); the last box or undefined. */
export function findPath(b: Uint8Array, start: number, end: number, path: readonly number[], base: number): BoxHeader | undefined {
  let h: BoxHeader | undefined;
  let s = start;
  let e = end;
  for (let i = 0; i < path.length; i++) {
    h = findChild(b, s, e, path[i], base);
    if (h === undefined) return undefined;
    s = h.payload;
    e = h.end;
  }
  return h;
}

/** A view of the whole box (header included), sharing the buffer. */
export function boxView(b: Uint8Array, h: BoxHeader): Uint8Array {
  return b.subarray(h.start, h.end);
}
