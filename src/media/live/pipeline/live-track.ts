/**
 * A track that grows while it is recorded: a stable `TrackIndex` whose sample table and segment list gain whole
 * segments once their bytes are in the spool file, and the samples of the open segment held aside until the
 * segment closes. The packager reads it through the same interfaces as a parsed VOD file.
 */
import { SegmentList, type PresentationPart, type TrackIndex } from '../../packager/index.js';
import { checkRun, lowerBound, type SampleRun, type SampleTable } from '../../packager/model/sample-table.js';
import { GoneError } from '../../../shared/errors.js';
import type { TrackCodecConfig } from './flv-media.js';

const initialCapacity = 1024;

/**
 * A `SampleTable` over typed arrays doubled as they fill, whose oldest samples can be dropped (`dropBefore`) once no
 * window serves them, so a run of days keeps only its windows' samples in memory (29 bytes a sample). Sample
 * indices stay those of the whole run: array position = index − `#origin`. Runs handed out are views of the arrays
 * of the moment; growing or compacting copies into new arrays and leaves the old ones (and every view of them)
 * untouched.
 */
export class GrowingSampleTable implements SampleTable {
  #offsets = new Float64Array(initialCapacity);
  #sizes = new Uint32Array(initialCapacity);
  #dts = new Float64Array(initialCapacity);
  #durations = new Uint32Array(initialCapacity);
  #cts = new Int32Array(initialCapacity);
  #sync = new Uint8Array(initialCapacity);
  #count = 0;
  /** Index of array position 0, and of the first sample kept (≥ `#origin`). */
  #origin = 0;
  #first = 0;
  /** Decode time of the run's first sample (durations count from it even once it is dropped). */
  #startDts = 0;
  #durationTicks = 0;
  #totalBytes = 0;
  #minCts = 0;

