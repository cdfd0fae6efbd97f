/**
 * MP4 → `MediaIndex`, sans I/O (nginx-vod's `VOD_AGAIN` shape): the parser never reads; `next()` either returns
 * the index or asks for a byte range, and the host answers with `feed(offset, bytes)`. One parser serves local
 * files, ranged HTTP reads and caches alike.
 *
 * Reads it asks for:
 * - the file head (`readAheadBytes`, 64 KiB by default); a faststart MP4 whose `moov` fits is done after that;
 * - top-level box headers beyond what it holds (one read-ahead at each position the walk reaches: a
 *   moov-at-end file costs the head, one read after `mdat`, and the `moov` itself when it did not fit there);
 * - the whole `moov`, then for fragmented files (`moov/mvex`) every `moof` (never an `mdat` payload).
 * Every read strictly advances the walk, and the count is capped (`maxReads`), so no input can make it hang.
 *
 * This file walks the top-level boxes and orchestrates `moov` → `trak` → `stbl`; the sample entry and codec
 * strings are read by `stsd-sample-entry.ts`, fragments (`moof`) by `fragment-reader.ts`, the `stbl` tables by
 * `stbl-sample-table.ts`. Spec references: ISO/IEC 14496-12 (ISO BMFF) §8.*.
 */
import { MediaError } from '../../../../shared/errors.js';
import type { AudioInfo, MediaIndex, TrackIndex, TrackKind, VideoInfo } from '../../model/media-index.js';
import { ArraySampleTable, type SampleTable } from '../../model/sample-table.js';
import { readStblSampleTable } from './stbl-sample-table.js';
import { readStsdSampleEntry } from './stsd-sample-entry.js';
import { FragmentReader, type FragmentTrack } from './fragment-reader.js';
import {
  EDTS,
  ELNG,
  ELST,
  HDLR,
  MDHD,
  MDIA,
  MINF,
  MOOF,
  MOOV,
  MVEX,
  MVHD,
  SBTL,
  SOUN,
  STBL,
  STSD,
  SUBT,
  TEXT,
  TKHD,
  TRAK,
  VIDE,
  childBoxes,
  corruptBox,
  findChild,
  firstBox,
  fourccName,
  isPrintableFourcc,
  needPayload,
  readBoxHeader,
  readI32,
  readI64,
  readU16,
  readU32,
  readU64,
  readU8,
  type BoxHeader,
} from './boxes.js';

/** A byte range the parser needs before it can go on. */
export interface Mp4ReadRequest {
  offset: number;
  length: number;
}

export type Mp4ParserStep = { need: Mp4ReadRequest } | { done: MediaIndex };

export interface Mp4IndexParser {
  /** The index, or the next byte range to read and `feed`. Throws `MediaError` on corrupt or unsupported input. */
  next(): Mp4ParserStep;
  /** Hands over the bytes at `offset` (normally exactly the last `need`); the parser keeps a view, not a copy. */
  feed(offset: number, bytes: Uint8Array): void;
}

export interface Mp4IndexParserOptions {
  /** Bytes asked for when only a box header (or the file head) is needed; default 64 KiB. */
  readAheadBytes?: number;
  /** Most reads the parser may ask for before it gives up with a `MediaError`; default 100 000. */
  maxReads?: number;
}

const DEFAULT_READ_AHEAD = 64 * 1024;
const DEFAULT_MAX_READS = 100_000;
/** A usable track while the file is being walked; becomes a `TrackIndex` at the end. */
interface TrackDraft extends FragmentTrack {
  trackId: number;
  fourcc: string;
  codecs: string;
  timescale: number;
  language: string;
  sampleEntry: Uint8Array;
  editMediaTimeTicks: number;
  video: VideoInfo | undefined;
  audio: AudioInfo | undefined;
}

type TrakResult = { draft: TrackDraft } | { unsupported: string } | undefined;

