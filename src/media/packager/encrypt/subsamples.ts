/**
 * Which bytes of an H.264/HEVC sample are encrypted (ISO/IEC 23001-7 §9.5 and §10.4, ISO/IEC 14496-15):
 * the sample is a list of length-prefixed NAL units and players rely on reading those lengths and headers in
 * the clear (Chromium converts to Annex B before decrypting), so
 * - non-VCL NAL units (SEI, parameter sets, AUD…) are wholly clear;
 * - a VCL NAL unit (a slice) keeps its length, its NAL header and a leader of `VCL_CLEAR_LEADER` bytes clear,
 *   which holds the slice header, and its remainder rounded down to 16 bytes is protected, ending exactly
 *   at the NAL unit's end (the rounding bytes stay clear before it). Whole AES blocks suit both schemes
 *   (`cbcs` leaves a partial block clear anyway) and hardware decoders that want block-aligned ranges.
 * For H.264 (`avc1`) the slice header is parsed with the SPS/PPS of `avcC` (avc-slice-header.ts) and exactly
 * it stays clear. Otherwise (HEVC, `avc3` whose parameter sets may change in-band, a header the parser does not
 * follow) the leader is a conservative bound (an H.264 slice header is a few bytes to a few dozen with weighted
 * prediction; HEVC's with an explicit reference picture set a few dozen), at the cost of leaving that much of
 * each slice's entropy-coded data clear.
 *
 * A subsample is a (clear, protected) pair; `BytesOfClearData` is 16 bits, so a longer clear run is split
 * into (65535, 0) pairs. `saiz` sizes are 8 bits, so a sample carries at most `MAX_SUBSAMPLES` pairs: slices
 * past that (only with absurd slice counts) stay clear.
 */
import { MediaError } from '../../../shared/errors.js';
import type { TrackIndex } from '../model/media-index.js';
import { readAnnexBConfig } from '../mux/ts/annexb.js';
import { findSampleEntryChild } from '../mux/ts/sample-entry.js';
import { avcSliceHeaderLength, readAvcParameterSets, type AvcParameterSets } from './avc-slice-header.js';

/** Bytes of a VCL NAL unit after its length field that stay clear when its slice header is not parsed. */
export const VCL_CLEAR_LEADER = 64;
/** 8 (IV) + 2 (count) + 6 × 40 = 250 ≤ 255, the largest `saiz` entry. */
export const MAX_SUBSAMPLES = 40;
const MAX_CLEAR = 0xffff;
const BLOCK = 16;

export interface NalLayout {
  codec: 'avc' | 'hevc';
  /** Bytes of each NAL unit length prefix (1, 2 or 4). */
  nalLengthSize: number;
  /** `avc1`: the parameter sets slice headers are parsed with. */
  avcParameterSets?: AvcParameterSets;
}

const layouts = new WeakMap<TrackIndex, NalLayout>();

/**
 * The NAL layout of an H.264/HEVC track (read once per track index); throws `UnsupportedCodec` for video that
 * cannot be subsample-encrypted.
 */
export function nalLayoutOf(track: TrackIndex): NalLayout {
  let layout = layouts.get(track);
  if (layout === undefined) {
    const config = readAnnexBConfig(track); // throws 415 for other codecs, 422 for a broken avcC/hvcC
    const avcC = track.fourcc === 'avc1' ? findSampleEntryChild(track, 'avcC') : undefined;
    layout = { codec: config.codec, nalLengthSize: config.nalLengthSize, ...(avcC ? { avcParameterSets: readAvcParameterSets(avcC) } : {}) };
    layouts.set(track, layout);
  }
  return layout;
}

function isVcl(layout: NalLayout, firstByte: number): boolean {
  if (layout.codec === 'avc') {
    const type = firstByte & 0x1f;
    return type >= 1 && type <= 5;
  }
  return ((firstByte >> 1) & 0x3f) <= 31;
}

function entriesFor(clear: number): number {
  return Math.max(1, Math.ceil(clear / MAX_CLEAR));
}

/**
 * Appends the sample's subsample pairs to `out` as [clear, protected, clear, protected, …] and returns how
 * many pairs it added (at least one; a wholly clear sample is one or more (clear, 0) pairs).
 */
export function subsamplesOf(layout: NalLayout, sample: Uint8Array, out: number[], sampleNumber: number): number {
  const lengthSize = layout.nalLengthSize;
  const end = sample.byteLength;
  const start = out.length;
  let clear = 0;
  let offset = 0;
  while (offset < end) {
    if (offset + lengthSize > end) throw corrupt(sampleNumber, `ends inside a NAL unit length`);
    let nalLength = 0;
    for (let i = 0; i < lengthSize; i++) nalLength = nalLength * 256 + sample[offset + i];
    const nalEnd = offset + lengthSize + nalLength;
    if (nalEnd > end) throw corrupt(sampleNumber, `has a NAL unit of ${nalLength} bytes at byte ${offset + lengthSize} past its ${end} bytes`);
    let protectedBytes = 0;
    if (nalLength > 0 && isVcl(layout, sample[offset + lengthSize])) {
      const nal = sample.subarray(offset + lengthSize, nalEnd);
      const header = layout.avcParameterSets ? avcSliceHeaderLength(nal, layout.avcParameterSets) : undefined;
      const leader = lengthSize + (header ? header.bytes : Math.min(nalLength, VCL_CLEAR_LEADER));
      protectedBytes = Math.floor((nalEnd - offset - leader) / BLOCK) * BLOCK;
    }
    const clearHere = clear + (nalEnd - offset - protectedBytes);
    const pairs = (out.length - start) / 2;
    if (protectedBytes > 0 && pairs + entriesFor(clearHere) + entriesFor(end - nalEnd) <= MAX_SUBSAMPLES) {
      pushClear(out, clearHere);
      out[out.length - 1] = protectedBytes;
      clear = 0;
    } else {
      clear += nalEnd - offset; // the whole unit stays clear
    }
    offset = nalEnd;
  }
  if (clear > 0 || out.length === start) pushClear(out, clear);
  return (out.length - start) / 2;
}

/** Pushes `clear` bytes as (≤ 65535, 0) pairs; the caller may set the last pair's protected count. */
function pushClear(out: number[], clear: number): void {
  let left = clear;
  while (left > MAX_CLEAR) {
    out.push(MAX_CLEAR, 0);
    left -= MAX_CLEAR;
  }
  out.push(left, 0);
}

function corrupt(sampleNumber: number, detail: string): MediaError {
  return new MediaError(422, 'CorruptMedia', `Video sample ${sampleNumber} ${detail}`);
}
