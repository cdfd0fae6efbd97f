/**
 * DASH timing of presentations whose media does not start at decode time 0 (MKIO-API.md §17.3 issue 15): a
 * presentation trimmed at its start (`vbegin=`, a filter's `startTimestamp`) keeps its segments' decode times, so
 * its first `S@t` is not 0. Without `SegmentTemplate@presentationTimeOffset` a player would place that first
 * segment at Period time `S@t` and wait (or stall) on an empty gap before it (ISO/IEC 23009-1 §5.3.9.2: Period time
 * = presentation time − `@presentationTimeOffset` / `@timescale`).
 *
 * The offset is common to the presentation, not per track: the earliest first-segment start of any audio or video
 * track, in seconds, written in each track's timescale (rounded down). Tracks cut a frame later than the earliest
 * keep that frame's distance, so audio and video stay in sync; nothing lands before Period time 0.
 *
 * Sources whose media starts late (fragmented files and ISMV live archives with a non-zero `tfdt`) are rebased to
 * decode time 0 by the MP4 reader, with the delay in the init segment's edit list, so they need no offset here.
 * The MPD stays `type="static"`: `availabilityStartTime` only anchors segment availability in dynamic MPDs
 * (ISO/IEC 23009-1 §5.3.1.2) and is not written for on-demand presentations.
 */
import type { Presentation, PresentationTrack } from '../../model/presentation.js';

/** The earliest start of any audio or video track's first segment, seconds (0 for an untrimmed presentation). */
export function presentationStartSec(p: Presentation): number {
  let start = Number.POSITIVE_INFINITY;
  for (const t of p.tracks) {
    if (t.kind === 'text' || t.segments.length === 0) continue;
    start = Math.min(start, t.segments.startTicks[0] / t.track.timescale);
  }
  return Number.isFinite(start) ? start : 0;
}

/** ` presentationTimeOffset="…"` for one track's SegmentTemplate, or `''` when the presentation starts at 0. */
export function presentationTimeOffsetAttribute(t: PresentationTrack, startSec: number): string {
  if (!(startSec > 0)) return '';
  // Rounded down (with a guard against 0.1 × 3 style float error), so no sample is placed before Period time 0.
  const ticks = Math.floor(startSec * t.track.timescale + 1e-6);
  return ticks > 0 ? ` presentationTimeOffset="${ticks}"` : '';
}
