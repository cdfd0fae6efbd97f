/**
 * Test support (imported only by tests and hand-run benchmarks): builds ISO BMFF boxes by hand, for the table
 * layouts ffmpeg never writes (`stz2`, `co64`, `ctts` v1, `elst` v1, largesize, huge moovs) and for corrupt
 * inputs. Media payloads are virtual: `SynthFile.read` returns zeros outside the box bytes, so a "2-hour" file
 * costs only its moov in memory.
 */

export function u8(n: number): number[] {
  return [n & 0xff];
}
export function u16(n: number): number[] {
  return [(n >>> 8) & 0xff, n & 0xff];
}
export function u24(n: number): number[] {
  return [(n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}
export function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}
export function u64(n: number): number[] {
  return [...u32(Math.floor(n / 4294967296)), ...u32(n % 4294967296 >>> 0)];
}
export function i64(n: number): number[] {
  const hi = Math.floor(n / 4294967296);
  return [...u32(hi >>> 0), ...u32(n - hi * 4294967296)];
}
export function ascii(s: string): number[] {
  return Array.from(s, (c) => c.charCodeAt(0));
}

export function concatBytes(parts: ReadonlyArray<Uint8Array | number[]>): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A box with a 32-bit size. */
export function box(type: string, ...parts: Array<Uint8Array | number[]>): Uint8Array {
  const payload = concatBytes(parts);
  return concatBytes([u32(payload.length + 8), ascii(type), payload]);
}

export function fullBox(type: string, version: number, flags: number, ...parts: Array<Uint8Array | number[]>): Uint8Array {
  return box(type, u8(version), u24(flags), ...parts);
}

/** An `avc1` sample entry with an `avcC` holding only the profile/compat/level header (enough for the index). */
export function avc1Entry(width: number, height: number, profile = 0x64, compat = 0x00, level = 0x1f, fourcc = 'avc1'): Uint8Array {
  const avcC = box('avcC', [1, profile, compat, level, 0xff, 0xe0, 0x00]);
  return box(fourcc, new Array(6).fill(0), u16(1), new Array(16).fill(0), u16(width), u16(height),
    u32(0x00480000), u32(0x00480000), u32(0), u16(1), new Array(32).fill(0), u16(0x18), u16(0xffff), avcC);
}

/** An `hvc1` sample entry whose `hvcC` carries the given profile_tier_level header. */
export function hvc1Entry(
  width: number, height: number,
  ptl: { space: number; tier: number; profile: number; compat: number; constraint: number[]; level: number },
  fourcc = 'hvc1',
): Uint8Array {
  const hvcC = box('hvcC', [1, (ptl.space << 6) | (ptl.tier << 5) | ptl.profile], u32(ptl.compat), ptl.constraint, [ptl.level],
    u16(0xf000), [0xfc, 0xfd, 0xf8, 0xf8], u16(0), [0x0f, 0]);
  return box(fourcc, new Array(6).fill(0), u16(1), new Array(16).fill(0), u16(width), u16(height),
    u32(0x00480000), u32(0x00480000), u32(0), u16(1), new Array(32).fill(0), u16(0x18), u16(0xffff), hvcC);
}

/** An `mp4a` sample entry with an `esds` whose AudioSpecificConfig starts with `audioObjectType`. */
export function mp4aEntry(channels: number, sampleRate: number, audioObjectType = 2, objectTypeIndication = 0x40): Uint8Array {
  const freqIndex = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000].indexOf(sampleRate);
  const asc = audioObjectType < 31
    ? u16((audioObjectType << 11) | (Math.max(0, freqIndex) << 7) | (channels << 3))
    : [0xf8 | ((audioObjectType - 32) >> 3), (((audioObjectType - 32) & 7) << 5) | (Math.max(0, freqIndex) << 1), channels << 5];
  const dsi = [0x05, asc.length, ...asc];
  const dcd = [0x04, 13 + dsi.length, objectTypeIndication, 0x15, ...u24(0), ...u32(128000), ...u32(128000), ...dsi];
  const esd = [0x03, 3 + dcd.length + 3, ...u16(1), 0, ...dcd, 0x06, 1, 2];
  return box('mp4a', new Array(6).fill(0), u16(1), u32(0), u32(0), u16(channels), u16(16), u16(0), u16(0),
    u32(sampleRate * 65536 >>> 0), fullBox('esds', 0, 0, esd));
}

