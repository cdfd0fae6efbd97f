import type { TrackIndex, TrackKind } from './media-index.js';
import type { TrackSegment } from './segment.js';

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
  segments: TrackSegment[];
}

export interface Presentation {
  /** Duration of the presentation, seconds. */
  durationSec: number;
  /** Target segment duration used to cut, seconds. */
  targetSegmentSec: number;
  tracks: PresentationTrack[];
}

export const presentationKinds: readonly TrackKind[] = ['video', 'audio', 'text'];
