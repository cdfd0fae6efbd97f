/**
 * The packager's model: what a source MP4 holds, as a frame index (offsets and sizes, never bytes).
 * Filled by `parse/mp4` from the `moov` box; read by the segmenter, muxers and manifest writers.
 * Times are integer ticks of the track's own `timescale`; convert to seconds only at the edges.
 */
import type { SampleTable } from './sample-table.js';

export type { SampleRun, SampleTable } from './sample-table.js';

export type TrackKind = 'video' | 'audio' | 'text';

export interface VideoInfo {
  width: number;
  height: number;
  /** Frames per second derived from the sample durations (e.g. 25, 29.97). */
  frameRate: number;
}

export interface AudioInfo {
  channels: number;
  sampleRate: number;
  /** Audio Object Type for AAC (2 = LC, 5 = HE-AAC…), absent for other codecs. */
  aacObjectType?: number;
}

/** One track of one source file. */
export interface TrackIndex {
  /** `track_ID` from `tkhd`. */
  trackId: number;
  kind: TrackKind;
  /** Sample entry four-cc as in `stsd`: `avc1`, `avc3`, `hvc1`, `hev1`, `mp4a`, `ac-3`, `ec-3`, `wvtt`, `stpp`… */
  fourcc: string;
  /** RFC 6381 codecs string for manifests, e.g. `avc1.64001f`, `hvc1.1.6.L93.B0`, `mp4a.40.2`, `ac-3`. */
  codecs: string;
  /** Ticks per second of this track (`mdhd`). */
  timescale: number;
  /** Total duration in ticks (sum of sample durations). */
  durationTicks: number;
  /** ISO 639-2/T language from `mdhd` (`und` when absent). */
  language: string;
  /** Average bitrate in bits per second, computed from sample sizes and duration. */
  bitrateBps: number;
  /** Peak bitrate known from the file alone (today the average); presentations measure the per-segment peak. */
  maxBitrateBps: number;
  /**
   * The complete `stsd` sample entry box (e.g. the whole `avc1` box with its `avcC` child), as found in the
   * file. Init segments copy it verbatim, so codec configuration is never re-encoded.
   */
  sampleEntry: Uint8Array;
  /**
   * Media time of the first presented sample, from the edit list (`elst` media_time), in ticks; 0 without one.
   * Presentation time of sample i = dts[i] + ctsOffsets[i] − editMediaTimeTicks. Covers B-frame delay and
   * audio priming.
   */
  editMediaTimeTicks: number;
  video?: VideoInfo;
  audio?: AudioInfo;
  /** The samples, answered from compact tables; `run(first, end)` expands a segment's worth. */
  samples: SampleTable;
}

/** Everything the packager needs to know about one source file, without its media bytes. */
export interface MediaIndex {
  /** Movie timescale (`mvhd`). */
  movieTimescale: number;
  /** Duration of the longest track, seconds. */
  durationSec: number;
  /** True when the file is fragmented (moof/mdat); its sample tables then come from the fragments. */
  isFragmented: boolean;
  tracks: TrackIndex[];
  /** File size in bytes. */
  fileSize: number;
}