export interface SynthTrack {
  trackId: number;
  handler: 'vide' | 'soun' | 'text' | 'hint';
  timescale: number;
  /** ISO 639-2/T, default `und`. */
  language?: string;
  sampleEntry: Uint8Array;
  sampleCount: number;
  sampleSize: (i: number) => number;
  /** `stts` as (count, delta) runs; default one run of `sampleCount` × 1024. */
  stts?: Array<[number, number]>;
  ctts?: { version: 0 | 1; offset: (i: number) => number };
  /** Write `stss` marking every Nth sample (0, N, 2N…); absent = no stss. */
  syncEvery?: number;
  samplesPerChunk: number;
  co64?: boolean;
  /** Write `stz2` with this field size instead of `stsz`. */
  stz2?: 4 | 8 | 16;
  /** `stsz` with one constant size (sampleSize(0)) and no table. */
  constantSize?: boolean;
  elst?: { version: 0 | 1; entries: Array<[number, number]> };
}

function trak(t: SynthTrack, movieTimescale: number, dataOffset: number): { box: Uint8Array; bytes: number } {
  const n = t.sampleCount;
  const sizes = new Uint32Array(n);
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    sizes[i] = t.sampleSize(i);
    bytes += sizes[i];
  }
  const stts = t.stts ?? [[n, 1024]];
  const sttsBox = fullBox('stts', 0, 0, u32(stts.length), ...stts.map(([c, d]) => [...u32(c), ...u32(d)]));
  let stszBox: Uint8Array;
  if (t.stz2 !== undefined) {
    const fs = t.stz2;
    const table = new Uint8Array(Math.ceil((n * fs) / 8));
    for (let i = 0; i < n; i++) {
      if (fs === 16) { table[2 * i] = sizes[i] >> 8; table[2 * i + 1] = sizes[i] & 0xff; }
      else if (fs === 8) table[i] = sizes[i];
      else table[i >> 1] |= (sizes[i] & 0xf) << ((i & 1) === 0 ? 4 : 0);
    }
    stszBox = fullBox('stz2', 0, 0, u24(0), u8(fs), u32(n), table);
  } else if (t.constantSize) {
    stszBox = fullBox('stsz', 0, 0, u32(sizes[0] ?? 0), u32(n));
  } else {
    const table = new Uint8Array(4 * n);
    for (let i = 0; i < n; i++) table.set(u32(sizes[i]), 4 * i);
    stszBox = fullBox('stsz', 0, 0, u32(0), u32(n), table);
  }
  const chunkCount = Math.ceil(n / t.samplesPerChunk);
  const lastChunk = n - (chunkCount - 1) * t.samplesPerChunk;
  const stscEntries: number[][] = chunkCount === 0 ? [] : lastChunk === t.samplesPerChunk || chunkCount === 1
    ? [[1, chunkCount === 1 ? lastChunk : t.samplesPerChunk, 1]]
    : [[1, t.samplesPerChunk, 1], [chunkCount, lastChunk, 1]];
  const stscBox = fullBox('stsc', 0, 0, u32(stscEntries.length), ...stscEntries.map((e) => [...u32(e[0]), ...u32(e[1]), ...u32(e[2])]));
  const chunkTable = new Uint8Array(chunkCount * (t.co64 ? 8 : 4));
  let off = dataOffset;
  for (let c = 0, i = 0; c < chunkCount; c++) {
    chunkTable.set(t.co64 ? u64(off) : u32(off), c * (t.co64 ? 8 : 4));
    for (let s = 0; s < t.samplesPerChunk && i < n; s++, i++) off += sizes[i];
  }
  const stcoBox = fullBox(t.co64 ? 'co64' : 'stco', 0, 0, u32(chunkCount), chunkTable);
  const parts: Uint8Array[] = [fullBox('stsd', 0, 0, u32(1), t.sampleEntry), sttsBox];
  if (t.ctts) {
    const table = new Uint8Array(8 * n);
    for (let i = 0; i < n; i++) { table.set(u32(1), 8 * i); table.set(u32(t.ctts.offset(i) >>> 0), 8 * i + 4); }
    parts.push(fullBox('ctts', t.ctts.version, 0, u32(n), table));
  }
  if (t.syncEvery !== undefined) {
    const syncs: number[] = [];
    for (let i = 0; i < n; i += t.syncEvery) syncs.push(i + 1);
    const table = new Uint8Array(4 * syncs.length);
    syncs.forEach((s, i) => table.set(u32(s), 4 * i));
    parts.push(fullBox('stss', 0, 0, u32(syncs.length), table));
  }
  parts.push(stscBox, stszBox, stcoBox);
  const lang = t.language ?? 'und';
  const packed = ((lang.charCodeAt(0) - 0x60) << 10) | ((lang.charCodeAt(1) - 0x60) << 5) | (lang.charCodeAt(2) - 0x60);
  let duration = 0;
  for (const [c, d] of stts) duration += c * d;
  const children: Uint8Array[] = [
    fullBox('tkhd', 0, 3, u32(0), u32(0), u32(t.trackId), u32(0), u32(Math.round((duration * movieTimescale) / t.timescale)), new Array(60).fill(0)),
  ];
  if (t.elst) {
    const v1 = t.elst.version === 1;
    children.push(box('edts', fullBox('elst', t.elst.version, 0, u32(t.elst.entries.length),
      ...t.elst.entries.map(([d, m]) => [...(v1 ? u64(d) : u32(d)), ...(v1 ? i64(m) : u32(m >>> 0)), ...u16(1), ...u16(0)]))));
  }
  children.push(box('mdia',
    fullBox('mdhd', 0, 0, u32(0), u32(0), u32(t.timescale), u32(duration), u16(packed), u16(0)),
    fullBox('hdlr', 0, 0, u32(0), ascii(t.handler), new Array(12).fill(0), [0]),
    box('minf', box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1))), box('stbl', ...parts))));
  return { box: box('trak', ...children), bytes };
}