export function createMp4IndexParser(fileSize: number, options: Mp4IndexParserOptions = {}): Mp4IndexParser {
  if (!Number.isSafeInteger(fileSize) || fileSize < 0) throw new RangeError(`fileSize must be a non-negative integer, got ${fileSize}`);
  const readAhead = Math.max(16, options.readAheadBytes ?? DEFAULT_READ_AHEAD);
  const maxReads = options.maxReads ?? DEFAULT_MAX_READS;

  // The one buffer held: the last bytes fed. Every request is satisfied by a single read, so nothing older is
  // needed (the moov is fully parsed into drafts as soon as it is complete).
  let buf: Uint8Array | undefined;
  let bufOffset = 0;

  let pos = 0;
  let topLevelBoxes = 0;
  let reads = 0;
  let pending: Mp4ReadRequest | undefined;
  let fedSincePending = false;
  let result: MediaIndex | undefined;

  let moovSeen = false;
  let hasMvex = false;
  let moovOffset = 0;
  let movieTimescale = 0;
  let drafts: TrackDraft[] = [];
  const draftById = new Map<number, TrackDraft>();
  const fragments = new FragmentReader(fileSize, draftById);
  const unsupported: string[] = [];

  function has(offset: number, length: number): boolean {
    return buf !== undefined && offset >= bufOffset && offset + length <= bufOffset + buf.length;
  }

  function request(offset: number, length: number): Mp4ParserStep {
    if (pending !== undefined && pending.offset === offset && pending.length === length) {
      // The host was asked for exactly this and what it fed did not cover it: asking again would loop.
      if (fedSincePending) {
        throw new MediaError(
          422,
          'CorruptMedia',
          `file at offset ${offset}: a read of ${length} bytes did not return them (file shorter than its stated size ${fileSize}?)`,
        );
      }
      return { need: pending };
    }
    reads++;
    if (reads > maxReads) {
      throw new MediaError(422, 'CorruptMedia', `file at offset ${offset}: gave up after ${maxReads} reads (${topLevelBoxes} top-level boxes walked)`);
    }
    pending = { offset, length };
    fedSincePending = false;
    return { need: pending };
  }

  /** Asks for a whole box at `offset` (reading ahead when it is small, never past the end of the file). */
  function requestBox(offset: number, size: number): Mp4ParserStep {
    return request(offset, Math.min(fileSize - offset, Math.max(size, readAhead)));
  }

  function next(): Mp4ParserStep {
    if (result !== undefined) return { done: result };
    if (fileSize === 0) throw new MediaError(422, 'CorruptMedia', 'file at offset 0: the file is empty (0 bytes), not an MP4');
    if (fileSize < 8) throw new MediaError(422, 'CorruptMedia', `file at offset 0: ${fileSize} bytes is too small to hold an MP4 box`);

    for (;;) {
      // Fewer than 8 bytes left cannot hold a box: trailing padding, ignored like ffmpeg does.
      if (fileSize - pos < 8) return finish();
      const headerBytes = Math.min(16, fileSize - pos);
      if (!has(pos, headerBytes)) return request(pos, Math.min(readAhead, fileSize - pos));
      const b = buf!;
      const o = pos - bufOffset;
      const size32 = readU32(b, o);
      const type = readU32(b, o + 4);
      let size = size32;
      if (pos === 0 && (!isPrintableFourcc(type) || (size32 > fileSize && size32 !== 0))) {
        throw new MediaError(
          422,
          'CorruptMedia',
          `${fourccName(type)} at offset 0: not an MP4 file (first box has type '${fourccName(type)}' and size ${size32}, file is ${fileSize} bytes)`,
        );
      }
      if (size32 === 1) {
        if (headerBytes < 16) throw corruptBox(type, pos, 'largesize header runs past the end of the file');
        size = readU64(b, o + 8);
        if (size < 16) throw corruptBox(type, pos, `largesize ${size} is smaller than its 16-byte header`);
      } else if (size32 === 0) {
        size = fileSize - pos;
      } else if (size32 < 8) {
        throw corruptBox(type, pos, `size ${size32} is smaller than the 8-byte box header`);
      }
      if (size > fileSize - pos) {
        throw corruptBox(type, pos, `size ${size} runs past the end of the file (${fileSize - pos} bytes left of ${fileSize})`);
      }
      topLevelBoxes++;

      if (type === MOOV && !moovSeen) {
        if (!has(pos, size)) return requestBox(pos, size);
        parseMoov(buf!, pos - bufOffset, bufOffset);
        if (!hasMvex) return finish();
      } else if (type === MOOF) {
        if (!moovSeen) throw corruptBox(type, pos, 'moof before moov');
        if (!has(pos, size)) return requestBox(pos, size);
        fragments.readMoof(buf!, pos - bufOffset, bufOffset);
      }
      pos += size;
    }
  }

  function feed(offset: number, bytes: Uint8Array): void {
    if (pending !== undefined && offset === pending.offset && bytes.length < pending.length) {
      throw new MediaError(
        422,
        'CorruptMedia',
        `file at offset ${offset}: read returned ${bytes.length} of ${pending.length} bytes (file shorter than its stated size ${fileSize}?)`,
      );
    }
    buf = bytes;
    bufOffset = offset;
    fedSincePending = true;
  }

  // ---- moov ----

  function parseMoov(b: Uint8Array, start: number, base: number): void {
    moovSeen = true;
    moovOffset = base + start;
    const moov = readBoxHeader(b, start, b.length, base)!;
    const children = childBoxes(b, moov.payload, moov.end, base);
    let mvhd: BoxHeader | undefined;
    for (let i = 0; i < children.length; i++)
      if (children[i].type === MVHD) {
        mvhd = children[i];
        break;
      }
    if (mvhd === undefined) throw corruptBox(MOOV, moovOffset, 'no mvhd box');
    needPayload(mvhd, base, 24);
    movieTimescale = readU32(b, mvhd.payload + (readU8(b, mvhd.payload) === 1 ? 20 : 12));
    if (movieTimescale === 0) throw corruptBox(MVHD, base + mvhd.start, 'timescale is 0');

    for (let i = 0; i < children.length; i++) {
      const c = children[i];
      if (c.type === MVEX) {
        hasMvex = true;
        fragments.readMvex(b, c, base);
      }
    }
    let trakCount = 0;
    for (let i = 0; i < children.length; i++) {
      const c = children[i];
      if (c.type !== TRAK) continue;
      trakCount++;
      const r = parseTrak(b, c, base);
      if (r === undefined) continue;
      if ('unsupported' in r) {
        unsupported.push(r.unsupported);
        continue;
      }
      if (draftById.has(r.draft.trackId)) throw corruptBox(TRAK, base + c.start, `duplicate track_ID ${r.draft.trackId}`);
      drafts.push(r.draft);
      draftById.set(r.draft.trackId, r.draft);
    }
    if (trakCount === 0) throw corruptBox(MOOV, moovOffset, 'no trak box');
  }

  function parseTrak(b: Uint8Array, trak: BoxHeader, base: number): TrakResult {
    const at = base + trak.start;
    const kids = childBoxes(b, trak.payload, trak.end, base);
    const tkhd = firstBox(kids, TKHD);
    const mdia = firstBox(kids, MDIA);
    if (tkhd === undefined) throw corruptBox(TRAK, at, 'no tkhd box');
    if (mdia === undefined) throw corruptBox(TRAK, at, 'no mdia box');
    needPayload(tkhd, base, 24);
    const trackId = readU32(b, tkhd.payload + (readU8(b, tkhd.payload) === 1 ? 20 : 12));

    const mdiaKids = childBoxes(b, mdia.payload, mdia.end, base);
    const mdhd = firstBox(mdiaKids, MDHD);
    const hdlr = firstBox(mdiaKids, HDLR);
    if (mdhd === undefined) throw corruptBox(MDIA, base + mdia.start, `track ${trackId} has no mdhd box`);
    if (hdlr === undefined) throw corruptBox(MDIA, base + mdia.start, `track ${trackId} has no hdlr box`);
    needPayload(hdlr, base, 12);
    const handler = readU32(b, hdlr.payload + 8);
    let kind: TrackKind;
    if (handler === VIDE) kind = 'video';
    else if (handler === SOUN) kind = 'audio';
    else if (handler === TEXT || handler === SUBT || handler === SBTL) kind = 'text';
    else return undefined; // hint, tmcd, meta… are not media the packager serves

    const mdhdV1 = readU8(b, mdhd.payload) === 1;
    needPayload(mdhd, base, mdhdV1 ? 34 : 22);
    const timescale = readU32(b, mdhd.payload + (mdhdV1 ? 20 : 12));
    if (timescale === 0) throw corruptBox(MDHD, base + mdhd.start, `track ${trackId}: timescale is 0`);
    let language = unpackLanguage(readU16(b, mdhd.payload + (mdhdV1 ? 32 : 20)));
    // `elng` (ISO/IEC 14496-12 §8.4.6) carries a BCP 47 tag where mdhd's packed ISO 639-2 cannot say it.
    const elng = language === 'und' ? firstBox(mdiaKids, ELNG) : undefined;
    if (elng !== undefined) language = extendedLanguage(b, elng) ?? language;

    const minf = firstBox(mdiaKids, MINF);
    if (minf === undefined) throw corruptBox(MDIA, base + mdia.start, `track ${trackId} has no minf box`);
    const stbl = findChild(b, minf.payload, minf.end, STBL, base);
    if (stbl === undefined) throw corruptBox(MINF, base + minf.start, `track ${trackId} has no stbl box`);
    const stblKids = childBoxes(b, stbl.payload, stbl.end, base);
    const stsd = firstBox(stblKids, STSD);
    if (stsd === undefined) throw corruptBox(STBL, base + stbl.start, `track ${trackId} has no stsd box`);

    const entry = readStsdSampleEntry(b, stsd, base, kind, trackId, timescale);
    if (typeof entry === 'string') return { unsupported: `track ${trackId} (${kind}, ${entry})` };

    let editMediaTimeTicks = 0;
    const edts = firstBox(kids, EDTS);
    if (edts !== undefined) {
      const elst = findChild(b, edts.payload, edts.end, ELST, base);
      if (elst !== undefined) editMediaTimeTicks = parseElst(b, elst, base, timescale);
    }

    const samples = readStblSampleTable(b, stbl, stblKids, base, trackId, kind === 'audio', fileSize);
    const moovDuration = samples.durationTicks;
    const draft: TrackDraft = {
      trackId,
      kind,
      fourcc: entry.fourcc,
      codecs: entry.codecs,
      timescale,
      language,
      sampleEntry: entry.sampleEntry,
      editMediaTimeTicks,
      video: entry.video,
      audio: entry.audio,
      moovSamples: samples,
      frag: undefined,
      nextDts: moovDuration,
    };
    return { draft };
  }

  /**
   * The first non-empty edit's media_time, minus any initial empty edits (converted from the movie timescale):
   * an empty edit delays the whole track, which `pts = dts + cts − editMediaTimeTicks` expresses as a smaller
   * (possibly negative) edit. Later edits are ignored: the packager serves one continuous timeline per track.
   */
  function parseElst(b: Uint8Array, elst: BoxHeader, base: number, timescale: number): number {
    const v1 = readU8(b, elst.payload) === 1;
    needPayload(elst, base, 8);
    const count = readU32(b, elst.payload + 4);
    const entrySize = v1 ? 20 : 12;
    if (count > (elst.end - elst.payload - 8) / entrySize) {
      throw corruptBox(ELST, base + elst.start, `entry_count ${count} does not fit in the box`);
    }
    let emptyMovieTicks = 0;
    for (let i = 0, p = elst.payload + 8; i < count; i++, p += entrySize) {
      const segmentDuration = v1 ? readU64(b, p) : readU32(b, p);
      const mediaTime = v1 ? readI64(b, p + 8) : readI32(b, p + 4);
      if (mediaTime === -1) {
        emptyMovieTicks += segmentDuration;
        continue;
      }
      if (mediaTime < 0) throw corruptBox(ELST, base + elst.start, `entry ${i} has media_time ${mediaTime}`);
      return mediaTime - Math.round((emptyMovieTicks * timescale) / movieTimescale);
    }
    return 0;
  }
  // ---- result ----

  function finish(): Mp4ParserStep {
    if (!moovSeen) {
      throw new MediaError(
        422,
        'CorruptMedia',
        `moov at offset ${pos}: no moov box in the file (walked ${topLevelBoxes} top-level boxes to the end, ${fileSize} bytes)`,
      );
    }
    const tracks: TrackIndex[] = [];
    const empty: string[] = [];
    for (let i = 0; i < drafts.length; i++) {
      const t = buildTrack(drafts[i]);
      if (t === undefined) empty.push(`track ${drafts[i].trackId}`);
      else tracks.push(t);
    }
    if (tracks.length === 0) {
      if (unsupported.length > 0) {
        throw new MediaError(415, 'UnsupportedCodec', `moov at offset ${moovOffset}: no track the packager can serve: ${unsupported.join('; ')}`);
      }
      throw new MediaError(422, 'CorruptMedia', `moov at offset ${moovOffset}: no track has samples${empty.length > 0 ? ` (${empty.join(', ')})` : ''}`);
    }
    let durationSec = 0;
    for (let i = 0; i < tracks.length; i++) durationSec = Math.max(durationSec, tracks[i].durationTicks / tracks[i].timescale);
    result = { movieTimescale, durationSec, isFragmented: hasMvex, tracks, fileSize };
    drafts = [];
    draftById.clear();
    buf = undefined;
    return { done: result };
  }

  return { next, feed };
}

