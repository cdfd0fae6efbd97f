/**
 * A small MP4 built in memory for the origin's warm-up: H.264 video and AAC audio laid out as encoders write
 * them (faststart, one video sample per chunk, audio chunks of varying length, `stss` every 2 s, optionally
 * `ctts` and 64-bit chunk offsets), so the parser, segmenter and muxers see the table shapes real files have.
 * The payloads are well-formed enough to mux (length-prefixed NAL units, an `avcC` with SPS and PPS), not to decode.
 */

import { box, fullBox, u16, u32 } from './box-bytes.js';

const enc = new TextEncoder();

/** A table of big-endian 32-bit (or 64-bit) entries. */
function table(values: ArrayLike<number>, width: 4 | 8 = 4): Uint8Array {
  const out = new Uint8Array(values.length * width);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    if (width === 8) view.setBigUint64(i * 8, BigInt(values[i]));
    else view.setUint32(i * 4, values[i] >>> 0);
  }
  return out;
}

// Baseline-profile SPS/PPS of a 640×360 stream (any well-formed pair will do).
const sps = [
  0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x32, 0x0f, 0x16, 0x2e, 0x48,
];
const pps = [0x68, 0xce, 0x3c, 0x80];

function avc1(): Uint8Array {
  const avcC = box('avcC', [1, 0x42, 0xc0, 0x1e, 0xff, 0xe1], u16(sps.length), sps, [1], u16(pps.length), pps);
  return box(
    'avc1',
    new Array(6).fill(0),
    u16(1),
    new Array(16).fill(0),
    u16(640),
    u16(360),
    u32(0x480000),
    u32(0x480000),
    u32(0),
    u16(1),
    new Array(32).fill(0),
    u16(0x18),
    u16(0xffff),
    avcC,
  );
}

function mp4a(): Uint8Array {
  // AAC-LC, 48 kHz, stereo.
  const asc = [0x11, 0x90];
  const dsi = [0x05, asc.length, ...asc];
  const dcd = [0x04, 13 + dsi.length, 0x40, 0x15, 0, 0, 0, ...u32(128000), ...u32(128000), ...dsi];
  const esd = [0x03, 3 + dcd.length + 3, 0, 1, 0, ...dcd, 0x06, 1, 2];
  return box('mp4a', new Array(6).fill(0), u16(1), u32(0), u32(0), u16(2), u16(16), u16(0), u16(0), u32((48000 * 65536) >>> 0), fullBox('esds', 0, 0, esd));
}

interface TrackSpec {
  trackId: number;
  handler: 'vide' | 'soun';
  timescale: number;
  delta: number;
  sizes: Uint32Array;
  /** Samples in each chunk, in order. */
  chunks: number[];
  syncEvery?: number;
  ctts?: boolean;
  language: string;
  entry: Uint8Array;
}

function trak(t: TrackSpec, chunkOffsets: number[], co64: boolean): Uint8Array {
  const n = t.sizes.length;
  const stsc: number[] = [];
  let entries = 0;
  for (let c = 0; c < t.chunks.length; c++) {
    if (c > 0 && t.chunks[c] === t.chunks[c - 1]) continue;
    stsc.push(...u32(c + 1), ...u32(t.chunks[c]), ...u32(1));
    entries++;
  }
  const stbl: Uint8Array[] = [fullBox('stsd', 0, 0, u32(1), t.entry), fullBox('stts', 0, 0, u32(1), u32(n), u32(t.delta))];
  if (t.ctts) {
    // An IPBB-like pattern of composition offsets, as runs of one sample each.
    const offsets = new Uint32Array(n * 2);
    for (let i = 0; i < n; i++) {
      offsets[2 * i] = 1;
      offsets[2 * i + 1] = t.delta * [2, 5, 2, 0][i % 4];
    }
    stbl.push(fullBox('ctts', 0, 0, u32(n), table(offsets)));
  }
  if (t.syncEvery) {
    const syncs: number[] = [];
    for (let i = 0; i < n; i += t.syncEvery) syncs.push(i + 1);
    stbl.push(fullBox('stss', 0, 0, u32(syncs.length), table(syncs)));
  }
  stbl.push(
    fullBox('stsc', 0, 0, u32(entries), stsc),
    fullBox('stsz', 0, 0, u32(0), u32(n), table(t.sizes)),
    fullBox(co64 ? 'co64' : 'stco', 0, 0, u32(chunkOffsets.length), table(chunkOffsets, co64 ? 8 : 4)),
  );
  const duration = n * t.delta;
  const lang = t.language;
  const packed = ((lang.charCodeAt(0) - 0x60) << 10) | ((lang.charCodeAt(1) - 0x60) << 5) | (lang.charCodeAt(2) - 0x60);
  return box(
    'trak',
    fullBox('tkhd', 0, 3, u32(0), u32(0), u32(t.trackId), u32(0), u32(Math.round((duration * 1000) / t.timescale)), new Array(60).fill(0)),
    box(
      'mdia',
      fullBox('mdhd', 0, 0, u32(0), u32(0), u32(t.timescale), u32(duration), u16(packed), u16(0)),
      fullBox('hdlr', 0, 0, u32(0), enc.encode(t.handler), new Array(12).fill(0), [0]),
      box('minf', box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1))), box('stbl', ...stbl)),
    ),
  );
}