  get count(): number {
    return this.#count;
  }
  /** The first sample still held: runs before it are gone. */
  get firstKept(): number {
    return this.#first;
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
    if (n === 0) return;
    this.#reserve(this.#count - this.#origin + n);
    if (this.#count === 0) this.#startDts = run.dts[0];
    const at = this.#count - this.#origin;
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
    const last = this.#count - 1 - this.#origin;
    this.#durationTicks = this.#dts[last] + this.#durations[last] - this.#startDts;
  }

  /**
   * Forgets samples before `index` (no window serves them). Their memory is given back once the dropped part is
   * as large as the kept one, by copying the kept samples into new arrays (amortised: each sample is copied once
   * on average, and views handed out before stay valid).
   */
  dropBefore(index: number): void {
    const first = Math.min(index, this.#count);
    if (first <= this.#first) return;
    this.#first = first;
    const dead = first - this.#origin;
    if (dead >= initialCapacity && dead >= this.#count - first) this.#resize(Math.max(initialCapacity, 2 * (this.#count - first)));
  }

  #reserve(needed: number): void {
    if (needed <= this.#offsets.length) return;
    this.#resize(Math.max(needed - (this.#first - this.#origin), this.#offsets.length * 2));
  }

  /** New arrays of `cap` holding the kept samples from position 0. */
  #resize(cap: number): void {
    const from = this.#first - this.#origin;
    const to = this.#count - this.#origin;
    const move = <T extends Float64Array | Uint32Array | Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a.subarray(from, to));
      return b;
    };
    this.#offsets = move(this.#offsets, (c) => new Float64Array(c));
    this.#sizes = move(this.#sizes, (c) => new Uint32Array(c));
    this.#dts = move(this.#dts, (c) => new Float64Array(c));
    this.#durations = move(this.#durations, (c) => new Uint32Array(c));
    this.#cts = move(this.#cts, (c) => new Int32Array(c));
    this.#sync = move(this.#sync, (c) => new Uint8Array(c));
    this.#origin = this.#first;
  }

  /** Array position of sample `i`, which must still be held. */
  #at(i: number): number {
    if (i < this.#first) throw dropped(i, this.#first);
    return i - this.#origin;
  }

  dtsAt(i: number): number {
    if (i < this.#count) return this.#dts[this.#at(i)];
    if (this.#count === 0) return 0;
    const last = this.#count - 1 - this.#origin;
    return this.#dts[last] + this.#durations[last];
  }

  ticksIn(first: number, end: number): number {
    return first >= end ? 0 : this.dtsAt(end) - this.dtsAt(first);
  }

  firstAtOrAfter(ticks: number): number {
    const from = this.#first - this.#origin;
    return this.#origin + from + lowerBound(this.#dts.subarray(from), ticks, this.#count - this.#first);
  }

  nextSyncAtOrAfter(i: number): number {
    i = Math.max(i, this.#first);
    while (i < this.#count && this.#sync[i - this.#origin] === 0) i++;
    return i;
  }

  bytesIn(first: number, end: number): number {
    let bytes = 0;
    if (first >= end) return 0;
    const from = this.#at(first);
    for (let i = from; i < from + (end - first); i++) bytes += this.#sizes[i];
    return bytes;
  }

  medianDuration(): number {
    const n = this.#count - this.#origin;
    const kept = this.#count - this.#first;
    if (kept === 0) return 0;
    // Live tables are read for manifests now and then: a sorted copy of a recent stretch is enough.
    const from = Math.max(this.#first - this.#origin, n - 1024);
    return this.#durations.slice(from, n).sort()[(n - from) >> 1];
  }

  run(first: number, end: number): SampleRun {
    checkRun(this, first, end);
    const from = this.#at(first);
    const to = from + (end - first);
    return {
      first,
      count: end - first,
      offsets: this.#offsets.subarray(from, to),
      sizes: this.#sizes.subarray(from, to),
      dts: this.#dts.subarray(from, to),
      durations: this.#durations.subarray(from, to),
      ctsOffsets: this.#cts.subarray(from, to),
      isSync: this.#sync.subarray(from, to),
    };
  }
}

/** Samples of segments that slid out of every window (their spool chunks are deleted too): a 410 to a late reader. */
function dropped(i: number, first: number): GoneError {
  return new GoneError('LiveSegmentExpired', `sample ${i} slid out of the live event's DVR windows (the oldest kept is ${first})`);
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

/**
 * Samples taken out of the open segment to be written as one `moof` + `mdat`: a whole segment, or (LowLatency)
 * one part of the open segment, the last of which closes it.
 */
export interface ClosingSegment {
  /** The segment's number (shared by every track); a part's is its segment's. */
  index: number;
  /** May be empty only for the closing write of a segment whose parts already hold every sample. */
  samples: PendingSample[];
  /** Duration of each sample, ticks. */
  durations: Uint32Array;
  /** Decode time of the first sample (of the write), ticks. */
  startTicks: number;
  durationTicks: number;
  /** LowLatency: the part these samples are (absent for a whole segment and for an empty closing write). */
  part?: PresentationPart;
  /** Set when this write closes segment `index`: the whole segment (its earlier parts included). */
  closes?: { firstSample: number; sampleCount: number; startTicks: number; durationTicks: number };
}

/** The open segment's parts taken so far (LowLatency). */
interface OpenSegment {
  firstSample: number;
  sampleCount: number;
  startTicks: number;
  durationTicks: number;
  parts: number;
}

/** A closed segment read back from the spool journal (`restoreSegment`). */
export interface RestoredSegment {
  index: number;
  startTicks: number;
  durationTicks: number;
  /** Byte range of its `moof` + `mdat` boxes (its parts') in the spool file. */
  fileStart: number;
  fileEnd: number;
  /** It starts after a discontinuity. */
  discontinuity: boolean;
  samples: Omit<SampleRun, 'first'>;
}

/** Parts older than this many segments behind the newest are dropped from `LiveTrack.parts`. */
const keptPartSegments = 8;

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
  /** Number of samples taken for writing: the table index the next taken sample gets. */
  #takenSamples = 0;
  /** LowLatency: the open segment's parts taken so far, undefined until its first part. */
  #open: OpenSegment | undefined;
  /** LowLatency: the committed parts of the last few segments, ascending. */
  #parts: PresentationPart[] = [];
  /** Where the first write of the segment being committed started in the spool file. */
  #segmentFileStart: number | undefined;
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

  /** Decode time of the first sample not taken yet, or undefined when there is none. */
  get pendingStartTicks(): number | undefined {
    return this.#pending[0]?.dtsTicks;
  }

  /** Decode time of the open segment's first sample (its parts' included), or undefined when it is empty. */
  get openStartTicks(): number | undefined {
    return this.#open?.startTicks ?? this.#pending[0]?.dtsTicks;
  }

  /** LowLatency: the open segment has parts taken already (it may close with no sample left pending). */
  get hasOpenParts(): boolean {
    return this.#open !== undefined;
  }

  /** LowLatency: parts of the open segment taken so far. */
  get openParts(): number {
    return this.#open?.parts ?? 0;
  }

  /** LowLatency: the committed parts of the last few segments, ascending (a live array: copy to keep). */
  get parts(): readonly PresentationPart[] {
    return this.#parts;
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

  /** The segment not taken yet (number `takenSegments`) starts after a discontinuity. */
  get openAfterDiscontinuity(): boolean {
    return this.#discontinuityPending && this.#taken > 0;
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

  /** The first `count` pending samples with their durations (from the next decode time, or the typical one). */
  #takeSamples(count: number): { samples: PendingSample[]; durations: Uint32Array; startTicks: number; durationTicks: number } {
    const p = this.#pending;
    const samples = p.slice(0, count);
    const rest = p.slice(count);
    const durations = new Uint32Array(count);
    let durationTicks = 0;
    for (let i = 0; i < count; i++) {
      const next = i + 1 < count ? samples[i + 1].dtsTicks : rest.length > 0 ? rest[0].dtsTicks : samples[i].dtsTicks + this.typicalDurationTicks();
      durations[i] = Math.max(1, next - samples[i].dtsTicks);
      durationTicks += durations[i];
    }
    this.#pending = rest;
    this.#takenSamples += count;
    if (count > 0) this.#lastTaken = { dtsTicks: samples[count - 1].dtsTicks, durationTicks: durations[count - 1] };
    return { samples, durations, startTicks: samples[0]?.dtsTicks ?? this.endTicks, durationTicks };
  }

  /**
   * LowLatency: takes the first `count` (≥ 1) pending samples as the open segment's next part. The sample after
   * them must have arrived (it gives the last one's duration), so `count < pendingCount`.
   */
  takePart(count: number): ClosingSegment {
    if (count < 1 || count >= this.#pending.length) throw new RangeError(`a part takes 1…${this.#pending.length - 1} samples, not ${count}`);
    const firstSample = this.#takenSamples;
    const taken = this.#takeSamples(count);
    const open = (this.#open ??= { firstSample, sampleCount: 0, startTicks: taken.startTicks, durationTicks: 0, parts: 0 });
    const part = this.#part(open, firstSample, taken);
    open.sampleCount += count;
    open.durationTicks += taken.durationTicks;
    return { index: this.#taken, ...taken, part };
  }

  #part(open: OpenSegment, firstSample: number, taken: { samples: PendingSample[]; startTicks: number; durationTicks: number }): PresentationPart {
    return {
      segmentIndex: this.#taken,
      partIndex: open.parts++,
      segmentStartTicks: open.startTicks,
      firstSample,
      sampleCount: taken.samples.length,
      startTicks: taken.startTicks,
      durationTicks: taken.durationTicks,
      independent: this.kind === 'audio' || taken.samples[0].isSync,
    };
  }

  /**
   * Takes the first `count` pending samples as the rest of the open segment, which closes. Durations come from
   * the next decode time: the sample after them, or for the last segment (`count` = all) the track's typical
   * duration. `asPart` (LowLatency): the samples are also the segment's last part (when there are any), and
   * `count` may be 0 when earlier parts hold the whole segment.
   */
  take(count: number, asPart = false): ClosingSegment {
    const open = this.#open;
    if (count < (open ? 0 : 1)) throw new RangeError('a segment needs at least one sample');
    const firstSample = this.#takenSamples;
    const taken = this.#takeSamples(count);
    let part: PresentationPart | undefined;
    if (asPart && count > 0)
      part = {
        ...this.#part(open ?? { firstSample, sampleCount: 0, startTicks: taken.startTicks, durationTicks: 0, parts: 0 }, firstSample, taken),
        endsSegment: true,
      };
    const closes = {
      firstSample: open?.firstSample ?? firstSample,
      sampleCount: (open?.sampleCount ?? 0) + count,
      startTicks: open?.startTicks ?? taken.startTicks,
      durationTicks: (open?.durationTicks ?? 0) + taken.durationTicks,
    };
    this.#open = undefined;
    const index = this.#taken++;
    if (this.#discontinuityPending) {
      if (index > 0) this.discontinuities.push(index);
      this.#discontinuityPending = false;
    }
    return { index, ...taken, ...(part ? { part } : {}), closes };
  }

  /**
   * Makes a written segment or part visible: its samples at `offsets` in the spool, its bytes at
   * [fileStart, fileEnd); a closing write also adds its segment (from where its first part started).
   */
  commit(segment: ClosingSegment, offsets: Float64Array, fileStart: number, fileEnd: number): void {
    const n = segment.samples.length;
    this.#segmentFileStart ??= fileStart;
    if (n > 0) {
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
      this.table.append({ count: n, offsets, sizes, dts, durations: segment.durations, ctsOffsets: cts, isSync: sync });
    }
    if (segment.part) {
      this.#parts.push(segment.part);
      const oldest = segment.index - keptPartSegments;
      if (this.#parts[0].segmentIndex < oldest) this.#parts = this.#parts.filter((p) => p.segmentIndex >= oldest);
    }
    if (segment.closes) {
      const c = segment.closes;
      this.segmentList.append(c.firstSample, c.sampleCount, c.startTicks, c.durationTicks, this.#segmentFileStart, fileEnd);
      this.#segmentFileStart = undefined;
    }
    this.#updateIndex();
  }

  /**
   * A segment of an adopted run (read back from its spool journal after a restart): its samples at their offsets
   * in the spool file and its byte range, appended as if it had just been written. Segments come in order.
   */
  restoreSegment(segment: RestoredSegment): void {
    if (segment.index !== this.#taken) throw new RangeError(`segment ${segment.index} restored after ${this.#taken} segments`);
    const n = segment.samples.count;
    this.table.append(segment.samples);
    this.segmentList.append(this.#takenSamples, n, segment.startTicks, segment.durationTicks, segment.fileStart, segment.fileEnd);
    if (segment.discontinuity && segment.index > 0) this.discontinuities.push(segment.index);
    this.#taken++;
    this.#takenSamples += n;
    if (n > 0) this.#lastTaken = { dtsTicks: segment.samples.dts[n - 1], durationTicks: segment.samples.durations[n - 1] };
    this.#updateIndex();
  }

  /** Forgets the samples of the segments before `index` (they slid out of every window); segment entries stay. */
  forgetBefore(index: number): void {
    if (index < this.segmentList.length) this.table.dropBefore(this.segmentList.view().firstSample[index]);
  }

  /**
   * An adopted run whose oldest spool chunks were deleted before the restart: segments before `index` have no
   * samples any more. They are listed empty (no samples, no bytes, starting at `startTicks` with no duration) so
   * segment numbers stay those of the run; the pipeline never serves a segment below its trim floor.
   */
  skipSegmentsTo(index: number, startTicks: number): void {
    while (this.#taken < index) {
      this.segmentList.append(this.#takenSamples, 0, startTicks, 0, 0, 0);
      this.#taken++;
    }
  }

  #updateIndex(): void {
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