/** The BCP 47 tag of an `elng` box (FullBox, then a NUL-terminated string), lower case; undefined when not one. */
function extendedLanguage(b: Uint8Array, elng: BoxHeader): string | undefined {
  let end = elng.payload + 4;
  while (end < elng.end && b[end] !== 0) end++;
  const tag = String.fromCharCode(...b.subarray(elng.payload + 4, end))
    .trim()
    .toLowerCase();
  return /^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$/.test(tag) && tag !== 'und' ? tag : undefined;
}

/** ISO-639-2/T from `mdhd`'s packed 3×5 bits; `und` when unset or a QuickTime Macintosh language code. */
function unpackLanguage(packed: number): string {
  if (packed < 0x400 || packed === 0x7fff) return 'und';
  const a = ((packed >> 10) & 0x1f) + 0x60;
  const b = ((packed >> 5) & 0x1f) + 0x60;
  const c = (packed & 0x1f) + 0x60;
  if (a < 0x61 || a > 0x7a || b < 0x61 || b > 0x7a || c < 0x61 || c > 0x7a) return 'und';
  return String.fromCharCode(a, b, c);
}

/**
 * Joins the moov and fragment samples of a track and derives its figures; `undefined` for a track without samples.
 * Fragment decode times are absolute (tfdt/tfxd); when the track's samples all come from fragments they are
 * rebased so the first is 0, and the shift moves into `editMediaTimeTicks` so presentation times are unchanged.
 */
