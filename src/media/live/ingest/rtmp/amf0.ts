import { MediaError } from '../../../../shared/errors.js';

/**
 * AMF0 (Adobe "Action Message Format 0" specification, 2007), the encoding of RTMP commands (`connect`,
 * `publish`, `onStatus`) and of FLV script data (`onMetaData`). Only what RTMP publishers send is read:
 * numbers, booleans, strings, objects, null/undefined, ECMA and strict arrays (plus long strings and dates, which
 * some encoders put in metadata). References, XML and typed objects are refused.
 */
export type Amf0Value = number | boolean | string | null | undefined | Date | Amf0Object | Amf0EcmaArray | Amf0Value[];

/** An anonymous AMF0 object (marker 0x03). */
export interface Amf0Object {
  [key: string]: Amf0Value;
}

/** An ECMA array (marker 0x08): an object with an associative-count prefix; kept apart so it encodes back as one. */
export class Amf0EcmaArray {
  constructor(readonly entries: Amf0Object) {}
}

const enum Marker {
  Number = 0x00,
  Boolean = 0x01,
  String = 0x02,
  Object = 0x03,
  Null = 0x05,
  Undefined = 0x06,
  EcmaArray = 0x08,
  ObjectEnd = 0x09,
  StrictArray = 0x0a,
  Date = 0x0b,
  LongString = 0x0c,
}

/** Nesting deeper than this is refused: a hostile peer could otherwise recurse the stack away. */
const maxDepth = 32;

const utf8 = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

function bad(detail: string, offset: number): MediaError {
  return new MediaError(400, 'InvalidAmf0', `AMF0: ${detail} at byte ${offset}`);
}

