/**
 * The fMP4 media segment of a text track (`stpp` TTML/IMSC1 or `wvtt` WebVTT, ISO/IEC 14496-30; CMAF §9 text
 * tracks): the same boxes as `planMediaSegment` ([styp] moof(mfhd, traf(tfhd, tfdt, trun)) mdat), but its samples
 * are the segment's `textPieces`: source samples clipped to the segment's span (their bytes repeated verbatim in
 * every segment they overlap; a TTML document's times are on the track timeline, so repeating it is exact, and a
 * WebVTT cue continued in the next sample is the same cue) and an empty sample for each gap (`vtte`, or an empty
 * TTML document). `tfdt` is the segment's start, so the text timeline matches the audio/video one segment by
 * segment. Every text sample is a sync sample; there are no composition offsets.
 */
import type { TrackIndex } from '../../model/media-index.js';
import type { TrackSegment } from '../../model/segment.js';
import type { SegmentPart, SegmentPlan, SourceRange } from '../segment-plan.js';
import { emptyTextSample, textPieces } from '../text/text-samples.js';
import { BOX_HEADER_SIZE, BoxWriter, FULL_BOX_HEADER_SIZE, fourcc } from './box-writer.js';
import { fragmentTrackId } from './init-segment.js';
import { SYNC_SAMPLE_FLAGS, type MediaSegmentOptions } from './media-segment.js';

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

const TFHD_DEFAULT_SAMPLE_FLAGS_PRESENT = 0x000020;
const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;
const TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200; // data offset, sample duration, sample size

const STYP_SIZE = BOX_HEADER_SIZE + 16;
const MFHD_SIZE = FULL_BOX_HEADER_SIZE + 4;
const TFHD_SIZE = FULL_BOX_HEADER_SIZE + 8;
const TFDT_SIZE = FULL_BOX_HEADER_SIZE + 8;

/** Plans the fMP4 segment of a text track: built boxes and filler samples, and the source samples as ranges. */
export function planTextSegment(track: TrackIndex, segment: TrackSegment, sequenceNumber: number, options: MediaSegmentOptions = {}): SegmentPlan {
  const { run, pieces } = textPieces(track, segment);
  const filler = emptyTextSample(track.fourcc);
  let payloadSize = 0;
  for (const p of pieces) payloadSize += p.sample < 0 ? filler.byteLength : run.sizes[p.sample];

  const stypSize = options.styp === true ? STYP_SIZE : 0;
  const trunSize = FULL_BOX_HEADER_SIZE + 8 + pieces.length * 8;
  const trafSize = BOX_HEADER_SIZE + TFHD_SIZE + TFDT_SIZE + trunSize;
  const moofSize = BOX_HEADER_SIZE + MFHD_SIZE + trafSize;
  const headerSize = stypSize + moofSize + BOX_HEADER_SIZE;

  const w = BoxWriter.allocate(headerSize);
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
  w.fullBox(TFHD_SIZE, TFHD, 0, TFHD_DEFAULT_BASE_IS_MOOF | TFHD_DEFAULT_SAMPLE_FLAGS_PRESENT);
  w.u32(fragmentTrackId(track));
  w.u32(SYNC_SAMPLE_FLAGS);
  w.fullBox(TFDT_SIZE, TFDT, 1, 0);
  w.u64(segment.startTicks);
  w.fullBox(trunSize, TRUN, 0, TRUN_FLAGS);
  w.u32(pieces.length);
  w.i32(moofSize + BOX_HEADER_SIZE);
  for (const p of pieces) {
    w.u32(p.durationTicks);
    w.u32(p.sample < 0 ? filler.byteLength : run.sizes[p.sample]);
  }
  // Text segments are small (a few kB of cues): a 32-bit mdat always fits.
  w.box(BOX_HEADER_SIZE + payloadSize, MDAT);

  const parts: SegmentPart[] = [w.finish()];
  let current: SourceRange | undefined;
  for (const p of pieces) {
    if (p.sample < 0) {
      parts.push(filler);
      current = undefined;
      continue;
    }
    const offset = run.offsets[p.sample];
    const size = run.sizes[p.sample];
    if (current !== undefined && current.offset + current.length === offset) current.length += size;
    else parts.push((current = { offset, length: size }));
  }
  return { size: headerSize + payloadSize, parts };
}