function buildTrack(d: TrackDraft): TrackIndex | undefined {
  let s: SampleTable = d.moovSamples;
  let edit = d.editMediaTimeTicks;
  const f = d.frag;
  if (f !== undefined && f.count > 0) {
    // Fragments exist only as arrays; samples in moov besides them (rare) are expanded to join them.
    const m = s.count;
    const ms = s.run(0, m);
    const n = m + f.count;
    const joined = {
      count: n,
      offsets: new Float64Array(n),
      sizes: new Uint32Array(n),
      dts: new Float64Array(n),
      durations: new Uint32Array(n),
      ctsOffsets: new Int32Array(n),
      isSync: new Uint8Array(n),
    };
    joined.offsets.set(ms.offsets);
    joined.offsets.set(f.offsets.subarray(0, f.count), m);
    joined.sizes.set(ms.sizes);
    joined.sizes.set(f.sizes.subarray(0, f.count), m);
    joined.dts.set(ms.dts);
    joined.dts.set(f.dts.subarray(0, f.count), m);
    joined.durations.set(ms.durations);
    joined.durations.set(f.durations.subarray(0, f.count), m);
    joined.ctsOffsets.set(ms.ctsOffsets);
    joined.ctsOffsets.set(f.ctsOffsets.subarray(0, f.count), m);
    joined.isSync.set(ms.isSync);
    joined.isSync.set(f.isSync.subarray(0, f.count), m);
    if (d.kind === 'audio') joined.isSync.fill(1);
    const t0 = joined.dts[0];
    if (t0 !== 0) {
      const dts = joined.dts;
      for (let i = 0; i < n; i++) dts[i] -= t0;
      edit -= t0;
    }
    s = new ArraySampleTable(joined);
  }
  if (s.count === 0) return undefined;

  const durationTicks = s.durationTicks;
  const bitrateBps = durationTicks > 0 ? Math.round((s.totalBytes * 8 * d.timescale) / durationTicks) : 0;
  // The peak that manifests advertise is measured per segment once the track is segmented (presentation.ts).
  const maxBitrateBps = bitrateBps;

  let video = d.video;
  if (video !== undefined) {
    // The median duration resists a long last frame or a stray gap better than the mean.
    const median = s.medianDuration();
    video = { ...video, frameRate: median > 0 ? Math.round((d.timescale / median) * 1000) / 1000 : 0 };
  }
  return {
    trackId: d.trackId,
    kind: d.kind,
    fourcc: d.fourcc,
    codecs: d.codecs,
    timescale: d.timescale,
    durationTicks,
    language: d.language,
    bitrateBps,
    maxBitrateBps,
    sampleEntry: d.sampleEntry,
    editMediaTimeTicks: edit,
    video,
    audio: d.audio,
    samples: s,
  };
}
