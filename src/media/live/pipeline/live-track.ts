/**
 * A track that grows while it is recorded: a stable `TrackIndex` whose sample table and segment list gain whole
 * segments once their bytes are in the spool file, and the samples of the open segment held aside until the
 * segment closes. The packager reads it through the same interfaces as a parsed VOD file.
 */
import { SegmentList, type TrackIndex } from '../../packager/index.js';
import { checkRun, lowerBound, type SampleRun, type SampleTable } from '../../packager/model/sample-table.js';
import type { TrackCodecConfig } from './flv-media.js';

const initialCapacity = 1024;

/**
 * A `SampleTable` over typed arrays doubled as they fill. Runs handed out are views of the arrays of the moment;
 * a later doubling copies into new arrays and leaves the old ones (and every view of them) untouched.
 */
export class GrowingSampleTable implements SampleTable {
  #offsets = new Float64Array(initialCapacity);
  #sizes = new Uint32Array(initialCapacity);
  #dts = new Float64Array(initialCapacity);
  #durations = new Uint32Array(initialCapacity);
  #cts = new Int32Array(initialCapacity);
  #sync = new Uint8Array(initialCapacity);
  #count = 0;
  #durationTicks = 0;
  #totalBytes = 0;
  #minCts = 0;

  get count(): number {
    return this.#count;
  }
  get durationTicks(): number {
    return this.#durationTicks;
  }
  get totalBytes(): number {
    return this.#totalBytes;
  }
  get minCtsOffset(): number {
    return this.#minCts;
  }
  get memoryBytes(): number {
    return this.#offsets.length * 29;
  }

