import type { TrackIndex } from './media-index.js';
import { SegmentList } from './segment.js';

/**
 * Cuts every track of a presentation into segments with shared boundaries, so players can switch between
 * renditions (and keep audio in step) on any segment number. Returns one segment list per input track, all of the
 * same length and numbered 0…n−1.
 *
 * Rules:
 * - **Reference track**: the first video track; without one, the first audio track; without one, the first track.
 * - **Boundaries (video reference)**: segment 0 starts at the first sample. A new segment starts at the first
 *   sync sample whose *decode* time is ≥ the previous boundary + target. Decode times are used, not presentation
 *   times: they increase monotonically, are what `tfdt` carries, and for a keyframe differ from its presentation
 *   time only by the stream's constant B-frame delay, which the edit list removes for every segment alike.
 *   Segments are therefore never shorter than the target (except the last) and last up to target + one GOP.
 * - **Boundaries (audio or text reference)**: every sample is a sync sample, so cut on a fixed grid: at the
 *   first sample whose decode time is ≥ k × target, which keeps the average segment at the target without drift.
 * - **Other tracks**: boundary times are converted to each track's timescale with integer maths, rounding up
 *   (`ceil(t × to / from)`), which makes "dts ≥ boundary" exact in both timescales. Another video track cuts at
 *   its first sync sample at or after the boundary; audio and text tracks at their first sample at or after it.
 *   Edit lists are not applied: all tracks start at decode time 0, so audio is cut within one audio frame of the
 *   video boundary (plus the difference of the tracks' edits, typically the AAC priming of one frame).
 * - **No empty segments**: a boundary is kept only if it gives *every* audio/video track at least one sample on
 *   each side; otherwise it is dropped for all tracks (the two segments merge), so indices stay aligned.
 * - **Text tracks** (when there is an audio or video track) do not vote on boundaries: their samples are sparse
 *   and long (one TTML document may span the whole asset), so they follow the kept boundaries on the same time
 *   grid (`textSegments`): segment k of a text track covers exactly [boundary k, boundary k+1) converted to its
 *   timescale, the last one ends where the reference track ends, and it lists every sample overlapping that
 *   interval. A sample spanning a boundary is therefore listed by both segments (the muxers clip or repeat it),
 *   and a segment may list no sample at all (the muxers fill it with an empty cue sample).
 *
 * Every audio/video sample belongs to exactly one segment. Cost: O(tracks × boundaries × log samples): the tables
 * answer decode times and sync samples from their runs, so no per-sample array is built or walked.
 * Throws `RangeError` for a track without samples or a non-positive target.
 */
export function segmentTracks(tracks: TrackIndex[], targetDurationSec: number): SegmentList[] {
  if (tracks.length === 0) return [];
  if (!(targetDurationSec > 0) || !Number.isFinite(targetDurationSec)) {
    throw new RangeError(`targetDurationSec must be a positive number, got ${targetDurationSec}`);
  }
  for (let t = 0; t < tracks.length; t++) {
    if (tracks[t].samples.count === 0) throw new RangeError(`track ${tracks[t].trackId} has no samples to segment`);
  }
  let ref = tracks.findIndex((t) => t.kind === 'video');
  if (ref < 0) ref = tracks.findIndex((t) => t.kind === 'audio');
  if (ref < 0) ref = 0;
  // Text follows the audio/video grid; a presentation of text alone is cut like audio (every sample is a sync one).
  const follows = (t: number) => tracks[ref].kind !== 'text' && tracks[t].kind === 'text';

  const refTrack = tracks[ref];
  const refCuts = referenceCuts(refTrack, targetDurationSec);
  const boundaryCount = refCuts.length;
  const boundaryTicks = new Float64Array(boundaryCount);
  for (let k = 0; k < boundaryCount; k++) boundaryTicks[k] = refTrack.samples.dtsAt(refCuts[k]);

  // cuts[t][k]: first sample of track t at boundary k (may equal the sample count: nothing left).
  const cuts: Int32Array[] = [];
  for (let t = 0; t < tracks.length; t++) {
    cuts.push(t === ref ? refCuts : trackCuts(tracks[t], boundaryTicks, refTrack.timescale));
  }

  // Keep a boundary only where every track has samples before it (since the last kept one) and after it.
  const kept: number[] = [0];
  for (let k = 1, prev = 0; k < boundaryCount; k++) {
    let ok = true;
    for (let t = 0; t < tracks.length && ok; t++) {
      if (follows(t)) continue;
      const c = cuts[t][k];
      ok = c > cuts[t][prev] && c < tracks[t].samples.count;
    }
    if (ok) {
      kept.push(k);
      prev = k;
    }
  }

  const out: SegmentList[] = [];
  const n = kept.length;
  for (let t = 0; t < tracks.length; t++) {
    if (follows(t)) {
      const starts = kept.map((k) => boundaryTicks[k]);
      starts.push(refTrack.samples.dtsAt(refTrack.samples.count));
      out.push(textSegments(tracks[t], starts, refTrack.timescale));
      continue;
    }
    const s = tracks[t].samples;
    const c = cuts[t];
    const list = new SegmentList(new Uint32Array(n), new Uint32Array(n), new Float64Array(n), new Float64Array(n));
    for (let i = 0; i < n; i++) {
      const first = c[kept[i]];
      const end = i + 1 < n ? c[kept[i + 1]] : s.count;
      list.firstSample[i] = first;
      list.sampleCount[i] = end - first;
      list.startTicks[i] = s.dtsAt(first);
      list.durationTicks[i] = s.ticksIn(first, end);
    }
    out.push(list);
  }
  return out;
}

