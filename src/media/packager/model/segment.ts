/**
 * A segment of one track: a run of consecutive samples [firstSample, firstSample + sampleCount) that starts on
 * a sync sample (video) and is addressed by its start time in the track's timescale.
 */
export interface TrackSegment {
  /** Zero-based segment number within the presentation (the same number across all tracks). */
  index: number;
  firstSample: number;
  sampleCount: number;
  /** Decode time of the first sample, in ticks (the fMP4 `tfdt` baseMediaDecodeTime). */
  startTicks: number;
  /** Sum of the sample durations, in ticks. */
  durationTicks: number;
}

/**
 * A track cut into segments whose boundaries are shared by every track of the presentation (converted to each
 * track's timescale), so players can switch renditions on any segment boundary.
 */
export interface SegmentedTrack {
  segments: TrackSegment[];
}
