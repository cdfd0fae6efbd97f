/**
 * A track's samples (decode order), asked for by the piece: the segmenter needs decode times and sync samples
 * at a few thousand boundaries, a segment needs the full fields of its own few hundred samples. Nothing here
 * requires expanding a 2-hour track's half-million samples into per-sample arrays up front; the MP4 parser's
 * table (`parse/mp4/stbl-sample-table.ts`) answers straight from the compact `stbl` runs, and
 * `ArraySampleTable` serves samples that exist only as arrays (fragmented files, tests).
 */

/** Every field of the consecutive samples [first, first + count), indexed from 0. */
export interface SampleRun {
  first: number;
  count: number;
  /** Absolute byte offset of each sample in the source file (Float64 holds files beyond 4 GiB exactly). */
  offsets: Float64Array;
  /** Size of each sample in bytes. */
  sizes: Uint32Array;
  /** Decode time of each sample, in ticks (0 at the track's first sample). */
  dts: Float64Array;
  /** Duration of each sample, in ticks. */
  durations: Uint32Array;
  /** Composition offset (pts − dts) of each sample, in ticks; may be negative. */
  ctsOffsets: Int32Array;
  /** 1 where the sample is a sync sample (keyframe; every sample of an audio track). */
  isSync: Uint8Array;
}

export interface SampleTable {
  /** Number of samples. */
  readonly count: number;
  /** Sum of the sample durations, in ticks (the decode time just after the last sample). */
  readonly durationTicks: number;
  /** Sum of the sample sizes, in bytes. */
  readonly totalBytes: number;
  /** The most negative composition offset (0 when none is negative): how far DTS must shift below PTS. */
  readonly minCtsOffset: number;
  /** Bytes of memory the table holds, for cache budgets. */
  readonly memoryBytes: number;
  /** Decode time of sample `i` in ticks; `dtsAt(count)` is where the last sample ends. */
  dtsAt(i: number): number;
  /** Sum of the durations of samples [first, end), in ticks. */
  ticksIn(first: number, end: number): number;
  /** The first sample whose decode time is ≥ `ticks` (decode times never decrease), or `count`. */
  firstAtOrAfter(ticks: number): number;
  /** The first sample at or after `i` that is a sync sample, or `count` when there is none. */
  nextSyncAtOrAfter(i: number): number;
  /** Sum of the sizes of samples [first, end). */
  bytesIn(first: number, end: number): number;
  /** The most common kind of sample duration: the median, in ticks (0 without samples). */
  medianDuration(): number;
  /** Every field of samples [first, end), in fresh or shared arrays the caller must not modify. */
  run(first: number, end: number): SampleRun;
}

/** First index below `length` whose value is ≥ `x` in an ascending array (`length` when none is). */
export function lowerBound(a: ArrayLike<number>, x: number, length = a.length): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose value is > `x` in an ascending array (`a.length` when none is). */
export function upperBound(a: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Every sample of a table as one run (tests and tools; the packager asks for segments). */
export function allSamples(table: SampleTable): SampleRun {
  return table.run(0, table.count);
}

export function checkRun(table: SampleTable, first: number, end: number): void {
  if (!Number.isInteger(first) || !Number.isInteger(end) || first < 0 || end < first || end > table.count) {
    throw new RangeError(`samples [${first}, ${end}) are outside the table's ${table.count} samples`);
  }
}

/** Per-sample arrays as a `SampleTable`; runs are views into them, never copies. */
export class ArraySampleTable implements SampleTable {
  readonly count: number;
  readonly durationTicks: number;
  readonly totalBytes: number;
  readonly minCtsOffset: number;
  readonly memoryBytes: number;

  constructor(private readonly arrays: Omit<SampleRun, 'first'>) {
    const { count, sizes, durations, dts, ctsOffsets } = arrays;
    this.count = count;
    let min = 0;
    for (let i = 0; i < count; i++) if (ctsOffsets[i] < min) min = ctsOffsets[i];
    this.minCtsOffset = min;
    let bytes = 0;
    for (let i = 0; i < count; i++) bytes += sizes[i];
    this.totalBytes = bytes;
    let ticks = 0;
    for (let i = 0; i < count; i++) ticks += durations[i];
    this.durationTicks = ticks;
    this.end = count === 0 ? 0 : dts[count - 1] + durations[count - 1];
    this.memoryBytes = count * 29;
  }

  private readonly end: number;

  dtsAt(i: number): number {
    return i >= this.count ? this.end : this.arrays.dts[i];
  }

  ticksIn(first: number, end: number): number {
    const durations = this.arrays.durations;
    let ticks = 0;
    for (let i = first; i < end; i++) ticks += durations[i];
    return ticks;
  }

  firstAtOrAfter(ticks: number): number {
    return lowerBound(this.arrays.dts, ticks, this.count);
  }

  nextSyncAtOrAfter(i: number): number {
    const { isSync, count } = this.arrays;
    while (i < count && isSync[i] === 0) i++;
    return i;
  }

  bytesIn(first: number, end: number): number {
    const sizes = this.arrays.sizes;
    let bytes = 0;
    for (let i = first; i < end; i++) bytes += sizes[i];
    return bytes;
  }

  medianDuration(): number {
    return medianDuration(this.arrays.durations, this.count);
  }

  run(first: number, end: number): SampleRun {
    checkRun(this, first, end);
    const a = this.arrays;
    return {
      first,
      count: end - first,
      offsets: a.offsets.subarray(first, end),
      sizes: a.sizes.subarray(first, end),
      dts: a.dts.subarray(first, end),
      durations: a.durations.subarray(first, end),
      ctsOffsets: a.ctsOffsets.subarray(first, end),
      isSync: a.isSync.subarray(first, end),
    };
  }
}

/** An empty table (tracks described only by their sample entry, e.g. in manifest tests). */
export function emptySampleTable(): SampleTable {
  return new ArraySampleTable({
    count: 0,
    offsets: new Float64Array(0),
    sizes: new Uint32Array(0),
    dts: new Float64Array(0),
    durations: new Uint32Array(0),
    ctsOffsets: new Int32Array(0),
    isSync: new Uint8Array(0),
  });
}

/**
 * Median of `durations[0…n)` in O(n): a track has only a handful of distinct durations (often one, a few with
 * rounding or pulldown), so count them as runs into a small table; fall back to sorting a copy when there are many.
 */
function medianDuration(durations: Uint32Array, n: number): number {
  const values: number[] = [];
  const counts: number[] = [];
  let last = -1;
  let slot = -1;
  for (let i = 0; i < n; i++) {
    const v = durations[i];
    if (v !== last) {
      slot = values.indexOf(v);
      if (slot < 0) {
        if (values.length === 32) return durations.slice(0, n).sort()[n >> 1];
        slot = values.length;
        values.push(v);
        counts.push(0);
      }
      last = v;
    }
    counts[slot]++;
  }
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
  for (let i = 0, seen = 0; i < order.length; i++) {
    seen += counts[order[i]];
    if (seen > n >> 1) return values[order[i]];
  }
  return 0;
}
