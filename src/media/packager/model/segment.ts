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
 * A track's segments as four parallel typed arrays, not an object per segment: a cached 2-hour presentation is
 * a handful of arrays instead of some 20k heap objects (each boxed time included) for the garbage collector to
 * walk on every major collection. `at(i)` gives one segment as an object when a muxer needs it.
 */
export class SegmentList {
  readonly length: number;

  /**
   * @param firstIndex the `TrackSegment.index` of the list's first segment: 0 for a whole track, the original
   *   index of the first kept segment for a slice (`slice`), so that fragment numbers, TS continuity counters and
   *   AES-128 IVs (all derived from the index) stay those of the unsliced track.
   */
  constructor(
    readonly firstSample: Uint32Array,
    readonly sampleCount: Uint32Array,
    readonly startTicks: Float64Array,
    readonly durationTicks: Float64Array,
    readonly firstIndex = 0,
  ) {
    this.length = firstSample.length;
  }

  /**
   * Segments [from, to) as a list over the same memory (typed-array `subarray` views, nothing copied), keeping
   * their start times and their indices (`firstIndex`): a filtered manifest then names the very segments, URLs and
   * bytes of the unfiltered one. Bounds are clamped like `Array.prototype.slice` with non-negative arguments.
   */
  slice(from: number, to: number = this.length): SegmentList {
    const start = Math.max(0, Math.min(this.length, Math.trunc(from)));
    const end = Math.max(start, Math.min(this.length, Math.trunc(to)));
    if (start === 0 && end === this.length) return this;
    return new SegmentList(
      this.firstSample.subarray(start, end),
      this.sampleCount.subarray(start, end),
      this.startTicks.subarray(start, end),
      this.durationTicks.subarray(start, end),
      this.firstIndex + start,
    );
  }

  static from(segments: readonly Omit<TrackSegment, 'index'>[]): SegmentList {
    const n = segments.length;
    const list = new SegmentList(new Uint32Array(n), new Uint32Array(n), new Float64Array(n), new Float64Array(n));
    segments.forEach((s, i) => {
      list.firstSample[i] = s.firstSample;
      list.sampleCount[i] = s.sampleCount;
      list.startTicks[i] = s.startTicks;
      list.durationTicks[i] = s.durationTicks;
    });
    return list;
  }

  at(i: number): TrackSegment {
    return {
      index: this.firstIndex + i,
      firstSample: this.firstSample[i],
      sampleCount: this.sampleCount[i],
      startTicks: this.startTicks[i],
      durationTicks: this.durationTicks[i],
    };
  }

  /** Every segment as an object (tests and tools). */
  toArray(): TrackSegment[] {
    return Array.from({ length: this.length }, (_, i) => this.at(i));
  }

  /** The segment starting exactly at `ticks`, or undefined: segments are addressed by their start time. */
  startingAt(ticks: number): TrackSegment | undefined {
    const starts = this.startTicks;
    let lo = 0;
    let hi = this.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const t = starts[mid];
      if (t === ticks) return this.at(mid);
      if (t < ticks) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  get byteLength(): number {
    return this.length * 24;
  }
}
