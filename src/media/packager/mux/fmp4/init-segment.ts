/**
 * The fMP4 initialization segment of one track (ISO/IEC 14496-12 §8.8, ISO/IEC 23000-19 §7.3.1): `ftyp` and a
 * `moov` with one `trak` whose sample tables are empty and an `mvex/trex`, so every sample lives in the media
 * segments written by `planMediaSegment`. The codec configuration is the source `stsd` entry, copied verbatim.
 *
 * Track ID: the source `tkhd` track_ID is kept (both here and in `tfhd`, see `fragmentTrackId`), so a box dump
 * of a segment names the same track as the source file.
 */
import type { TrackIndex } from '../../model/media-index.js';
import { BOX_HEADER_SIZE, BoxWriter, FULL_BOX_HEADER_SIZE, fourcc } from './box-writer.js';

export interface InitSegmentOptions {
  /**
   * `cmaf` (default): major brand `cmfc`, compatible `cmfc`, `iso6`, `dash`, `mp41` (ISO/IEC 23000-19 §7.2).
   * `iso`: major brand `iso5`, compatible `iso5`, `iso6`, `mp41`, for players that predate CMAF.
   */
  brands?: 'cmaf' | 'iso';
}

/** The `track_ID` written in `tkhd`, `trex` and `tfhd`: the source's, as track_ID 0 is forbidden (§8.3.2). */
export function fragmentTrackId(track: TrackIndex): number {
  return track.trackId > 0 ? track.trackId : 1;
}

const FTYP = fourcc('ftyp');
const MOOV = fourcc('moov');
const MVHD = fourcc('mvhd');
const TRAK = fourcc('trak');
const TKHD = fourcc('tkhd');
const EDTS = fourcc('edts');
const ELST = fourcc('elst');
const MDIA = fourcc('mdia');
const MDHD = fourcc('mdhd');
const HDLR = fourcc('hdlr');
const MINF = fourcc('minf');
const VMHD = fourcc('vmhd');
const SMHD = fourcc('smhd');
const NMHD = fourcc('nmhd');
const STHD = fourcc('sthd');
const DINF = fourcc('dinf');
const DREF = fourcc('dref');
const URL_ = fourcc('url ');
const STBL = fourcc('stbl');
const STSD = fourcc('stsd');
const STTS = fourcc('stts');
const STSC = fourcc('stsc');
const STSZ = fourcc('stsz');
const STCO = fourcc('stco');
const MVEX = fourcc('mvex');
const TREX = fourcc('trex');

const CMAF_BRANDS = { major: fourcc('cmfc'), compatible: [fourcc('cmfc'), fourcc('iso6'), fourcc('dash'), fourcc('mp41')] };
const ISO_BRANDS = { major: fourcc('iso5'), compatible: [fourcc('iso5'), fourcc('iso6'), fourcc('mp41')] };

/** The unity transformation matrix of `mvhd` and `tkhd` (§8.2.2.3). */
const UNITY_MATRIX = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000];

const MVHD_SIZE = FULL_BOX_HEADER_SIZE + 96;
const TKHD_SIZE = FULL_BOX_HEADER_SIZE + 80;
const MDHD_SIZE = FULL_BOX_HEADER_SIZE + 20;
const VMHD_SIZE = FULL_BOX_HEADER_SIZE + 8;
const SMHD_SIZE = FULL_BOX_HEADER_SIZE + 4;
const NMHD_SIZE = FULL_BOX_HEADER_SIZE;
const URL_SIZE = FULL_BOX_HEADER_SIZE;
const DREF_SIZE = FULL_BOX_HEADER_SIZE + 4 + URL_SIZE;
const DINF_SIZE = BOX_HEADER_SIZE + DREF_SIZE;
/** `stts`, `stsc`, `stco` with entry_count 0, and `stsz` with sample_size 0 and sample_count 0. */
const EMPTY_TABLES_SIZE = 3 * (FULL_BOX_HEADER_SIZE + 4) + FULL_BOX_HEADER_SIZE + 8;
const TREX_SIZE = FULL_BOX_HEADER_SIZE + 20;
const MVEX_SIZE = BOX_HEADER_SIZE + TREX_SIZE;
const INT32_MAX = 0x7fffffff;

