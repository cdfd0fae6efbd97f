/**
 * A `cenc`/`cbcs` media segment (ISO/IEC 23001-7 §7): the format's clear segment with its samples encrypted in
 * place and three boxes appended to its `traf`:
 * - `saiz`: the size of each sample's auxiliary information (IV and subsample map);
 * - `saio`: one offset, from the first byte of `moof` (the muxer writes `tfhd` default-base-is-moof), to the
 *   first sample's entry inside `senc`;
 * - `senc`: per sample, the 8-byte IV (`cenc`; `cbcs` uses tenc's constant IV) and for video the subsample
 *   pairs.
 * `moof` and `traf` grow by the boxes' size and `trun`'s data_offset moves with the payload.
 *
 * Whole-sample tracks (audio) have auxiliary information of a known size, so the segment's size is known
 * from the plan. A video track's subsample map depends on the NAL units inside its samples: its size is known
 * once they have been read, before anything is sent.
 */
import { InternalError } from '../../../shared/errors.js';
import type { TrackIndex } from '../model/media-index.js';
import type { TrackSegment } from '../model/segment.js';
import { isSourceRange, type SegmentPlan, type SourceRange } from '../mux/segment-plan.js';
import { BoxWriter, FULL_BOX_HEADER_SIZE, fourcc } from '../mux/fmp4/box-writer.js';
import { CENC_IV_SIZE } from './protected-init.js';
import { encryptCbcs, encryptCenc } from './sample-cipher.js';
import { nalLayoutOf, subsamplesOf } from './subsamples.js';
import { cbcsConstantIv, cencIvBase, writeCencIv, type TrackEncryption } from './track-encryption.js';

/** A segment planned before its samples are read and finished (encrypted, boxed) after. */
export interface EncryptedSegmentPlan {
  /**
   * The body's size when known before any read: always, except for `cenc`/`cbcs` video, whose `senc`
   * depends on the NAL units in the samples (then it is the total of `seal`'s chunks).
   */
  size: number | undefined;
  /** The source ranges to read, in body order. */
  ranges: SourceRange[];
  /**
   * The body's chunks, given the bytes of each range (same order). The range buffers are encrypted in place
   * and returned as chunks: pass buffers this request owns.
   */
  seal(bytes: Uint8Array[]): Uint8Array[];
}

const MOOF = fourcc('moof');
const MDAT = fourcc('mdat');
const TRAF = fourcc('traf');
const TRUN = fourcc('trun');
const SAIZ = fourcc('saiz');
const SAIO = fourcc('saio');
const SENC = fourcc('senc');
const SENC_USE_SUBSAMPLES = 0x2;
const SAIO_SIZE = FULL_BOX_HEADER_SIZE + 8;
const SENC_HEADER_SIZE = FULL_BOX_HEADER_SIZE + 4;

/** Splits a clear plan into its box header and its source ranges (the fMP4 muxer's shape). */
export function splitPlan(plan: SegmentPlan): { header: Uint8Array; ranges: SourceRange[] } {
  const [header, ...rest] = plan.parts;
  if (!(header instanceof Uint8Array)) throw new InternalError('InternalError', 'an fMP4 segment plan starts with its boxes');
  const ranges: SourceRange[] = [];
  for (const part of rest) {
    if (!isSourceRange(part)) throw new InternalError('InternalError', 'an fMP4 segment plan has boxes only before its samples');
    ranges.push(part);
  }
  return { header, ranges };
}

export function planProtectedSegment(
  clear: SegmentPlan,
  track: TrackIndex,
  segment: TrackSegment,
  enc: TrackEncryption & { scheme: 'cenc' | 'cbcs' },
): EncryptedSegmentPlan {
  const { header, ranges } = splitPlan(clear);
  const layout = track.kind === 'video' ? nalLayoutOf(track) : undefined;
  const { sizes } = track.samples.run(segment.firstSample, segment.firstSample + segment.sampleCount);
  const count = segment.sampleCount;
  const ivSize = enc.scheme === 'cenc' ? CENC_IV_SIZE : 0;
  const ivBase = enc.scheme === 'cenc' ? cencIvBase(enc, track) : undefined;
  const constantIv = enc.scheme === 'cbcs' ? cbcsConstantIv(enc.keyId) : undefined;
  const payloadSize = clear.size - header.byteLength;
  const wholeSampleSize = layout === undefined ? header.byteLength + auxBoxesSize(count, ivSize, undefined) + payloadSize : undefined;

  return {
    size: wholeSampleSize,
    ranges,
    seal(bytes) {
      const ivs = new Uint8Array(count * ivSize);
      const pairs: number[] = [];
      const pairCounts = layout !== undefined ? new Uint8Array(count) : undefined;
      let view = 0;
      let at = 0;
      for (let i = 0; i < count; i++) {
        const size = sizes[i];
        let sample: Uint8Array;
        if (size === 0) sample = new Uint8Array(0);
        else {
          if (at === bytes[view]?.byteLength) {
            view++;
            at = 0;
          }
          const source = bytes[view];
          if (source === undefined || at + size > source.byteLength) throw new InternalError('InternalError', 'segment ranges do not hold its samples');
          sample = source.subarray(at, at + size);
          at += size;
        }
        const firstPair = pairs.length;
        const n = layout !== undefined ? subsamplesOf(layout, sample, pairs, segment.firstSample + i) : 0;
        if (pairCounts !== undefined) pairCounts[i] = n;
        if (ivBase !== undefined) {
          writeCencIv(ivBase, segment.firstSample + i, ivs, i * CENC_IV_SIZE);
          encryptCenc(enc.key, ivs.subarray(i * CENC_IV_SIZE, (i + 1) * CENC_IV_SIZE), sample, layout && pairs, firstPair, n);
        } else {
          encryptCbcs(enc.key, constantIv!, sample, layout && pairs, firstPair, n);
        }
      }
      const boxed = withAuxBoxes(header, count, ivSize, ivs, pairCounts, pairs);
      return [boxed, ...bytes];
    },
  };
}