/** A `moov` for `tracks` whose samples lie back to back from `dataOffset`; `extra` boxes (e.g. `mvex`) go last. */
export function synthMoov(movieTimescale: number, tracks: SynthTrack[], dataOffset: number, extra: Uint8Array[] = []): { moov: Uint8Array; dataBytes: number } {
  const traks: Uint8Array[] = [];
  let off = dataOffset;
  for (const t of tracks) {
    const r = trak(t, movieTimescale, off);
    traks.push(r.box);
    off += r.bytes;
  }
  const mvhd = fullBox('mvhd', 0, 0, u32(0), u32(0), u32(movieTimescale), u32(0), u32(0x00010000), u16(0x0100), new Array(70).fill(0), u32(tracks.length + 1));
  return { moov: box('moov', mvhd, ...traks, ...extra), dataBytes: off - dataOffset };
}

/** A file assembled from real box bytes at known offsets; everything else (media payload) reads as zeros. */
export interface SynthFile {
  fileSize: number;
  /** The real bytes (ftyp, moov, mdat header) with their offsets. */
  parts: Array<{ offset: number; bytes: Uint8Array }>;
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Every read made through `read`. */
  reads: Array<{ offset: number; length: number }>;
}

export function synthFile(movieTimescale: number, tracks: SynthTrack[], layout: 'faststart' | 'moov-at-end' = 'faststart'): SynthFile {
  const ftyp = box('ftyp', ascii('isom'), u32(0x200), ascii('isomiso2avc1mp41'));
  const mdatHeader = 16; // largesize form, so payloads beyond 4 GiB work
  let parts: Array<{ offset: number; bytes: Uint8Array }>;
  let fileSize: number;
  if (layout === 'faststart') {
    const probe = synthMoov(movieTimescale, tracks, 0);
    const dataOffset = ftyp.length + probe.moov.length + mdatHeader;
    const { moov, dataBytes } = synthMoov(movieTimescale, tracks, dataOffset);
    const mdat = concatBytes([u32(1), ascii('mdat'), u64(mdatHeader + dataBytes)]);
    parts = [{ offset: 0, bytes: ftyp }, { offset: ftyp.length, bytes: moov }, { offset: ftyp.length + moov.length, bytes: mdat }];
    fileSize = dataOffset + dataBytes;
  } else {
    const dataOffset = ftyp.length + mdatHeader;
    const { moov, dataBytes } = synthMoov(movieTimescale, tracks, dataOffset);
    const mdat = concatBytes([u32(1), ascii('mdat'), u64(mdatHeader + dataBytes)]);
    parts = [{ offset: 0, bytes: ftyp }, { offset: ftyp.length, bytes: mdat }, { offset: dataOffset + dataBytes, bytes: moov }];
    fileSize = dataOffset + dataBytes + moov.length;
  }
  const reads: Array<{ offset: number; length: number }> = [];
  return {
    fileSize,
    parts,
    reads,
    read(offset: number, length: number): Promise<Uint8Array> {
      reads.push({ offset, length });
      return Promise.resolve(readParts(parts, offset, length));
    },
  };
}

/** The bytes `[offset, offset + length)` of a sparse file made of `parts` (zeros elsewhere). */
export function readParts(parts: Array<{ offset: number; bytes: Uint8Array }>, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (const p of parts) {
    const s = Math.max(offset, p.offset);
    const e = Math.min(offset + length, p.offset + p.bytes.length);
    if (s < e) out.set(p.bytes.subarray(s - p.offset, e - p.offset), s - offset);
  }
  return out;
}