export interface WarmUpMediaOptions {
  /** Seconds of media; the default (60 s: 1,500 video and 2,812 audio samples) keeps the file near 90 KB. */
  seconds?: number;
  /** Write `ctts` for the video track (B-frames). */
  ctts?: boolean;
  /** 64-bit chunk offsets (`co64`). */
  co64?: boolean;
  /** Added to every chunk offset: past 4 GiB, the file is only good for parsing with a matching size claimed. */
  offsetBase?: number;
}

/** The bytes of a faststart MP4 (ftyp, moov, mdat) with interleaved video and audio chunks. */
export function buildWarmUpMp4(options: WarmUpMediaOptions = {}): Uint8Array {
  const seconds = options.seconds ?? 60;
  const fps = 25;
  const videoCount = seconds * fps;
  const audioCount = Math.floor((seconds * 48000) / 1024);
  const videoSizes = new Uint32Array(videoCount);
  for (let i = 0; i < videoCount; i++) videoSizes[i] = i % 50 === 0 ? 64 : 12 + (i % 7) * 4;
  const audioSizes = new Uint32Array(audioCount).map((_, i) => 6 + (i % 3));
  // Audio chunks of 5 or 6 frames alternating in runs, as muxers interleaving on time write them (many stsc entries).
  const audioChunks: number[] = [];
  for (let left = audioCount, k = 0; left > 0; k++) {
    const take = Math.min(left, k % 3 === 2 ? 6 : 5);
    audioChunks.push(take);
    left -= take;
  }
  const video: TrackSpec = {
    trackId: 1,
    handler: 'vide',
    timescale: 12800,
    delta: 512,
    sizes: videoSizes,
    chunks: new Array<number>(videoCount).fill(1),
    syncEvery: 2 * fps,
    ctts: options.ctts ?? false,
    language: 'und',
    entry: avc1(),
  };
  const audio: TrackSpec = {
    trackId: 2,
    handler: 'soun',
    timescale: 48000,
    delta: 1024,
    sizes: audioSizes,
    chunks: audioChunks,
    language: 'eng',
    entry: mp4a(),
  };

  // Interleave: chunks in time order, video one frame at a time, audio whenever it falls behind.
  type Chunk = { track: 0 | 1; first: number; count: number };
  const order: Chunk[] = [];
  let a = 0;
  let aSample = 0;
  for (let v = 0; v < videoCount; v++) {
    order.push({ track: 0, first: v, count: 1 });
    while (a < audioChunks.length && aSample * 1024 * 25 <= (v + 1) * 48000) {
      order.push({ track: 1, first: aSample, count: audioChunks[a] });
      aSample += audioChunks[a++];
    }
  }
  for (; a < audioChunks.length; a++) {
    order.push({ track: 1, first: aSample, count: audioChunks[a] });
    aSample += audioChunks[a];
  }
  const sizes = [videoSizes, audioSizes];
  const ftyp = box('ftyp', enc.encode('isom'), u32(0x200), enc.encode('isomiso2avc1mp41'));
  const co64 = options.co64 ?? false;
  const moovFor = (dataOffset: number) => {
    const offsets: number[][] = [[], []];
    let off = dataOffset;
    for (const c of order) {
      offsets[c.track].push(off + (options.offsetBase ?? 0));
      for (let i = 0; i < c.count; i++) off += sizes[c.track][c.first + i];
    }
    const mvhd = fullBox('mvhd', 0, 0, u32(0), u32(0), u32(1000), u32(seconds * 1000), u32(0x00010000), u16(0x0100), new Array(70).fill(0), u32(3));
    return { moov: box('moov', mvhd, trak(video, offsets[0], co64), trak(audio, offsets[1], co64)), end: off };
  };
  const probe = moovFor(0).moov.length;
  const dataOffset = ftyp.length + probe + 8;
  const { moov, end } = moovFor(dataOffset);
  const out = new Uint8Array(end);
  out.set(ftyp, 0);
  out.set(moov, ftyp.length);
  out.set(u32(end - dataOffset + 8), dataOffset - 8);
  out.set(enc.encode('mdat'), dataOffset - 4);
  // Payloads: video samples are one NAL unit each (IDR on sync samples) behind a 4-byte length; audio is filler.
  let off = dataOffset;
  for (const c of order) {
    for (let i = 0; i < c.count; i++) {
      const s = c.first + i;
      const size = sizes[c.track][s];
      if (c.track === 0) {
        out.set(u32(size - 4), off);
        out[off + 4] = s % 50 === 0 ? 0x65 : 0x41;
        out.fill(0x88, off + 5, off + size);
      } else {
        out.fill(0x21, off, off + size);
      }
      off += size;
    }
  }
  return out;
}
