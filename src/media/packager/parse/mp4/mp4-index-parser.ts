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
 * Spec references: ISO/IEC 14496-12 (ISO BMFF) §8.*, ISO/IEC 14496-14 (esds), ISO/IEC 14496-15 (avcC, hvcC and
 * Annex E codecs strings), ETSI TS 102 366 Annex F (dac3/dec3), PIFF 1.1 §5.2.2 (tfxd).
 */
import { MediaError } from '../../../../shared/errors.js';
import type { AudioInfo, MediaIndex, TrackIndex, TrackKind, VideoInfo } from '../../model/media-index.js';
import { ArraySampleTable, type SampleRun, type SampleTable } from '../../model/sample-table.js';
import { MAX_SAMPLES_PER_TRACK, readStblSampleTable } from './stbl-sample-table.js';
import {
  AC_3, AVC1, AVC3, AVCC, DAC3, DEC3, EC_3, EDTS, ELST, ESDS, HDLR, HEV1, HVC1, HVCC, MDHD, MDIA,
  MINF, MOOF, MOOV, MP4A, MVEX, MVHD, SBTL, SOUN, STBL, STPP, STSD, SUBT,
  TEXT, TFDT, TFHD, TKHD, TRAF, TRAK, TREX, TRUN, UUID, VIDE, WVTT,
  childBoxes, corruptBox, findChild, fourccName, isPrintableFourcc, readBoxHeader, readI32, readI64, readU16,
  readU24, readU32, readU64, readU8,
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
/** A `trun` with more samples than this (hours of media in one run) is treated as corrupt. */
const MAX_SAMPLES_PER_RUN = 1 << 22;

/** `trun`/`tfhd` sample_flags bit `sample_is_non_sync_sample` (ISO/IEC 14496-12 §8.8.3.1). */
const SAMPLE_IS_NON_SYNC = 0x00010000;

/** PIFF `tfxd` extended type 6d1d9b05-42d5-44e6-80e2-141daff757b2 (fragment absolute time in ISMV). */
const TFXD_UUID = [0x6d, 0x1d, 0x9b, 0x05, 0x42, 0xd5, 0x44, 0xe6, 0x80, 0xe2, 0x14, 0x1d, 0xaf, 0xf7, 0x57, 0xb2];

/** Full channel count of an AC-3 `acmod` (ETSI TS 102 366 Table 4.3), before the LFE. */
const ACMOD_CHANNELS = [2, 1, 2, 3, 3, 4, 4, 5];
/** Channels added by each E-AC-3 `chan_loc` bit of a dependent substream (ETSI TS 102 366 Table E.1.4). */
const CHAN_LOC_CHANNELS = [2, 2, 1, 1, 2, 2, 2, 1, 1];

/** Samples collected from `moof`s, in growable typed arrays (doubling, so appends are amortised O(1)). */
type FragmentSamples = Omit<SampleRun, 'first'>;

/** `trex` defaults for one track (ISO/IEC 14496-12 §8.8.3). */
interface TrackExtends {
  duration: number;
  size: number;
  flags: number;
}

/** A usable track while the file is being walked; becomes a `TrackIndex` at the end. */
interface TrackDraft {
  trackId: number;
  kind: TrackKind;
  fourcc: string;
  codecs: string;
  timescale: number;
  language: string;
  sampleEntry: Uint8Array;
  editMediaTimeTicks: number;
  video: VideoInfo | undefined;
  audio: AudioInfo | undefined;
  /** Samples described by `stbl` (count 0 in a typical fragmented file). */
  moovSamples: SampleTable;
  frag: FragmentSamples | undefined;
  /** Decode time (un-normalised, track ticks) of the next fragment sample when a fragment carries no time. */
  nextDts: number;
}

/** What `stsd` held, when the track is usable. */
interface EntryInfo {
  fourcc: string;
  codecs: string;
  sampleEntry: Uint8Array;
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
  /** Sum of the sizes of every fragment sample so far, all tracks. */
  let fragmentBytes = 0;
  let drafts: TrackDraft[] = [];
  const draftById = new Map<number, TrackDraft>();
  const trexById = new Map<number, TrackExtends>();
  const unsupported: string[] = [];

  function has(offset: number, length: number): boolean {
    return buf !== undefined && offset >= bufOffset && offset + length <= bufOffset + buf.length;
  }

  function request(offset: number, length: number): Mp4ParserStep {
    if (pending !== undefined && pending.offset === offset && pending.length === length) {
      // The host was asked for exactly this and what it fed did not cover it: asking again would loop.
      if (fedSincePending) {
        throw new MediaError(422, 'CorruptMedia', `file at offset ${offset}: a read of ${length} bytes did not return them (file shorter than its stated size ${fileSize}?)`);
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
        throw new MediaError(422, 'CorruptMedia', `${fourccName(type)} at offset 0: not an MP4 file (first box has type '${fourccName(type)}' and size ${size32}, file is ${fileSize} bytes)`);
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
        parseMoof(buf!, pos - bufOffset, bufOffset);
      }
      pos += size;
    }
  }

  function feed(offset: number, bytes: Uint8Array): void {
    if (pending !== undefined && offset === pending.offset && bytes.length < pending.length) {
      throw new MediaError(422, 'CorruptMedia', `file at offset ${offset}: read returned ${bytes.length} of ${pending.length} bytes (file shorter than its stated size ${fileSize}?)`);
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
    for (let i = 0; i < children.length; i++) if (children[i].type === MVHD) { mvhd = children[i]; break; }
    if (mvhd === undefined) throw corruptBox(MOOV, moovOffset, 'no mvhd box');
    need(mvhd, base, 24);
    movieTimescale = readU32(b, mvhd.payload + (readU8(b, mvhd.payload) === 1 ? 20 : 12));
    if (movieTimescale === 0) throw corruptBox(MVHD, base + mvhd.start, 'timescale is 0');

    for (let i = 0; i < children.length; i++) {
      const c = children[i];
      if (c.type === MVEX) {
        hasMvex = true;
        const trexes = childBoxes(b, c.payload, c.end, base);
        for (let j = 0; j < trexes.length; j++) {
          const t = trexes[j];
          if (t.type !== TREX) continue;
          need(t, base, 24);
          trexById.set(readU32(b, t.payload + 4), {
            duration: readU32(b, t.payload + 12),
            size: readU32(b, t.payload + 16),
            flags: readU32(b, t.payload + 20),
          });
        }
      }
    }
    let trakCount = 0;
    for (let i = 0; i < children.length; i++) {
      const c = children[i];
      if (c.type !== TRAK) continue;
      trakCount++;
      const r = parseTrak(b, c, base);
      if (r === undefined) continue;
      if ('unsupported' in r) { unsupported.push(r.unsupported); continue; }
      if (draftById.has(r.draft.trackId)) throw corruptBox(TRAK, base + c.start, `duplicate track_ID ${r.draft.trackId}`);
      drafts.push(r.draft);
      draftById.set(r.draft.trackId, r.draft);
    }
    if (trakCount === 0) throw corruptBox(MOOV, moovOffset, 'no trak box');
  }

  function parseTrak(b: Uint8Array, trak: BoxHeader, base: number): TrakResult {
    const at = base + trak.start;
    const kids = childBoxes(b, trak.payload, trak.end, base);
    const tkhd = pick(kids, TKHD);
    const mdia = pick(kids, MDIA);
    if (tkhd === undefined) throw corruptBox(TRAK, at, 'no tkhd box');
    if (mdia === undefined) throw corruptBox(TRAK, at, 'no mdia box');
    need(tkhd, base, 24);
    const trackId = readU32(b, tkhd.payload + (readU8(b, tkhd.payload) === 1 ? 20 : 12));

    const mdiaKids = childBoxes(b, mdia.payload, mdia.end, base);
    const mdhd = pick(mdiaKids, MDHD);
    const hdlr = pick(mdiaKids, HDLR);
    if (mdhd === undefined) throw corruptBox(MDIA, base + mdia.start, `track ${trackId} has no mdhd box`);
    if (hdlr === undefined) throw corruptBox(MDIA, base + mdia.start, `track ${trackId} has no hdlr box`);
    need(hdlr, base, 12);
    const handler = readU32(b, hdlr.payload + 8);
    let kind: TrackKind;
    if (handler === VIDE) kind = 'video';
    else if (handler === SOUN) kind = 'audio';
    else if (handler === TEXT || handler === SUBT || handler === SBTL) kind = 'text';
    else return undefined; // hint, tmcd, meta… are not media the packager serves

    const mdhdV1 = readU8(b, mdhd.payload) === 1;
    need(mdhd, base, mdhdV1 ? 34 : 22);
    const timescale = readU32(b, mdhd.payload + (mdhdV1 ? 20 : 12));
    if (timescale === 0) throw corruptBox(MDHD, base + mdhd.start, `track ${trackId}: timescale is 0`);
    const language = unpackLanguage(readU16(b, mdhd.payload + (mdhdV1 ? 32 : 20)));

    const minf = pick(mdiaKids, MINF);
    if (minf === undefined) throw corruptBox(MDIA, base + mdia.start, `track ${trackId} has no minf box`);
    const stbl = findChild(b, minf.payload, minf.end, STBL, base);
    if (stbl === undefined) throw corruptBox(MINF, base + minf.start, `track ${trackId} has no stbl box`);
    const stblKids = childBoxes(b, stbl.payload, stbl.end, base);
    const stsd = pick(stblKids, STSD);
    if (stsd === undefined) throw corruptBox(STBL, base + stbl.start, `track ${trackId} has no stsd box`);

    const entry = parseStsd(b, stsd, base, kind, trackId, timescale);
    if (typeof entry === 'string') return { unsupported: `track ${trackId} (${kind}, ${entry})` };

    let editMediaTimeTicks = 0;
    const edts = pick(kids, EDTS);
    if (edts !== undefined) {
      const elst = findChild(b, edts.payload, edts.end, ELST, base);
      if (elst !== undefined) editMediaTimeTicks = parseElst(b, elst, base, timescale);
    }

    const samples = readStblSampleTable(b, stbl, stblKids, base, trackId, kind === 'audio', fileSize);
    const moovDuration = samples.durationTicks;
    const draft: TrackDraft = {
      trackId, kind, fourcc: entry.fourcc, codecs: entry.codecs, timescale, language,
      sampleEntry: entry.sampleEntry, editMediaTimeTicks, video: entry.video, audio: entry.audio,
      moovSamples: samples, frag: undefined, nextDts: moovDuration,
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
    need(elst, base, 8);
    const count = readU32(b, elst.payload + 4);
    const entrySize = v1 ? 20 : 12;
    if (count > (elst.end - elst.payload - 8) / entrySize) {
      throw corruptBox(ELST, base + elst.start, `entry_count ${count} does not fit in the box`);
    }
    let emptyMovieTicks = 0;
    for (let i = 0, p = elst.payload + 8; i < count; i++, p += entrySize) {
      const segmentDuration = v1 ? readU64(b, p) : readU32(b, p);
      const mediaTime = v1 ? readI64(b, p + 8) : readI32(b, p + 4);
      if (mediaTime === -1) { emptyMovieTicks += segmentDuration; continue; }
      if (mediaTime < 0) throw corruptBox(ELST, base + elst.start, `entry ${i} has media_time ${mediaTime}`);
      return mediaTime - Math.round((emptyMovieTicks * timescale) / movieTimescale);
    }
    return 0;
  }

  // ---- moof ----

  function parseMoof(b: Uint8Array, start: number, base: number): void {
    const moof = readBoxHeader(b, start, b.length, base)!;
    const moofOffset = base + moof.start;
    const kids = childBoxes(b, moof.payload, moof.end, base);
    let prevTrafDataEnd = moofOffset;
    let firstTraf = true;
    for (let i = 0; i < kids.length; i++) {
      if (kids[i].type !== TRAF) continue;
      prevTrafDataEnd = parseTraf(b, kids[i], base, moofOffset, firstTraf ? moofOffset : prevTrafDataEnd);
      firstTraf = false;
    }
  }

  /** Appends one `traf`'s samples to its track; returns where its data ends (the implicit base of the next traf). */
  function parseTraf(b: Uint8Array, traf: BoxHeader, base: number, moofOffset: number, implicitBase: number): number {
    const kids = childBoxes(b, traf.payload, traf.end, base);
    const tfhd = pick(kids, TFHD);
    if (tfhd === undefined) throw corruptBox(TRAF, base + traf.start, 'no tfhd box');
    need(tfhd, base, 8);
    const tfhdFlags = readU24(b, tfhd.payload + 1);
    const trackId = readU32(b, tfhd.payload + 4);
    const trex = trexById.get(trackId);
    let p = tfhd.payload + 8;
    let fieldBytes = 0;
    if (tfhdFlags & 0x01) fieldBytes += 8;
    if (tfhdFlags & 0x02) fieldBytes += 4;
    if (tfhdFlags & 0x08) fieldBytes += 4;
    if (tfhdFlags & 0x10) fieldBytes += 4;
    if (tfhdFlags & 0x20) fieldBytes += 4;
    need(tfhd, base, 8 + fieldBytes);
    let dataBase = tfhdFlags & 0x020000 ? moofOffset : implicitBase; // default-base-is-moof
    if (tfhdFlags & 0x01) { dataBase = readU64(b, p); p += 8; } // base-data-offset
    if (tfhdFlags & 0x02) p += 4; // sample-description-index: the packager serves the first entry only
    let defDuration = trex !== undefined ? trex.duration : 0;
    let defSize = trex !== undefined ? trex.size : 0;
    let defFlags = trex !== undefined ? trex.flags : 0;
    if (tfhdFlags & 0x08) { defDuration = readU32(b, p); p += 4; }
    if (tfhdFlags & 0x10) { defSize = readU32(b, p); p += 4; }
    if (tfhdFlags & 0x20) { defFlags = readU32(b, p); p += 4; }

    const draft = draftById.get(trackId);
    let dts = draft !== undefined ? draft.nextDts : 0;
    let timed = false;
    for (let i = 0; i < kids.length; i++) {
      const k = kids[i];
      if (k.type === TFDT) {
        const v1 = readU8(b, k.payload) === 1;
        need(k, base, v1 ? 12 : 8);
        dts = v1 ? readU64(b, k.payload + 4) : readU32(b, k.payload + 4);
        timed = true;
        break;
      }
    }
    if (!timed) {
      // ISMV (PIFF) carries the fragment's time in a tfxd uuid box instead of tfdt; it may be negative (priming).
      for (let i = 0; i < kids.length; i++) {
        const k = kids[i];
        if (k.type !== UUID || !isTfxd(b, k)) continue;
        const v1 = readU8(b, k.payload + 16) === 1;
        need(k, base, v1 ? 36 : 28);
        dts = v1 ? readI64(b, k.payload + 20) : readU32(b, k.payload + 20);
        break;
      }
    }
    const frag = draft !== undefined ? fragmentsOf(draft) : undefined;
    if (frag !== undefined && frag.count > 0 && dts < frag.dts[frag.count - 1]) {
      throw corruptBox(TRAF, base + traf.start, `track ${trackId}: fragment decode time ${dts} goes back before sample ${frag.count - 1} (${frag.dts[frag.count - 1]})`);
    }
    if (draft !== undefined && draft.moovSamples.count > 0 && dts < draft.nextDts && frag!.count === 0) {
      throw corruptBox(TRAF, base + traf.start, `track ${trackId}: fragment decode time ${dts} overlaps the samples in moov (end ${draft.nextDts})`);
    }

    let dataEnd = dataBase;
    let firstRun = true;
    for (let i = 0; i < kids.length; i++) {
      const trun = kids[i];
      if (trun.type !== TRUN) continue;
      need(trun, base, 8);
      const flags = readU24(b, trun.payload + 1);
      const n = readU32(b, trun.payload + 4);
      let q = trun.payload + 8;
      let dataOffset = firstRun ? dataBase : dataEnd;
      if (flags & 0x01) { need(trun, base, q - trun.payload + 4); dataOffset = dataBase + readI32(b, q); q += 4; }
      let firstFlags = -1;
      if (flags & 0x04) { need(trun, base, q - trun.payload + 4); firstFlags = readU32(b, q); q += 4; }
      const hasDuration = (flags & 0x100) !== 0;
      const hasSize = (flags & 0x200) !== 0;
      const hasFlags = (flags & 0x400) !== 0;
      const hasCts = (flags & 0x800) !== 0;
      const stride = 4 * ((hasDuration ? 1 : 0) + (hasSize ? 1 : 0) + (hasFlags ? 1 : 0) + (hasCts ? 1 : 0));
      const trunAt = base + trun.start;
      if (n > MAX_SAMPLES_PER_RUN) throw corruptBox(TRUN, trunAt, `sample_count ${n} is absurd`);
      if (q + n * stride > trun.end) throw corruptBox(TRUN, trunAt, `${n} samples of ${stride} bytes do not fit in the box (${trun.end - q} bytes left)`);
      // Runs without per-sample sizes cost 12 bytes however many samples they claim: bound them by the file
      // (all fragments together cannot hold more sample bytes than the file) before allocating anything.
      if (!hasSize && defSize === 0 && n > 1) throw corruptBox(TRUN, trunAt, `${n} samples of 0 bytes`);
      if (!hasSize && fragmentBytes + n * defSize > fileSize) throw corruptBox(TRUN, trunAt, `${n} samples of ${defSize} bytes exceed the file (${fileSize} bytes)`);
      if (dataOffset < 0) throw corruptBox(TRUN, trunAt, `data offset ${dataOffset} is before the start of the file`);
      let k = 0;
      if (frag !== undefined) {
        if (frag.count + n > MAX_SAMPLES_PER_TRACK) throw corruptBox(TRUN, trunAt, `track ${trackId} has more than ${MAX_SAMPLES_PER_TRACK} samples`);
        growFragments(frag, n);
        k = frag.count;
      }
      let off = dataOffset;
      for (let s = 0; s < n; s++) {
        const duration = hasDuration ? readU32(b, q) : defDuration;
        if (hasDuration) q += 4;
        const size = hasSize ? readU32(b, q) : defSize;
        if (hasSize) q += 4;
        const sampleFlags = hasFlags ? readU32(b, q) : s === 0 && firstFlags !== -1 ? firstFlags : defFlags;
        if (hasFlags) q += 4;
        const cts = hasCts ? readI32(b, q) : 0; // version 0 is unsigned, but offsets ≥ 2^31 ticks never occur
        if (hasCts) q += 4;
        if (off + size > fileSize) {
          throw corruptBox(TRUN, trunAt, `track ${trackId} sample ${s} (${size} bytes at offset ${off}) runs past the end of the file (${fileSize} bytes)`);
        }
        if (frag !== undefined) {
          frag.offsets[k] = off;
          frag.sizes[k] = size;
          frag.dts[k] = dts;
          frag.durations[k] = duration;
          frag.ctsOffsets[k] = cts;
          frag.isSync[k] = (sampleFlags & SAMPLE_IS_NON_SYNC) === 0 ? 1 : 0;
          k++;
        }
        off += size;
        dts += duration;
      }
      if (frag !== undefined) frag.count = k;
      fragmentBytes += off - dataOffset;
      if (fragmentBytes > fileSize) throw corruptBox(TRUN, trunAt, `fragments describe ${fragmentBytes} bytes of samples, more than the file holds (${fileSize} bytes)`);
      dataEnd = off;
      firstRun = false;
    }
    if (draft !== undefined) draft.nextDts = dts;
    return dataEnd;
  }

  // ---- result ----

  function finish(): Mp4ParserStep {
    if (!moovSeen) {
      throw new MediaError(422, 'CorruptMedia', `moov at offset ${pos}: no moov box in the file (walked ${topLevelBoxes} top-level boxes to the end, ${fileSize} bytes)`);
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

function pick(boxes: BoxHeader[], type: number): BoxHeader | undefined {
  for (let i = 0; i < boxes.length; i++) if (boxes[i].type === type) return boxes[i];
  return undefined;
}

/** Throws unless the box payload holds at least `bytes` bytes. */
function need(h: BoxHeader, base: number, bytes: number): void {
  if (h.end - h.payload < bytes) throw corruptBox(h.type, base + h.start, `payload of ${h.end - h.payload} bytes is shorter than the ${bytes} bytes its fields need`);
}

function isTfxd(b: Uint8Array, h: BoxHeader): boolean {
  if (h.end - h.payload < 16) return false;
  for (let i = 0; i < 16; i++) if (b[h.payload + i] !== TFXD_UUID[i]) return false;
  return true;
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

function fragmentsOf(d: TrackDraft): FragmentSamples {
  if (d.frag === undefined) {
    d.frag = {
      count: 0, offsets: new Float64Array(0), sizes: new Uint32Array(0), dts: new Float64Array(0),
      durations: new Uint32Array(0), ctsOffsets: new Int32Array(0), isSync: new Uint8Array(0),
    };
  }
  return d.frag;
}

function growFragments(f: FragmentSamples, more: number): void {
  const needed = f.count + more;
  if (needed <= f.offsets.length) return;
  const cap = Math.max(needed, f.offsets.length * 2, 256);
  const offsets = new Float64Array(cap); offsets.set(f.offsets.subarray(0, f.count)); f.offsets = offsets;
  const sizes = new Uint32Array(cap); sizes.set(f.sizes.subarray(0, f.count)); f.sizes = sizes;
  const dts = new Float64Array(cap); dts.set(f.dts.subarray(0, f.count)); f.dts = dts;
  const durations = new Uint32Array(cap); durations.set(f.durations.subarray(0, f.count)); f.durations = durations;
  const cts = new Int32Array(cap); cts.set(f.ctsOffsets.subarray(0, f.count)); f.ctsOffsets = cts;
  const sync = new Uint8Array(cap); sync.set(f.isSync.subarray(0, f.count)); f.isSync = sync;
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
      offsets: new Float64Array(n), sizes: new Uint32Array(n), dts: new Float64Array(n),
      durations: new Uint32Array(n), ctsOffsets: new Int32Array(n), isSync: new Uint8Array(n),
    };
    joined.offsets.set(ms.offsets); joined.offsets.set(f.offsets.subarray(0, f.count), m);
    joined.sizes.set(ms.sizes); joined.sizes.set(f.sizes.subarray(0, f.count), m);
    joined.dts.set(ms.dts); joined.dts.set(f.dts.subarray(0, f.count), m);
    joined.durations.set(ms.durations); joined.durations.set(f.durations.subarray(0, f.count), m);
    joined.ctsOffsets.set(ms.ctsOffsets); joined.ctsOffsets.set(f.ctsOffsets.subarray(0, f.count), m);
    joined.isSync.set(ms.isSync); joined.isSync.set(f.isSync.subarray(0, f.count), m);
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

// ---- stsd and codecs ----

/** The first sample entry of `stsd`, or a short reason the track cannot be served. */
function parseStsd(b: Uint8Array, stsd: BoxHeader, base: number, kind: TrackKind, trackId: number, timescale: number): EntryInfo | string {
  need(stsd, base, 8);
  const entryCount = readU32(b, stsd.payload + 4);
  if (entryCount === 0) throw corruptBox(STSD, base + stsd.start, `track ${trackId}: no sample entry`);
  const entry = readBoxHeader(b, stsd.payload + 8, stsd.end, base);
  if (entry === undefined) throw corruptBox(STSD, base + stsd.start, `track ${trackId}: sample entry truncated`);
  const type = entry.type;
  const fourcc = fourccName(type);
  const at = base + entry.start;
  // Copy (not a view): the index outlives the moov buffer, and the init segment needs only these bytes.
  const sampleEntry = new Uint8Array(b.subarray(entry.start, entry.end));

  if (kind === 'video') {
    if (type !== AVC1 && type !== AVC3 && type !== HVC1 && type !== HEV1) return `sample entry '${fourcc}'`;
    // VisualSampleEntry (ISO/IEC 14496-12 §12.1.3): 78 bytes of fields before the child boxes.
    need(entry, base, 78);
    const width = readU16(b, entry.payload + 24);
    const height = readU16(b, entry.payload + 26);
    const isAvc = type === AVC1 || type === AVC3;
    const config = findChild(b, entry.payload + 78, entry.end, isAvc ? AVCC : HVCC, base);
    if (config === undefined) throw corruptBox(type, at, `track ${trackId}: no ${isAvc ? 'avcC' : 'hvcC'} box`);
    let codecs: string;
    if (isAvc) {
      need(config, base, 4);
      codecs = avcCodecString(fourcc, b, config.payload);
    } else {
      need(config, base, 13);
      codecs = hevcCodecString(fourcc, b, config.payload);
    }
    return { fourcc, codecs, sampleEntry, video: { width, height, frameRate: 0 }, audio: undefined };
  }

  if (kind === 'audio') {
    if (type !== MP4A && type !== AC_3 && type !== EC_3) return `sample entry '${fourcc}'`;
    // AudioSampleEntry (ISO/IEC 14496-12 §12.2.3): 28 bytes of fields; QuickTime sound description v1/v2 add 16/36.
    need(entry, base, 28);
    const version = readU16(b, entry.payload + 8);
    let channels = readU16(b, entry.payload + 16);
    let sampleRate = readU32(b, entry.payload + 24) >>> 16;
    let children = entry.payload + 28;
    if (version === 1) {
      children += 16;
    } else if (version === 2) {
      need(entry, base, 64);
      sampleRate = Math.round(new DataView(b.buffer, b.byteOffset + entry.payload + 32, 8).getFloat64(0));
      channels = readU32(b, entry.payload + 40);
      children += 36;
    }
    if (sampleRate === 0) sampleRate = timescale;
    let codecs = fourcc;
    let aacObjectType: number | undefined;
    if (type === MP4A) {
      const esds = findChild(b, children, entry.end, ESDS, base);
      if (esds === undefined) throw corruptBox(MP4A, at, `track ${trackId}: no esds box`);
      const aac = parseEsds(b, esds, base);
      if (aac.objectTypeIndication !== 0x40) return `mp4a with objectTypeIndication 0x${aac.objectTypeIndication.toString(16)}`;
      if (aac.audioObjectType === 0) throw corruptBox(ESDS, base + esds.start, `track ${trackId}: no AudioSpecificConfig`);
      aacObjectType = aac.audioObjectType;
      codecs = `mp4a.40.${aac.audioObjectType}`;
      if (channels === 0) channels = aac.channelConfiguration;
    } else if (type === AC_3) {
      const dac3 = findChild(b, children, entry.end, DAC3, base);
      if (dac3 !== undefined && dac3.end - dac3.payload >= 3) {
        const b1 = b[dac3.payload + 1];
        channels = ACMOD_CHANNELS[(b1 >> 3) & 7] + ((b1 >> 2) & 1);
      }
    } else {
      const dec3 = findChild(b, children, entry.end, DEC3, base);
      if (dec3 !== undefined && dec3.end - dec3.payload >= 5) {
        // First independent substream: its acmod/lfeon, plus the channels its dependent substreams add.
        const p = dec3.payload + 2;
        const b1 = b[p + 1];
        let n = ACMOD_CHANNELS[(b1 >> 1) & 7] + (b1 & 1);
        const numDep = (b[p + 2] >> 1) & 0xf;
        if (numDep > 0) {
          const chanLoc = ((b[p + 2] & 1) << 8) | b[p + 3];
          for (let bit = 0; bit < 9; bit++) if (chanLoc & (1 << (8 - bit))) n += CHAN_LOC_CHANNELS[bit];
        }
        channels = n;
      }
    }
    const audio: AudioInfo = aacObjectType !== undefined ? { channels, sampleRate, aacObjectType } : { channels, sampleRate };
    return { fourcc, codecs, sampleEntry, video: undefined, audio };
  }

  if (type !== WVTT && type !== STPP) return `sample entry '${fourcc}'`;
  return { fourcc, codecs: fourcc, sampleEntry, video: undefined, audio: undefined };
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/**
 * RFC 6381 string from an `avcC` payload at `o`: `avc1.PPCCLL` (profile_idc, constraint flags byte,
 * level_idc in hex), e.g. `avc1.64001f` for High@3.1.
 */
export function avcCodecString(fourcc: string, b: Uint8Array, o: number): string {
  return `${fourcc}.${hex2(b[o + 1])}${hex2(b[o + 2])}${hex2(b[o + 3])}`;
}

/**
 * ISO/IEC 14496-15 Annex E string from an `hvcC` payload at `o`: profile space letter + profile_idc, the 32
 * compatibility flags bit-reversed in hex, tier letter + level_idc, then the six constraint bytes in hex with
 * trailing zero bytes dropped — e.g. `hvc1.1.6.L93.B0` for Main@3.1 progressive.
 */
export function hevcCodecString(fourcc: string, b: Uint8Array, o: number): string {
  const b1 = b[o + 1];
  const space = b1 >> 6;
  const tier = (b1 >> 5) & 1;
  const profile = b1 & 0x1f;
  let compat = readU32(b, o + 2);
  let reversed = 0;
  for (let i = 0; i < 32; i++) {
    reversed = (reversed << 1) | (compat & 1);
    compat >>>= 1;
  }
  const level = b[o + 12];
  let s = `${fourcc}.${['', 'A', 'B', 'C'][space]}${profile}.${(reversed >>> 0).toString(16).toUpperCase()}.${tier ? 'H' : 'L'}${level}`;
  let last = 5;
  while (last >= 0 && b[o + 6 + last] === 0) last--;
  for (let i = 0; i <= last; i++) s += `.${b[o + 6 + i].toString(16).toUpperCase()}`;
  return s;
}

interface EsdsInfo {
  objectTypeIndication: number;
  /** From the AudioSpecificConfig; 0 when there is none. */
  audioObjectType: number;
  channelConfiguration: number;
}

/**
 * `esds` (ISO/IEC 14496-1 §7.2.6): ES_Descriptor → DecoderConfigDescriptor (objectTypeIndication) →
 * DecoderSpecificInfo (AudioSpecificConfig, ISO/IEC 14496-3 §1.6.2.1: audioObjectType, 31 = escape to 32+6 bits).
 */
export function parseEsds(b: Uint8Array, esds: BoxHeader, base: number): EsdsInfo {
  const at = base + esds.start;
  const end = esds.end;
  let p = esds.payload + 4; // FullBox version/flags
  const es = readDescriptor(b, p, end, at);
  if (es.tag !== 0x03) throw corruptBox(ESDS, at, `expected ES_Descriptor (tag 3), found tag ${es.tag}`);
  p = es.payload;
  if (p + 3 > es.end) throw corruptBox(ESDS, at, 'ES_Descriptor truncated');
  const flags = b[p + 2];
  p += 3;
  if (flags & 0x80) p += 2; // streamDependenceFlag → dependsOn_ES_ID
  if (flags & 0x40) { if (p >= es.end) throw corruptBox(ESDS, at, 'ES_Descriptor URL truncated'); p += 1 + b[p]; } // URL_Flag
  if (flags & 0x20) p += 2; // OCRstreamFlag
  while (p < es.end) {
    const d = readDescriptor(b, p, es.end, at);
    if (d.tag === 0x04) {
      if (d.end - d.payload < 13) throw corruptBox(ESDS, at, 'DecoderConfigDescriptor truncated');
      const objectTypeIndication = b[d.payload];
      let audioObjectType = 0;
      let channelConfiguration = 0;
      let q = d.payload + 13;
      while (q < d.end) {
        const dsi = readDescriptor(b, q, d.end, at);
        if (dsi.tag === 0x05 && dsi.end - dsi.payload >= 2) {
          const asc = dsi.payload;
          audioObjectType = b[asc] >> 3;
          let bit = 5;
          if (audioObjectType === 31) {
            audioObjectType = 32 + (((b[asc] & 0x07) << 3) | (b[asc + 1] >> 5));
            bit = 11;
          }
          // samplingFrequencyIndex (4 bits, 15 → 24-bit explicit rate), then channelConfiguration (4 bits).
          const freqIndex = readBits(b, asc, bit, 4, dsi.end);
          bit += freqIndex === 15 ? 28 : 4;
          channelConfiguration = readBits(b, asc, bit, 4, dsi.end);
          break;
        }
        q = dsi.end;
      }
      return { objectTypeIndication, audioObjectType, channelConfiguration };
    }
    p = d.end;
  }
  throw corruptBox(ESDS, at, 'no DecoderConfigDescriptor');
}

/** `n` (≤ 24) bits starting `bit` bits into `b[o…]`, MSB first; bits past `end` read as 0. */
function readBits(b: Uint8Array, o: number, bit: number, n: number, end: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const byte = o + ((bit + i) >> 3);
    const x = byte < end ? (b[byte] >> (7 - ((bit + i) & 7))) & 1 : 0;
    v = (v << 1) | x;
  }
  return v;
}

/** An MPEG-4 descriptor header: tag byte and a size of 1–4 bytes, 7 bits each (ISO/IEC 14496-1 §8.3.3). */
function readDescriptor(b: Uint8Array, o: number, end: number, at: number): { tag: number; payload: number; end: number } {
  if (o + 2 > end) throw corruptBox(ESDS, at, `descriptor at ${o} truncated`);
  const tag = b[o];
  let size = 0;
  let p = o + 1;
  for (let i = 0; i < 4; i++) {
    if (p >= end) throw corruptBox(ESDS, at, `descriptor tag ${tag} size truncated`);
    const byte = b[p++];
    size = (size << 7) | (byte & 0x7f);
    if ((byte & 0x80) === 0) break;
  }
  if (p + size > end) throw corruptBox(ESDS, at, `descriptor tag ${tag} size ${size} runs past its parent`);
  return { tag, payload: p, end: p + size };
}