interface Handler {
  type: number;
  name: string;
  /** `vmhd`, `smhd`, `nmhd` or `sthd`. */
  mediaHeader: number;
  mediaHeaderSize: number;
}

function handlerOf(track: TrackIndex): Handler {
  if (track.kind === 'video') return { type: fourcc('vide'), name: 'VideoHandler', mediaHeader: VMHD, mediaHeaderSize: VMHD_SIZE };
  if (track.kind === 'audio') return { type: fourcc('soun'), name: 'SoundHandler', mediaHeader: SMHD, mediaHeaderSize: SMHD_SIZE };
  // ISO/IEC 14496-30 §5.2 (stpp: subt + sthd) and §6.2 (wvtt: text + nmhd).
  if (track.fourcc === 'stpp') return { type: fourcc('subt'), name: 'SubtitleHandler', mediaHeader: STHD, mediaHeaderSize: NMHD_SIZE };
  return { type: fourcc('text'), name: 'TextHandler', mediaHeader: NMHD, mediaHeaderSize: NMHD_SIZE };
}

/** ISO 639-2/T packed as three 5-bit letters (§8.4.2.3); anything else is written as `und`. */
function packLanguage(language: string): number {
  const code = /^[a-z]{3}$/.test(language) ? language : 'und';
  return ((code.charCodeAt(0) - 0x60) << 10) | ((code.charCodeAt(1) - 0x60) << 5) | (code.charCodeAt(2) - 0x60);
}

interface EditEntry {
  durationTicks: number;
  mediaTime: number;
}

/**
 * The edit list that makes presentation time start at 0 (presentation = dts + cts − editMediaTimeTicks), written
 * in the movie timescale, which equals the track timescale here. A positive media_time skips B-frame delay or
 * audio priming; segment_duration 0 means "the rest of the fragmented media" (§8.6.6.3). A negative value is a
 * start delay, written as an empty edit (media_time −1) of that length before the media.
 */
function editEntries(track: TrackIndex): EditEntry[] {
  const edit = track.editMediaTimeTicks;
  if (edit > 0) return [{ durationTicks: 0, mediaTime: edit }];
  if (edit < 0)
    return [
      { durationTicks: -edit, mediaTime: -1 },
      { durationTicks: 0, mediaTime: 0 },
    ];
  return [];
}

