import type { TrackIndex, TrackKind } from './media-index.js';
import type { SegmentList } from './segment.js';

/**
 * One track offered to players: a track of a source file, named as the `.ism` names it, with its segments.
 * A presentation is what an `.ism` (or the set of MP4 files in a container) describes.
 */
export interface PresentationTrack {
  /**
   * Stable name used in segment URLs, unique within the presentation together with `bitrateBps`
   * (AMS style: `video`, `aac_eng_2_128`).
   */
  name: string;
  kind: TrackKind;
  /** Bitrate advertised in manifests and used in `QualityLevels(…)` URLs, bits per second. */
  bitrateBps: number;
  /** ISO 639-2 language, `und` when unknown. */
  language: string;
  /** Source file name inside the asset (relative to the asset's container or subPath). */
  sourceFile: string;
  track: TrackIndex;
  segments: SegmentList;
  /**
   * The largest segment's bitrate (HLS BANDWIDTH is the peak segment bitrate, RFC 8216 §4.3.4.2), set once the
   * track is segmented; manifests fall back to `track.maxBitrateBps` when absent.
   */
  peakBitrateBps?: number;
  /**
   * LowLatency live only (absent for VOD and Default live): the track's recent partial segments (LL-HLS
   * `EXT-X-PART`), ascending: those of the last few listed segments and of the open segment that follows them
   * (index `segments.firstIndex + segments.length`), which is not in `segments` yet. A part is a run of the
   * track's samples like a segment; the parts of a segment cover it exactly.
   */
  parts?: PresentationPart[];
}

/** A partial segment of a live track (LL-HLS): some of a segment's samples, written and served on their own. */
export interface PresentationPart {
  /** The segment (its `TrackSegment.index`) this part belongs to. */
  segmentIndex: number;
  /** The part's number within its segment, from 0 (the `part=` of its URL). */
  partIndex: number;
  /** Start time of its segment, ticks: the `{start}` of its URL (the segment's own URL once it closes). */
  segmentStartTicks: number;
  firstSample: number;
  sampleCount: number;
  /** Decode time of the part's first sample, ticks. */
  startTicks: number;
  durationTicks: number;
  /** Starts with a sync sample (HLS `INDEPENDENT=YES`). */
  independent: boolean;
  /**
   * The last part of its segment: the track has closed that segment (which may still be unlisted while other
   * tracks catch up), so the next part is part 0 of the next segment.
   */
  endsSegment?: boolean;
}

/** Peak bitrate over a track's segments: bytes of each segment's samples over its duration. */
export function peakSegmentBitrateBps(track: TrackIndex, segments: SegmentList): number {
  const table = track.samples;
  let peak = 0;
  for (let i = 0; i < segments.length; i++) {
    const duration = segments.durationTicks[i];
    if (duration <= 0) continue;
    const first = segments.firstSample[i];
    const bytes = table.bytesIn(first, first + segments.sampleCount[i]);
    const bps = (bytes * 8 * track.timescale) / duration;
    if (bps > peak) peak = bps;
  }
  return Math.ceil(peak);
}

/**
 * A side-loaded subtitle file (WebVTT next to the media, as AMS assets carry them). It is offered whole, as
 * one segment, with the HLS/DASH text plumbing around it.
 */
export interface SidecarTextTrack {
  /** Name used in URLs, unique among text tracks. */
  name: string;
  /** ISO 639-2 language, `und` when unknown. */
  language: string;
  /** Source file name inside the asset. */
  sourceFile: string;
}

/** The `QualityLevels(…)` value of text tracks in URLs (they have no meaningful bitrate). */
export const textTrackBitrateBps = 1000;

/**
 * A presentation that is still being recorded (live): manifests are dynamic (HLS without `EXT-X-ENDLIST`, DASH
 * `type="dynamic"`). Tick 0 of every track is `availabilityStartMs` on the wall clock; the tracks' segment lists
 * hold only the DVR window (sliced, so segment indices and start times stay those of the whole recording).
 */
export interface LiveTimeline {
  /** Wall-clock time of tick 0, ms since epoch (DASH `availabilityStartTime`, HLS `EXT-X-PROGRAM-DATE-TIME` base). */
  availabilityStartMs: number;
  /** DVR window, seconds (DASH `timeShiftBufferDepth`). */
  windowSec: number;
  /** When the timeline last gained a segment, ms since epoch (DASH `publishTime`). */
  publishedMs: number;
  /** True once ingest has ended for good: the manifests may close (ENDLIST, static) while still served live. */
  isEnded: boolean;
  /** LowLatency events: HLS part target (`EXT-X-PART-INF`) in seconds; absent for Default. */
  partTargetSec?: number;
  /**
   * Segment indices (of the whole recording, ascending, the open segment's included) that start after a
   * discontinuity (an encoder reconnect, a timestamp jump): HLS writes `EXT-X-DISCONTINUITY` before them and
   * counts those before its first listed segment in `EXT-X-DISCONTINUITY-SEQUENCE`. Absent or empty: none.
   */
  discontinuities?: readonly number[];
}

export interface Presentation {
  /** Set while the presentation is live (recording); absent for VOD. */
  live?: LiveTimeline;
  /** Duration of the presentation, seconds. */
  durationSec: number;
  /** Target segment duration used to cut, seconds. */
  targetSegmentSec: number;
  tracks: PresentationTrack[];
  /** Side-loaded WebVTT subtitles; absent or empty when the asset has none. */
  textTracks?: SidecarTextTrack[];
  /**
   * Bitrate of the video track players should start on (a filter's `firstQuality`, set by `applyFilters`): the
   * HLS multivariant playlist lists its variant first (unless `ManifestContext.firstQualityBitrateBps` says
   * otherwise); DASH and Smooth follow the track order, where `applyFilters` puts it first.
   */
  firstQualityBitrateBps?: number;
}

export const presentationKinds: readonly TrackKind[] = ['video', 'audio', 'text'];
