/**
 * The fMP4 media segment of one track (ISO/IEC 14496-12 §8.8, ISO/IEC 23000-19 §7.3.2): optional `styp`, one
 * `moof` with one `traf`, and an `mdat` whose payload is the source samples, copied verbatim. Only the boxes are
 * built here; the payload is returned as source byte ranges (contiguous samples merged), so the response size
 * is known before any media byte is read.
 *
 * Layout of the single header buffer: [styp] moof(mfhd, traf(tfhd, tfdt, trun)) mdat-header.
 * - tfhd uses default-base-is-moof (§8.8.7.1, required by CMAF), so trun's data_offset is relative to the first
 *   byte of `moof` and equals moof size + mdat header size.
 * - tfdt is version 1 (64-bit) = segment.startTicks, the decode time of the first sample.
 * - Sample flags (§8.8.3.1): a sync sample is sample_depends_on=2, sample_is_non_sync_sample=0; any other is
 *   sample_depends_on=1, sample_is_non_sync_sample=1. When every sample after the first has the same flags
 *   (audio, or a video segment holding one GOP) they go in tfhd default_sample_flags and the first sample's in
 *   trun first_sample_flags, saving 4 bytes a sample; otherwise trun carries flags per sample.
 * - Composition offsets are written (trun version 1, signed) only when some sample has a non-zero one; the init
 *   segment's edit list then shifts presentation so that it starts at 0.
 */
import { InternalError } from '../../../../shared/errors.js';
import type { TrackIndex } from '../../model/media-index.js';
import type { TrackSegment } from '../../model/segment.js';
import type { SegmentPart, SegmentPlan, SourceRange } from '../segment-plan.js';
import { BOX_HEADER_SIZE, BoxWriter, FULL_BOX_HEADER_SIZE, fourcc } from './box-writer.js';
import { fragmentTrackId } from './init-segment.js';

export interface MediaSegmentOptions {
  /** Start with an `styp` box (brands `msdh`, `cmfs`), as DASH and CMAF segments do. Default false. */
  styp?: boolean;
}

const STYP = fourcc('styp');
const MSDH = fourcc('msdh');
const CMFS = fourcc('cmfs');
const MOOF = fourcc('moof');
const MFHD = fourcc('mfhd');
const TRAF = fourcc('traf');
const TFHD = fourcc('tfhd');
const TFDT = fourcc('tfdt');
const TRUN = fourcc('trun');
const MDAT = fourcc('mdat');

/** sample_depends_on = 2 (does not depend on others). */
export const SYNC_SAMPLE_FLAGS = 0x02000000;
/** sample_depends_on = 1, sample_is_non_sync_sample = 1. */
export const NON_SYNC_SAMPLE_FLAGS = 0x01010000;

const TFHD_DEFAULT_SAMPLE_FLAGS_PRESENT = 0x000020;
const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;
const TRUN_DATA_OFFSET_PRESENT = 0x000001;
const TRUN_FIRST_SAMPLE_FLAGS_PRESENT = 0x000004;
const TRUN_SAMPLE_DURATION_PRESENT = 0x000100;
const TRUN_SAMPLE_SIZE_PRESENT = 0x000200;
const TRUN_SAMPLE_FLAGS_PRESENT = 0x000400;
const TRUN_SAMPLE_COMPOSITION_TIME_OFFSETS_PRESENT = 0x000800;

export const STYP_SIZE = BOX_HEADER_SIZE + 8 + 8;
export const MFHD_SIZE = FULL_BOX_HEADER_SIZE + 4;
export const TFDT_SIZE = FULL_BOX_HEADER_SIZE + 8;
const MAX_BOX_SIZE_32 = 0xffffffff;

/**
 * What every fragment starts with, media and text alike: `styp` (brands `msdh`, `cmfs`) when `stypSize` > 0, the
 * `moof` header, `mfhd` with `sequenceNumber`, and the `traf` header; the caller writes `tfhd` on.
 */
export function writeFragmentHead(w: BoxWriter, stypSize: number, moofSize: number, sequenceNumber: number, trafSize: number): void {
  if (stypSize > 0) {
    w.box(STYP_SIZE, STYP);
    w.u32(MSDH);
    w.u32(0);
    w.u32(MSDH);
    w.u32(CMFS);
  }
  w.box(moofSize, MOOF);
  w.fullBox(MFHD_SIZE, MFHD, 0, 0);
  w.u32(sequenceNumber);
  w.box(trafSize, TRAF);
}

/**
 * Plans the media segment holding `segment`'s samples of `track`. `sequenceNumber` goes into `mfhd` (1-based by
 * convention; use segment.index + 1). The plan's parts are one buffer of boxes followed by source ranges.
 */