/** Builds the `ftyp` + `moov` initialization segment of one track. */
export function buildInitSegment(track: TrackIndex, options: InitSegmentOptions = {}): Uint8Array {
  const brands = options.brands === 'iso' ? ISO_BRANDS : CMAF_BRANDS;
  const handler = handlerOf(track);
  const trackId = fragmentTrackId(track);
  const edits = editEntries(track);
  let elstVersion = 0;
  for (let i = 0; i < edits.length; i++) {
    if (edits[i].durationTicks > 0xffffffff || edits[i].mediaTime > INT32_MAX) elstVersion = 1;
  }

  // Pass 1: sizes.
  const ftypSize = BOX_HEADER_SIZE + 8 + 4 * brands.compatible.length;
  const elstSize = FULL_BOX_HEADER_SIZE + 4 + edits.length * (elstVersion === 1 ? 20 : 12);
  const edtsSize = edits.length > 0 ? BOX_HEADER_SIZE + elstSize : 0;
  const hdlrSize = FULL_BOX_HEADER_SIZE + 20 + handler.name.length + 1;
  const stsdSize = FULL_BOX_HEADER_SIZE + 4 + track.sampleEntry.byteLength;
  const stblSize = BOX_HEADER_SIZE + stsdSize + EMPTY_TABLES_SIZE;
  const minfSize = BOX_HEADER_SIZE + handler.mediaHeaderSize + DINF_SIZE + stblSize;
  const mdiaSize = BOX_HEADER_SIZE + MDHD_SIZE + hdlrSize + minfSize;
  const trakSize = BOX_HEADER_SIZE + TKHD_SIZE + edtsSize + mdiaSize;
  const moovSize = BOX_HEADER_SIZE + MVHD_SIZE + trakSize + MVEX_SIZE;

  // Pass 2: write.
  const w = BoxWriter.allocate(ftypSize + moovSize);
  w.box(ftypSize, FTYP);
  w.u32(brands.major);
  w.u32(0);
  for (let i = 0; i < brands.compatible.length; i++) w.u32(brands.compatible[i]);

  w.box(moovSize, MOOV);

  w.fullBox(MVHD_SIZE, MVHD, 0, 0);
  w.zeros(8); // creation_time, modification_time
  w.u32(track.timescale);
  w.u32(0); // duration: unknown, the fragments carry the samples
  w.u32(0x00010000); // rate 1.0
  w.u16(0x0100); // volume 1.0
  w.zeros(10);
  for (let i = 0; i < 9; i++) w.u32(UNITY_MATRIX[i]);
  w.zeros(24); // pre_defined
  w.u32(trackId + 1); // next_track_ID

  w.box(trakSize, TRAK);
  w.fullBox(TKHD_SIZE, TKHD, 0, 0x000003); // track_enabled | track_in_movie
  w.zeros(8); // creation_time, modification_time
  w.u32(trackId);
  w.u32(0); // reserved
  w.u32(0); // duration
  w.zeros(8); // reserved
  w.u16(0); // layer
  w.u16(0); // alternate_group
  w.u16(track.kind === 'audio' ? 0x0100 : 0);
  w.u16(0);
  for (let i = 0; i < 9; i++) w.u32(UNITY_MATRIX[i]);
  const width = track.kind === 'video' ? (track.video?.width ?? 0) : 0;
  const height = track.kind === 'video' ? (track.video?.height ?? 0) : 0;
  w.u32(width * 0x10000); // 16.16 fixed point
  w.u32(height * 0x10000);

  if (edits.length > 0) {
    w.box(edtsSize, EDTS);
    w.fullBox(elstSize, ELST, elstVersion, 0);
    w.u32(edits.length);
    for (let i = 0; i < edits.length; i++) {
      if (elstVersion === 1) {
        w.u64(edits[i].durationTicks);
        w.i64(edits[i].mediaTime);
      } else {
        w.u32(edits[i].durationTicks);
        w.i32(edits[i].mediaTime);
      }
      w.u16(1); // media_rate_integer
      w.u16(0); // media_rate_fraction
    }
  }

  w.box(mdiaSize, MDIA);
  w.fullBox(MDHD_SIZE, MDHD, 0, 0);
  w.zeros(8); // creation_time, modification_time
  w.u32(track.timescale);
  w.u32(0); // duration
  w.u16(packLanguage(track.language));
  w.u16(0); // pre_defined

  w.fullBox(hdlrSize, HDLR, 0, 0);
  w.u32(0); // pre_defined
  w.u32(handler.type);
  w.zeros(12);
  w.cString(handler.name);

  w.box(minfSize, MINF);
  if (handler.mediaHeader === VMHD) {
    w.fullBox(VMHD_SIZE, VMHD, 0, 1); // flags 1 (§12.1.2.2)
    w.zeros(8); // graphicsmode, opcolor
  } else if (handler.mediaHeader === SMHD) {
    w.fullBox(SMHD_SIZE, SMHD, 0, 0);
    w.zeros(4); // balance, reserved
  } else {
    w.fullBox(NMHD_SIZE, handler.mediaHeader, 0, 0);
  }

  w.box(DINF_SIZE, DINF);
  w.fullBox(DREF_SIZE, DREF, 0, 0);
  w.u32(1);
  w.fullBox(URL_SIZE, URL_, 0, 1); // self-contained: the media is in the same file (segment)

  w.box(stblSize, STBL);
  w.fullBox(stsdSize, STSD, 0, 0);
  w.u32(1);
  w.copy(track.sampleEntry);
  w.fullBox(FULL_BOX_HEADER_SIZE + 4, STTS, 0, 0);
  w.u32(0);
  w.fullBox(FULL_BOX_HEADER_SIZE + 4, STSC, 0, 0);
  w.u32(0);
  w.fullBox(FULL_BOX_HEADER_SIZE + 8, STSZ, 0, 0);
  w.u32(0); // sample_size
  w.u32(0); // sample_count
  w.fullBox(FULL_BOX_HEADER_SIZE + 4, STCO, 0, 0);
  w.u32(0);

  w.box(MVEX_SIZE, MVEX);
  w.fullBox(TREX_SIZE, TREX, 0, 0);
  w.u32(trackId);
  w.u32(1); // default_sample_description_index
  w.u32(0); // default_sample_duration
  w.u32(0); // default_sample_size
  w.u32(0); // default_sample_flags

  return w.finish();
}