  /** Appends samples (all fields of `run`, `first` ignored). Decode times must continue the table's. */
  append(run: Omit<SampleRun, 'first'>): void {
    const n = run.count;
    this.#reserve(this.#count + n);
    const at = this.#count;
    this.#offsets.set(run.offsets.subarray(0, n), at);
    this.#sizes.set(run.sizes.subarray(0, n), at);
    this.#dts.set(run.dts.subarray(0, n), at);
    this.#durations.set(run.durations.subarray(0, n), at);
    this.#cts.set(run.ctsOffsets.subarray(0, n), at);
    this.#sync.set(run.isSync.subarray(0, n), at);
    for (let i = 0; i < n; i++) {
      this.#totalBytes += run.sizes[i];
      if (run.ctsOffsets[i] < this.#minCts) this.#minCts = run.ctsOffsets[i];
    }
    this.#count += n;
    this.#durationTicks = n === 0 && at === 0 ? 0 : this.#dts[this.#count - 1] + this.#durations[this.#count - 1] - this.#dts[0];
  }

  #reserve(needed: number): void {
    if (needed <= this.#offsets.length) return;
    const cap = Math.max(needed, this.#offsets.length * 2);
    const grow = <T extends Float64Array | Uint32Array | Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a.subarray(0, this.#count));
      return b;
    };
    this.#offsets = grow(this.#offsets, (c) => new Float64Array(c));
    this.#sizes = grow(this.#sizes, (c) => new Uint32Array(c));
    this.#dts = grow(this.#dts, (c) => new Float64Array(c));
    this.#durations = grow(this.#durations, (c) => new Uint32Array(c));
    this.#cts = grow(this.#cts, (c) => new Int32Array(c));
    this.#sync = grow(this.#sync, (c) => new Uint8Array(c));
  }

  dtsAt(i: number): number {
    if (i < this.#count) return this.#dts[i];
    return this.#count === 0 ? 0 : this.#dts[this.#count - 1] + this.#durations[this.#count - 1];
  }

  ticksIn(first: number, end: number): number {
    return first >= end ? 0 : this.dtsAt(end) - this.#dts[first];
  }

  firstAtOrAfter(ticks: number): number {
    return lowerBound(this.#dts, ticks, this.#count);
  }

  nextSyncAtOrAfter(i: number): number {
    while (i < this.#count && this.#sync[i] === 0) i++;
    return i;
  }

  bytesIn(first: number, end: number): number {
    let bytes = 0;
    for (let i = first; i < end; i++) bytes += this.#sizes[i];
    return bytes;
  }

  medianDuration(): number {
    const n = this.#count;
    if (n === 0) return 0;
    // Live tables are read for manifests now and then: a sorted copy of a recent stretch is enough.
    const from = Math.max(0, n - 1024);
    return this.#durations.slice(from, n).sort()[(n - from) >> 1];
  }

  run(first: number, end: number): SampleRun {
    checkRun(this, first, end);
    return {
      first,
      count: end - first,
      offsets: this.#offsets.subarray(first, end),
      sizes: this.#sizes.subarray(first, end),
      dts: this.#dts.subarray(first, end),
      durations: this.#durations.subarray(first, end),
      ctsOffsets: this.#cts.subarray(first, end),
      isSync: this.#sync.subarray(first, end),
    };
  }
}

/** Segments appended one at a time into doubled typed arrays; `view()` is a `SegmentList` of the filled part. */
export class GrowingSegmentList {
  #firstSample = new Uint32Array(64);
  #sampleCount = new Uint32Array(64);
  #startTicks = new Float64Array(64);
  #durationTicks = new Float64Array(64);
  /** Byte range of each segment's `moof` + `mdat` in the spool file. */
  #fileStart = new Float64Array(64);
  #fileEnd = new Float64Array(64);
  #length = 0;
  #view: SegmentList | undefined;

  get length(): number {
    return this.#length;
  }

  append(firstSample: number, sampleCount: number, startTicks: number, durationTicks: number, fileStart: number, fileEnd: number): void {
    if (this.#length === this.#firstSample.length) {
      const cap = this.#length * 2;
      const grow = <T extends Float64Array | Uint32Array>(a: T, b: T): T => {
        b.set(a);
        return b;
      };
      this.#firstSample = grow(this.#firstSample, new Uint32Array(cap));
      this.#sampleCount = grow(this.#sampleCount, new Uint32Array(cap));
      this.#startTicks = grow(this.#startTicks, new Float64Array(cap));
      this.#durationTicks = grow(this.#durationTicks, new Float64Array(cap));
      this.#fileStart = grow(this.#fileStart, new Float64Array(cap));
      this.#fileEnd = grow(this.#fileEnd, new Float64Array(cap));
    }
    const i = this.#length++;
    this.#firstSample[i] = firstSample;
    this.#sampleCount[i] = sampleCount;
    this.#startTicks[i] = startTicks;
    this.#durationTicks[i] = durationTicks;
    this.#fileStart[i] = fileStart;
    this.#fileEnd[i] = fileEnd;
    this.#view = undefined;
  }

  /** The segments so far, as views (the list object is reused until the next append). */
  view(): SegmentList {
    const n = this.#length;
    this.#view ??= new SegmentList(
      this.#firstSample.subarray(0, n),
      this.#sampleCount.subarray(0, n),
      this.#startTicks.subarray(0, n),
      this.#durationTicks.subarray(0, n),
    );
    return this.#view;
  }

  /** Where segment `i`'s `moof` starts and its `mdat` ends in the spool file. */
  fileRange(i: number): { start: number; end: number } {
    return { start: this.#fileStart[i], end: this.#fileEnd[i] };
  }
}

/** A sample of the open segment: its bytes (a copy) and times in track ticks. */
export interface PendingSample {
  dtsTicks: number;
  ctsTicks: number;
  isSync: boolean;
  data: Uint8Array;
}

/** Samples taken out of the open segment to be written as one segment. */
export interface ClosingSegment {
  /** The segment's number (shared by every track). */
  index: number;
  samples: PendingSample[];
  /** Duration of each sample, ticks. */
  durations: Uint32Array;
  startTicks: number;
  durationTicks: number;
}

/**
 * One track of a live event. `index` is the object the packager serves (kept stable: its `samples`, its
 * `durationTicks` and `bitrateBps` grow with each committed segment); `segments()` is the committed list.
 */
export class LiveTrack {
  readonly index: TrackIndex;
  readonly table = new GrowingSampleTable();
  readonly segmentList = new GrowingSegmentList();
  /** Segment indices that start after a timestamp discontinuity (an encoder restart). */
  readonly discontinuities: number[] = [];
  #pending: PendingSample[] = [];
  /** Number of segments taken for writing (committed or in flight). */
  #taken = 0;
  #discontinuityPending = false;
  /** The last sample taken for writing: its decode time and duration. */
  #lastTaken: { dtsTicks: number; durationTicks: number } | undefined;

  constructor(
    /** Name in URLs and the archive (`video`, `audio`, `video_3500000`). */
    readonly name: string,
    readonly config: TrackCodecConfig,
    trackId: number,
  ) {
    this.index = {
      trackId,
      kind: config.kind,
      fourcc: config.fourcc,
      codecs: config.codecs,
      timescale: config.timescale,
      durationTicks: 0,
      language: 'und',
      bitrateBps: 0,
      maxBitrateBps: 0,
      sampleEntry: config.sampleEntry,
      editMediaTimeTicks: 0,
      video: config.video ? { ...config.video, frameRate: 0 } : undefined,
      audio: config.audio,
      samples: this.table,
    };
  }

  get kind(): 'video' | 'audio' {
    return this.config.kind;
  }

  get timescale(): number {
    return this.config.timescale;
  }

  /** Samples waiting in the open segment. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Decode time of the open segment's first sample, or undefined when it is empty. */
  get pendingStartTicks(): number | undefined {
    return this.#pending[0]?.dtsTicks;
  }

  /** Drops the open segment's samples from `i` on; returns how many. */
  dropPendingFrom(i: number): number {
    const n = this.#pending.length - i;
    this.#pending.length = i;
    return n;
  }

  /** Decode time of the open segment's sample `i`. */
  pendingDtsAt(i: number): number {
    return this.#pending[i].dtsTicks;
  }

  /** Decode time of the last sample received (committed or open), or undefined before any. */
  get lastDtsTicks(): number | undefined {
    const p = this.#pending;
    if (p.length > 0) return p[p.length - 1].dtsTicks;
    return this.#lastTaken?.dtsTicks;
  }

  /**
   * Where the track ends: after the last sample taken for writing when nothing is open (segments are taken
   * before their bytes are written), else the last open sample's decode time plus a typical duration.
   */
  get endTicks(): number {
    if (this.#pending.length === 0) return this.#lastTaken ? this.#lastTaken.dtsTicks + this.#lastTaken.durationTicks : 0;
    return this.#pending[this.#pending.length - 1].dtsTicks + this.typicalDurationTicks();
  }

  typicalDurationTicks(): number {
    const p = this.#pending;
    if (p.length >= 2) return p[p.length - 1].dtsTicks - p[p.length - 2].dtsTicks;
    if (this.#lastTaken) return this.#lastTaken.durationTicks;
    return this.kind === 'audio' ? 1024 : Math.round(this.timescale / 25);
  }

  /** Segments taken for writing so far: the index the next closed segment gets. */
  get takenSegments(): number {
    return this.#taken;
  }

  /** Adds a sample to the open segment (decode times must not decrease; equal ones are nudged by a tick). */
  push(sample: PendingSample): void {
    const last = this.lastDtsTicks;
    if (last !== undefined && sample.dtsTicks <= last) sample.dtsTicks = last + 1;
    this.#pending.push(sample);
  }

  /** The next segment starts after a discontinuity: recorded when it is taken. */
  markDiscontinuity(): void {
    this.#discontinuityPending = true;
  }

  /**
   * Where the open segment would be cut for a boundary at `ticks`: the first pending sample at or after it
   * (a sync sample for video when `needSync`), or -1 when no such sample has arrived yet. 0 means the boundary
   * falls before the open segment (nothing to cut).
   */
  cutAt(ticks: number, needSync: boolean): number {
    const p = this.#pending;
    for (let i = 0; i < p.length; i++) {
      if (p[i].dtsTicks >= ticks && (!needSync || p[i].isSync)) return i;
    }
    return -1;
  }

  /**
   * Takes the first `count` pending samples as the next segment. Durations come from the next decode time:
   * the sample after them, or for the last segment (`count` = all) the track's typical duration.
   */
  take(count: number): ClosingSegment {
    const p = this.#pending;
    const samples = p.slice(0, count);
    const rest = p.slice(count);
    const durations = new Uint32Array(count);
    for (let i = 0; i < count; i++) {
      const next = i + 1 < count ? samples[i + 1].dtsTicks : rest.length > 0 ? rest[0].dtsTicks : samples[i].dtsTicks + this.typicalDurationTicks();
      durations[i] = Math.max(1, next - samples[i].dtsTicks);
    }
    this.#pending = rest;
    const index = this.#taken++;
    if (this.#discontinuityPending) {
      if (index > 0) this.discontinuities.push(index);
      this.#discontinuityPending = false;
    }
    this.#lastTaken = { dtsTicks: samples[count - 1].dtsTicks, durationTicks: durations[count - 1] };
    const startTicks = samples[0].dtsTicks;
    let durationTicks = 0;
    for (let i = 0; i < count; i++) durationTicks += durations[i];
    return { index, samples, durations, startTicks, durationTicks };
  }

  /** Makes a written segment visible: its samples at `offsets` in the spool, the segment at [fileStart, fileEnd). */
  commit(segment: ClosingSegment, offsets: Float64Array, fileStart: number, fileEnd: number): void {
    const n = segment.samples.length;
    const sizes = new Uint32Array(n);
    const dts = new Float64Array(n);
    const cts = new Int32Array(n);
    const sync = new Uint8Array(n);
    segment.samples.forEach((s, i) => {
      sizes[i] = s.data.byteLength;
      dts[i] = s.dtsTicks;
      cts[i] = s.ctsTicks;
      sync[i] = s.isSync || this.kind === 'audio' ? 1 : 0;
    });
    const first = this.table.count;
    this.table.append({ count: n, offsets, sizes, dts, durations: segment.durations, ctsOffsets: cts, isSync: sync });
    this.segmentList.append(first, n, segment.startTicks, segment.durationTicks, fileStart, fileEnd);
    const t = this.index;
    t.durationTicks = this.table.durationTicks;
    t.bitrateBps = t.durationTicks > 0 ? Math.round((this.table.totalBytes * 8 * t.timescale) / t.durationTicks) : 0;
    t.maxBitrateBps = Math.max(t.maxBitrateBps, t.bitrateBps);
    if (t.video && t.durationTicks > 0) {
      // The mean, not the median: FLV's whole milliseconds make 29.97 or 30 fps alternate 33 and 34 ms steps.
      t.video.frameRate = Math.round(((this.table.count * t.timescale) / t.durationTicks) * 1000) / 1000;
    }
  }

  /** The committed segments (a view; indices from 0). */
  segments(): SegmentList {
    return this.segmentList.view();
  }
}