/** Sample indices where the reference track starts each segment (see the rules on `segmentTracks`). */
function referenceCuts(track: TrackIndex, targetDurationSec: number): Int32Array {
  const table = track.samples;
  const count = table.count;
  const targetTicks = Math.max(1, Math.round(targetDurationSec * track.timescale));
  const cuts: number[] = [0];
  if (track.kind === 'video') {
    // The first sync sample whose decode time is ≥ the last cut + target.
    let last = table.dtsAt(0);
    for (;;) {
      const i = table.nextSyncAtOrAfter(Math.max(cuts[cuts.length - 1] + 1, table.firstAtOrAfter(last + targetTicks)));
      if (i >= count) break;
      cuts.push(i);
      last = table.dtsAt(i);
    }
  } else {
    let nextGrid = (Math.floor(table.dtsAt(0) / targetTicks) + 1) * targetTicks;
    for (;;) {
      const i = Math.max(cuts[cuts.length - 1] + 1, table.firstAtOrAfter(nextGrid));
      if (i >= count) break;
      cuts.push(i);
      nextGrid = (Math.floor(table.dtsAt(i) / targetTicks) + 1) * targetTicks;
    }
  }
  return Int32Array.from(cuts);
}

/**
 * A text track's segments on the given boundaries (`n + 1` times in `fromTimescale`: the starts of the `n` segments
 * and the end of the last): segment k covers [start k, start k+1) in the text track's ticks and lists the samples
 * that overlap it (possibly none; a sample spanning a boundary is in both segments).
 */
export function textSegments(track: TrackIndex, boundaries: readonly number[], fromTimescale: number): SegmentList {
  const table = track.samples;
  const n = boundaries.length - 1;
  const list = new SegmentList(new Uint32Array(n), new Uint32Array(n), new Float64Array(n), new Float64Array(n));
  let next = rescaleCeil(boundaries[0], fromTimescale, track.timescale);
  for (let k = 0; k < n; k++) {
    const start = next;
    next = rescaleCeil(boundaries[k + 1], fromTimescale, track.timescale);
    // The sample running at `start` (the last one decoded at or before it), unless it ended by then.
    let first = Math.max(0, table.firstAtOrAfter(start + 1) - 1);
    if (first < table.count && table.dtsAt(first + 1) <= start) first++;
    const end = Math.max(first, table.firstAtOrAfter(next));
    list.firstSample[k] = first;
    list.sampleCount[k] = end - first;
    list.startTicks[k] = start;
    list.durationTicks[k] = next - start;
  }
  return list;
}

/** First sample at or after each boundary (first sync sample for video). */
function trackCuts(track: TrackIndex, boundaryTicks: Float64Array, fromTimescale: number): Int32Array {
  const table = track.samples;
  const needSync = track.kind === 'video';
  const cuts = new Int32Array(boundaryTicks.length);
  for (let k = 1; k < boundaryTicks.length; k++) {
    const at = table.firstAtOrAfter(rescaleCeil(boundaryTicks[k], fromTimescale, track.timescale));
    cuts[k] = needSync ? table.nextSyncAtOrAfter(at) : at;
  }
  return cuts;
}

/** `ceil(ticks × to / from)` exactly, for integer ticks; BigInt only when the product leaves the safe range. */
export function rescaleCeil(ticks: number, from: number, to: number): number {
  if (from === to) return ticks;
  const p = ticks * to;
  if (Math.abs(p) <= Number.MAX_SAFE_INTEGER) {
    const q = Math.floor(p / from);
    return q * from < p ? q + 1 : q;
  }
  const bp = BigInt(ticks) * BigInt(to);
  const bf = BigInt(from);
  let q = bp / bf;
  if (q * bf < bp) q += 1n;
  return Number(q);
}