/** `saiz` + `saio` + `senc` bytes; `pairCounts` undefined for whole-sample tracks. */
function auxBoxesSize(count: number, ivSize: number, pairCounts: Uint8Array | undefined): number {
  const info = auxInfo(count, ivSize, pairCounts);
  return saizSize(count, info.defaultSize) + SAIO_SIZE + SENC_HEADER_SIZE + info.total;
}

function auxInfo(count: number, ivSize: number, pairCounts: Uint8Array | undefined): { defaultSize: number; total: number } {
  if (pairCounts === undefined) return { defaultSize: ivSize, total: count * ivSize };
  let total = 0;
  let uniform = true;
  const first = ivSize + 2 + 6 * pairCounts[0];
  for (let i = 0; i < count; i++) {
    const size = ivSize + 2 + 6 * pairCounts[i];
    total += size;
    if (size !== first) uniform = false;
  }
  return { defaultSize: uniform ? first : 0, total };
}

/** With default_sample_info_size 0 a table of sizes follows (so a track whose entries are all empty has one too). */
function saizSize(count: number, defaultSize: number): number {
  return FULL_BOX_HEADER_SIZE + 5 + (defaultSize === 0 ? count : 0);
}

/** The segment's boxes with `saiz`, `saio` and `senc` at the end of its `traf`. */
function withAuxBoxes(header: Uint8Array, count: number, ivSize: number, ivs: Uint8Array, pairCounts: Uint8Array | undefined, pairs: number[]): Uint8Array {
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  let at = 0;
  let moof = -1;
  while (at + 8 <= header.byteLength) {
    const type = view.getUint32(at + 4);
    if (type === MDAT) break;
    if (type === MOOF) moof = at;
    at += view.getUint32(at);
  }
  const moofSize = moof >= 0 ? view.getUint32(moof) : 0;
  const moofEnd = moof + moofSize;
  if (moof < 0 || moofEnd !== at) throw new InternalError('InternalError', 'segment header is not [styp] moof mdat');
  const traf = childOf(view, moof + 8, moofEnd, TRAF);
  if (traf + view.getUint32(traf) !== moofEnd) throw new InternalError('InternalError', 'traf is not the last box of moof');
  const trun = childOf(view, traf + 8, moofEnd, TRUN);
  if ((view.getUint32(trun + 8) & 0x1) === 0) throw new InternalError('InternalError', 'trun has no data_offset');

  const info = auxInfo(count, ivSize, pairCounts);
  const saiz = saizSize(count, info.defaultSize);
  const senc = SENC_HEADER_SIZE + info.total;
  const extra = saiz + SAIO_SIZE + senc;
  const w = BoxWriter.allocate(header.byteLength + extra);
  w.copy(header.subarray(0, moofEnd));
  w.fullBox(saiz, SAIZ, 0, 0);
  w.u8(info.defaultSize);
  w.u32(count);
  if (info.defaultSize === 0) {
    for (let i = 0; i < count; i++) w.u8(ivSize + (pairCounts ? 2 + 6 * pairCounts[i] : 0));
  }
  w.fullBox(SAIO_SIZE, SAIO, 0, 0);
  w.u32(1);
  w.u32(moofSize + saiz + SAIO_SIZE + SENC_HEADER_SIZE); // from the start of moof to senc's first entry
  w.fullBox(senc, SENC, 0, pairCounts ? SENC_USE_SUBSAMPLES : 0);
  w.u32(count);
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (ivSize > 0) w.copy(ivs.subarray(i * ivSize, (i + 1) * ivSize));
    if (pairCounts) {
      w.u16(pairCounts[i]);
      for (let k = 0; k < pairCounts[i]; k++, p += 2) {
        w.u16(pairs[p]);
        w.u32(pairs[p + 1]);
      }
    }
  }
  w.copy(header.subarray(moofEnd));
  const out = w.finish();
  const outView = new DataView(out.buffer, out.byteOffset, out.byteLength);
  outView.setUint32(moof, moofSize + extra);
  outView.setUint32(traf, view.getUint32(traf) + extra);
  outView.setInt32(trun + 16, view.getInt32(trun + 16) + extra);
  return out;
}

function childOf(view: DataView, start: number, end: number, type: number): number {
  let at = start;
  while (at + 8 <= end) {
    const size = view.getUint32(at);
    if (size < 8) break;
    if (view.getUint32(at + 4) === type) return at;
    at += size;
  }
  throw new InternalError(
    'InternalError',
    `segment header has no ${String.fromCharCode(type >>> 24, (type >>> 16) & 255, (type >>> 8) & 255, type & 255)} box`,
  );
}
