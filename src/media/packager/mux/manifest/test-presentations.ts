/**
 * Test fixtures shared by the manifest writers' tests (a test-only module: dependency-cruiser counts it with the
 * tests, and nothing outside tests imports it).
 */
import type { Presentation, PresentationPart, PresentationTrack } from '../../model/presentation.js';
import type { TrackIndex } from '../../model/media-index.js';
import { SegmentList } from '../../model/segment.js';

/** Tick 0 of the LowLatency recording below, ms since epoch. */
export const availabilityStartMs = Date.UTC(2026, 0, 1, 12, 0, 0);
/** Video ticks per second (90 kHz). */
export const second = 90000;
const partTicks = [43200, 43200, 3600];

/** The parts of segment `segmentIndex` of that recording: 0.48 + 0.48 + 0.04 s, the first `count` of them. */
export function partsOf(segmentIndex: number, count = 3): PresentationPart[] {
  const segmentStartTicks = segmentIndex * second;
  let at = segmentStartTicks;
  return partTicks.slice(0, count).map((durationTicks, partIndex) => {
    const part: PresentationPart = {
      segmentIndex,
      partIndex,
      segmentStartTicks,
      firstSample: segmentIndex * 25 + partIndex * 12,
      sampleCount: partIndex < 2 ? 12 : 1,
      startTicks: at,
      durationTicks,
      independent: partIndex === 0,
      ...(partIndex === 2 ? { endsSegment: true } : {}),
    };
    at += durationTicks;
    return part;
  });
}

/**
 * A LowLatency recording at 90 kHz: 1 s segments, the window listing segments 5–7, with `parts` listed as given.
 * `partTargetSec`: 0.5 by default; 0 = none (a Default live event).
 */
export function lowLatencyRecording(options: { parts?: PresentationPart[]; isEnded?: boolean; partTargetSec?: number } = {}): {
  p: Presentation;
  video: PresentationTrack;
} {
  const segments = SegmentList.from(
    [0, 1, 2, 3, 4, 5, 6, 7].map((i) => ({ firstSample: i * 25, sampleCount: 25, startTicks: i * second, durationTicks: second })),
  ).slice(5);
  const partTargetSec = options.partTargetSec ?? 0.5;
  const video: PresentationTrack = {
    name: 'video',
    kind: 'video',
    bitrateBps: 1_000_000,
    language: 'und',
    sourceFile: 'video.mp4',
    track: { timescale: second, kind: 'video', codecs: 'avc1.64001e', video: { width: 640, height: 360, frameRate: 25 } } as TrackIndex,
    segments,
    ...(options.parts ? { parts: options.parts } : {}),
  };
  const p: Presentation = {
    durationSec: 8,
    targetSegmentSec: 1,
    tracks: [video],
    live: {
      availabilityStartMs,
      windowSec: 3,
      publishedMs: availabilityStartMs + 8000,
      isEnded: options.isEnded ?? false,
      ...(partTargetSec > 0 ? { partTargetSec } : {}),
    },
  };
  return { p, video };
}