export function planMediaSegment(track: TrackIndex, segment: TrackSegment, sequenceNumber: number, options: MediaSegmentOptions = {}): SegmentPlan {
  const first = segment.firstSample;
  const count = segment.sampleCount;
  const end = first + count;
  if (!Number.isInteger(first) || !Number.isInteger(count) || first < 0 || count < 1 || end > track.samples.count) {
    throw new InternalError(
      'InternalError',
      `segment ${segment.index} has samples [${first}, ${end}) outside track ${track.trackId}'s ${track.samples.count} samples`,
    );
  }
  // Only this segment's samples are expanded (indices below are 0…count−1 within the run).
  const { offsets, sizes, durations, ctsOffsets, isSync } = track.samples.run(first, end);

  // Pass 1: what the trun must carry, the payload size and the number of contiguous source runs.
  let hasCtsOffsets = false;
  let restSync = count > 1 ? isSync[1] : isSync[0];
  let isRestUniform = true;
  let payloadSize = 0;
  let runCount = 0;
  let runEnd = -1;
  for (let i = 0; i < count; i++) {
    if (ctsOffsets[i] !== 0) hasCtsOffsets = true;
    if (i > 0 && isSync[i] !== restSync) isRestUniform = false;
    const size = sizes[i];
    if (size === 0) continue;
    payloadSize += size;
    if (offsets[i] !== runEnd) runCount++;
    runEnd = offsets[i] + size;
  }
  restSync = restSync === 1 ? 1 : 0;
  const firstFlags = isSync[0] === 1 ? SYNC_SAMPLE_FLAGS : NON_SYNC_SAMPLE_FLAGS;
  const defaultFlags = restSync === 1 ? SYNC_SAMPLE_FLAGS : NON_SYNC_SAMPLE_FLAGS;
  const hasFirstSampleFlags = isRestUniform && firstFlags !== defaultFlags;

  let tfhdFlags = TFHD_DEFAULT_BASE_IS_MOOF;
  let trunFlags = TRUN_DATA_OFFSET_PRESENT | TRUN_SAMPLE_DURATION_PRESENT | TRUN_SAMPLE_SIZE_PRESENT;
  let entrySize = 8;
  if (isRestUniform) tfhdFlags |= TFHD_DEFAULT_SAMPLE_FLAGS_PRESENT;
  if (hasFirstSampleFlags) trunFlags |= TRUN_FIRST_SAMPLE_FLAGS_PRESENT;
  if (!isRestUniform) {
    trunFlags |= TRUN_SAMPLE_FLAGS_PRESENT;
    entrySize += 4;
  }
  if (hasCtsOffsets) {
    trunFlags |= TRUN_SAMPLE_COMPOSITION_TIME_OFFSETS_PRESENT;
    entrySize += 4;
  }

  const stypSize = options.styp === true ? STYP_SIZE : 0;
  const tfhdSize = FULL_BOX_HEADER_SIZE + 4 + (isRestUniform ? 4 : 0);
  const trunSize = FULL_BOX_HEADER_SIZE + 8 + (hasFirstSampleFlags ? 4 : 0) + count * entrySize;
  const trafSize = BOX_HEADER_SIZE + tfhdSize + TFDT_SIZE + trunSize;
  const moofSize = BOX_HEADER_SIZE + MFHD_SIZE + trafSize;
  const isLargeMdat = BOX_HEADER_SIZE + payloadSize > MAX_BOX_SIZE_32;
  const mdatHeaderSize = isLargeMdat ? BOX_HEADER_SIZE + 8 : BOX_HEADER_SIZE;
  const headerSize = stypSize + moofSize + mdatHeaderSize;

  // Pass 2: boxes.
  const w = BoxWriter.allocate(headerSize);
  writeFragmentHead(w, stypSize, moofSize, sequenceNumber, trafSize);
  w.fullBox(tfhdSize, TFHD, 0, tfhdFlags);
  w.u32(fragmentTrackId(track));
  if (isRestUniform) w.u32(defaultFlags);
  w.fullBox(TFDT_SIZE, TFDT, 1, 0);
  w.u64(segment.startTicks);
  w.fullBox(trunSize, TRUN, hasCtsOffsets ? 1 : 0, trunFlags);
  w.u32(count);
  w.i32(moofSize + mdatHeaderSize); // data_offset from the start of moof to the first payload byte
  if (hasFirstSampleFlags) w.u32(firstFlags);
  for (let i = 0; i < count; i++) {
    w.u32(durations[i]);
    w.u32(sizes[i]);
    if (!isRestUniform) w.u32(isSync[i] === 1 ? SYNC_SAMPLE_FLAGS : NON_SYNC_SAMPLE_FLAGS);
    if (hasCtsOffsets) w.i32(ctsOffsets[i]);
  }
  if (isLargeMdat) {
    w.box(1, MDAT);
    w.u64(mdatHeaderSize + payloadSize);
  } else {
    w.box(mdatHeaderSize + payloadSize, MDAT);
  }

  // Payload: one source range per run of samples that are contiguous in the file.
  const parts: SegmentPart[] = new Array<SegmentPart>(runCount + 1);
  parts[0] = w.finish();
  let partIndex = 0;
  let current: SourceRange | undefined;
  runEnd = -1;
  for (let i = 0; i < count; i++) {
    const size = sizes[i];
    if (size === 0) continue;
    const offset = offsets[i];
    if (current !== undefined && offset === runEnd) {
      current.length += size;
    } else {
      current = { offset, length: size };
      parts[++partIndex] = current;
    }
    runEnd = offset + size;
  }
  return { size: headerSize + payloadSize, parts };
}
