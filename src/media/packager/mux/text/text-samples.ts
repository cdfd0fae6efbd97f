/**
 * The samples of a text track's segment on the segment's own time span. Text segments follow the audio/video
 * boundaries (`textSegments` in the segmenter), so a source sample may start before the segment, end after it, or
 * leave a gap in it; fMP4 samples, though, follow each other without gaps from `tfdt`. A segment is therefore
 * written as pieces that tile [start, start + duration) exactly: each overlapping source sample clipped to the
 * span (its bytes repeated verbatim in every segment it overlaps), and a filler piece for each gap.
 */
import type { SampleRun, TrackIndex } from '../../model/media-index.js';
import type { TrackSegment } from '../../model/segment.js';

/** One fMP4 sample of a text segment: a clipped source sample (`run` index) or a gap (`sample` −1). */
export interface TextPiece {
  /** Index into the segment's `run`, or −1 for a gap the muxer fills with an empty sample. */
  sample: number;
  startTicks: number;
  durationTicks: number;
}

/** The segment's source samples and the pieces that tile its span. */
export function textPieces(track: TrackIndex, segment: TrackSegment): { run: SampleRun; pieces: TextPiece[] } {
  const run = track.samples.run(segment.firstSample, segment.firstSample + segment.sampleCount);
  const start = segment.startTicks;
  const end = start + segment.durationTicks;
  const pieces: TextPiece[] = [];
  let cursor = start;
  for (let i = 0; i < run.count; i++) {
    const s = Math.max(run.dts[i], start);
    const e = Math.min(run.dts[i] + run.durations[i], end);
    if (e <= s || e <= cursor) continue;
    if (s > cursor) pieces.push({ sample: -1, startTicks: cursor, durationTicks: s - cursor });
    const from = Math.max(s, cursor);
    pieces.push({ sample: i, startTicks: from, durationTicks: e - from });
    cursor = e;
  }
  if (cursor < end) pieces.push({ sample: -1, startTicks: cursor, durationTicks: end - cursor });
  return { run, pieces };
}

/** An empty `wvtt` sample: a `vtte` box (ISO/IEC 14496-30 §7.4: no cue is active). */
const EMPTY_WVTT = Uint8Array.of(0, 0, 0, 8, 0x76, 0x74, 0x74, 0x65);
/** An empty TTML document (ISO/IEC 14496-30 §5: a sample whose document shows nothing). */
const EMPTY_TTML = new TextEncoder().encode('<?xml version="1.0" encoding="UTF-8"?>\n<tt xmlns="http://www.w3.org/ns/ttml" xml:lang=""><body/></tt>\n');

/** The bytes of a filler sample for a gap in a text track of sample entry `fourcc`. */
export function emptyTextSample(fourcc: string): Uint8Array {
  return fourcc === 'wvtt' ? EMPTY_WVTT : EMPTY_TTML;
}