/** Reads AMF0 values one after another from a message body. */
export class Amf0Reader {
  #offset = 0;
  readonly #view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get offset(): number {
    return this.#offset;
  }

  hasMore(): boolean {
    return this.#offset < this.bytes.byteLength;
  }

  /** The next value; throws a MediaError on truncated or unsupported input. */
  read(): Amf0Value {
    return this.#value(0);
  }

  /** Every value left in the body (a command: name, transaction id, command object, arguments). */
  readAll(): Amf0Value[] {
    const out: Amf0Value[] = [];
    while (this.hasMore()) out.push(this.read());
    return out;
  }

  #need(n: number): void {
    if (this.#offset + n > this.bytes.byteLength) throw bad(`truncated value (${n} more bytes needed)`, this.#offset);
  }

  #u8(): number {
    this.#need(1);
    return this.bytes[this.#offset++];
  }

  #u16(): number {
    this.#need(2);
    const v = this.#view.getUint16(this.#offset);
    this.#offset += 2;
    return v;
  }

  #u32(): number {
    this.#need(4);
    const v = this.#view.getUint32(this.#offset);
    this.#offset += 4;
    return v;
  }

  #f64(): number {
    this.#need(8);
    const v = this.#view.getFloat64(this.#offset);
    this.#offset += 8;
    return v;
  }

  #utf8(length: number): string {
    this.#need(length);
    const s = utf8.decode(this.bytes.subarray(this.#offset, this.#offset + length));
    this.#offset += length;
    return s;
  }

  /** Object properties up to the empty-name + object-end marker. */
  #properties(depth: number): Amf0Object {
    const out: Amf0Object = {};
    for (;;) {
      const name = this.#utf8(this.#u16());
      if (name === '' && this.bytes[this.#offset] === Marker.ObjectEnd) {
        this.#offset++;
        return out;
      }
      const value = this.#value(depth + 1);
      // A peer-chosen `__proto__` key would replace the object's prototype; it means nothing in RTMP.
      if (name !== '__proto__') out[name] = value;
    }
  }

  #value(depth: number): Amf0Value {
    if (depth > maxDepth) throw bad('nesting too deep', this.#offset);
    const at = this.#offset;
    const marker = this.#u8();
    switch (marker) {
      case Marker.Number:
        return this.#f64();
      case Marker.Boolean:
        return this.#u8() !== 0;
      case Marker.String:
        return this.#utf8(this.#u16());
      case Marker.LongString:
        return this.#utf8(this.#u32());
      case Marker.Object:
        return this.#properties(depth);
      case Marker.Null:
        return null;
      case Marker.Undefined:
        return undefined;
      case Marker.EcmaArray:
        this.#u32(); // the associative count is a hint only; the end marker closes the array
        return new Amf0EcmaArray(this.#properties(depth));
      case Marker.StrictArray: {
        const count = this.#u32();
        // Each element takes at least one byte, so a count past the body's end is a lie, not a reason to allocate.
        if (count > this.bytes.byteLength - this.#offset) throw bad(`strict array of ${count} elements`, at);
        const out: Amf0Value[] = [];
        for (let i = 0; i < count; i++) out.push(this.#value(depth + 1));
        return out;
      }
      case Marker.Date: {
        const ms = this.#f64();
        this.#u16(); // time zone, reserved and written as 0
        return new Date(ms);
      }
      default:
        throw bad(`unsupported marker 0x${marker.toString(16)}`, at);
    }
  }
}

/** Decodes every AMF0 value in `bytes`. */
export function decodeAmf0(bytes: Uint8Array): Amf0Value[] {
  return new Amf0Reader(bytes).readAll();
}

/** Encodes values one after another (a command or an `onStatus`); sized first, then written into one buffer. */
export function encodeAmf0(...values: Amf0Value[]): Uint8Array {
  let size = 0;
  for (const v of values) size += sizeOf(v);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const v of values) offset = write(out, view, offset, v);
  return out;
}

function stringBytes(s: string): number {
  return utf8Encoder.encode(s).byteLength;
}

function propertiesSize(o: Amf0Object): number {
  let size = 3; // empty name + object end
  for (const [k, v] of Object.entries(o)) size += 2 + stringBytes(k) + sizeOf(v);
  return size;
}

function sizeOf(v: Amf0Value): number {
  if (typeof v === 'number') return 9;
  if (typeof v === 'boolean') return 2;
  if (typeof v === 'string') {
    const n = stringBytes(v);
    return n > 0xffff ? 5 + n : 3 + n;
  }
  if (v === null || v === undefined) return 1;
  if (v instanceof Date) return 11;
  if (v instanceof Amf0EcmaArray) return 5 + propertiesSize(v.entries);
  if (Array.isArray(v)) return 5 + v.reduce<number>((s, e) => s + sizeOf(e), 0);
  return 1 + propertiesSize(v);
}

function writeName(out: Uint8Array, view: DataView, offset: number, s: string): number {
  const bytes = utf8Encoder.encode(s);
  view.setUint16(offset, bytes.byteLength);
  out.set(bytes, offset + 2);
  return offset + 2 + bytes.byteLength;
}

function writeProperties(out: Uint8Array, view: DataView, offset: number, o: Amf0Object): number {
  for (const [k, v] of Object.entries(o)) offset = write(out, view, writeName(out, view, offset, k), v);
  out[offset] = 0;
  out[offset + 1] = 0;
  out[offset + 2] = Marker.ObjectEnd;
  return offset + 3;
}

function write(out: Uint8Array, view: DataView, offset: number, v: Amf0Value): number {
  if (typeof v === 'number') {
    out[offset] = Marker.Number;
    view.setFloat64(offset + 1, v);
    return offset + 9;
  }
  if (typeof v === 'boolean') {
    out[offset] = Marker.Boolean;
    out[offset + 1] = v ? 1 : 0;
    return offset + 2;
  }
  if (typeof v === 'string') {
    const bytes = utf8Encoder.encode(v);
    if (bytes.byteLength > 0xffff) {
      out[offset] = Marker.LongString;
      view.setUint32(offset + 1, bytes.byteLength);
      out.set(bytes, offset + 5);
      return offset + 5 + bytes.byteLength;
    }
    out[offset] = Marker.String;
    view.setUint16(offset + 1, bytes.byteLength);
    out.set(bytes, offset + 3);
    return offset + 3 + bytes.byteLength;
  }
  if (v === null) {
    out[offset] = Marker.Null;
    return offset + 1;
  }
  if (v === undefined) {
    out[offset] = Marker.Undefined;
    return offset + 1;
  }
  if (v instanceof Date) {
    out[offset] = Marker.Date;
    view.setFloat64(offset + 1, v.getTime());
    view.setUint16(offset + 9, 0);
    return offset + 11;
  }
  if (v instanceof Amf0EcmaArray) {
    out[offset] = Marker.EcmaArray;
    view.setUint32(offset + 1, Object.keys(v.entries).length);
    return writeProperties(out, view, offset + 5, v.entries);
  }
  if (Array.isArray(v)) {
    out[offset] = Marker.StrictArray;
    view.setUint32(offset + 1, v.length);
    offset += 5;
    for (const e of v) offset = write(out, view, offset, e);
    return offset;
  }
  out[offset] = Marker.Object;
  return writeProperties(out, view, offset + 1, v);
}
