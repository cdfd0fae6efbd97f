/**
 * A track's samples straight from its `stbl` (ISO/IEC 14496-12 §8.6–8.7), kept compact: the `stsz` and
 * `stco`/`co64` tables are read in place from the `moov` bytes (big-endian, through a DataView; nothing is
 * copied), and decode times, composition offsets, sync samples and chunks are kept as the runs the file stores
 * them in. A 2-hour track's 180k video and 337k audio samples cost about 4 bytes each instead of 29, building
 * the table is one walk over the chunks instead of filling six per-sample arrays, and each segment expands
 * just its own samples (`run`). The table keeps the `moov` buffer it was built from alive.
 *
 * Everything that could make a later lookup fail is checked here, once: counts against the bytes of each box,
 * the tables agree on the number of samples, sync sample numbers exist, and every chunk's samples end inside the
 * file. A table that is built is therefore safe to ask anything within [0, count).
 */
import type { SampleRun, SampleTable } from '../../model/sample-table.js';
import { checkRun, lowerBound, upperBound } from '../../model/sample-table.js';
import { CO64, CTTS, STBL, STCO, STSC, STSS, STSZ, STTS, STZ2, corruptBox, readU32, type BoxHeader } from './boxes.js';

/** Far above any real track (24 h at 60 fps is 5.2 M samples); bounds what a corrupt count can allocate. */
export const MAX_SAMPLES_PER_TRACK = 1 << 26;

export class StblSampleTable implements SampleTable {
  readonly memoryBytes: number;
  readonly minCtsOffset: number;
  private sttsRun = 0;

  constructor(
    readonly count: number,
    readonly durationTicks: number,
    readonly totalBytes: number,
    private readonly sizes: SampleSizes,
    /** stts runs: first sample, decode time of that sample, and the delta of each run (`m` runs, `m + 1` starts). */
    private readonly sttsFirst: Uint32Array,
    private readonly sttsDts: Float64Array,
    private readonly sttsDelta: Uint32Array,
    /** ctts runs (undefined without ctts): first sample of each run (`+1` end) and its offset. */
    private readonly cttsFirst: Uint32Array | undefined,
    private readonly cttsValue: Int32Array | undefined,
    /** 0-based sync sample numbers, ascending; undefined when every sample is a sync sample. */
    private readonly syncs: Uint32Array | undefined,
    /** stsc entries: first chunk (0-based), samples per chunk, first sample (`+1` end). */
    private readonly stscChunk: Uint32Array,
    private readonly stscPerChunk: Uint32Array,
    private readonly stscFirstSample: Uint32Array,
    private readonly chunkOffsets: ChunkOffsets,
  ) {
    this.memoryBytes =
      256 +
      sizes.byteLength +
      sttsFirst.byteLength * 2 +
      sttsDelta.byteLength +
      (cttsFirst?.byteLength ?? 0) +
      (cttsValue?.byteLength ?? 0) +
      (syncs?.byteLength ?? 0) +
      stscChunk.byteLength * 2 +
      stscFirstSample.byteLength +
      chunkOffsets.byteLength;
    let min = 0;
    if (cttsValue !== undefined) for (let r = 0; r < cttsValue.length; r++) if (cttsValue[r] < min) min = cttsValue[r];
    this.minCtsOffset = min;
  }

  dtsAt(i: number): number {
    if (i >= this.count) return this.durationTicks;
    const r = this.sttsRunOf(i);
    return this.sttsDts[r] + (i - this.sttsFirst[r]) * this.sttsDelta[r];
  }

  ticksIn(first: number, end: number): number {
    return this.dtsAt(end) - this.dtsAt(first);
  }

  firstAtOrAfter(ticks: number): number {
    const runs = this.sttsDelta.length;
    // The last run starting before `ticks`: the answer is in it, or is the first sample of the next run.
    const r = lowerBound(this.sttsDts, ticks) - 1;
    if (r < 0) return 0;
    if (r >= runs) return this.count;
    const start = this.sttsDts[r];
    const delta = this.sttsDelta[r];
    const n = this.sttsFirst[r + 1] - this.sttsFirst[r];
    if (delta === 0) return this.sttsFirst[r + 1];
    let j = Math.floor((ticks - start) / delta);
    while (start + j * delta < ticks) j++;
    return j < n ? this.sttsFirst[r] + j : this.sttsFirst[r + 1];
  }

  nextSyncAtOrAfter(i: number): number {
    const syncs = this.syncs;
    if (syncs === undefined) return Math.min(i, this.count);
    const j = lowerBound(syncs, i);
    return j < syncs.length ? syncs[j] : this.count;
  }

  bytesIn(first: number, end: number): number {
    return this.sizes.sum(first, end);
  }

  medianDuration(): number {
    const m = this.sttsDelta.length;
    if (m === 0) return 0;
    const order = Array.from({ length: m }, (_, r) => r).sort((a, b) => this.sttsDelta[a] - this.sttsDelta[b]);
    const half = this.count >> 1;
    for (let j = 0, seen = 0; j < m; j++) {
      const r = order[j];
      seen += this.sttsFirst[r + 1] - this.sttsFirst[r];
      if (seen > half) return this.sttsDelta[r];
    }
    return this.sttsDelta[order[m - 1]];
  }

  run(first: number, end: number): SampleRun {
    checkRun(this, first, end);
    const n = end - first;
    const sizes = this.sizes.copy(first, end);
    const dts = new Float64Array(n);
    const durations = new Uint32Array(n);
    const ctsOffsets = new Int32Array(n);
    const isSync = new Uint8Array(n);
    const offsets = new Float64Array(n);
    if (n === 0) return { first, count: 0, offsets, sizes, dts, durations, ctsOffsets, isSync };

    // Decode times: walk the stts runs from the one holding `first`.
    for (let j = 0, r = this.sttsRunOf(first), i = first; j < n; j++, i++) {
      while (i >= this.sttsFirst[r + 1]) r++;
      const delta = this.sttsDelta[r];
      dts[j] = this.sttsDts[r] + (i - this.sttsFirst[r]) * delta;
      durations[j] = delta;
    }

    const cttsFirst = this.cttsFirst;
    const cttsValue = this.cttsValue;
    if (cttsFirst !== undefined && cttsValue !== undefined) {
      for (let j = 0, r = upperBound(cttsFirst, first) - 1, i = first; j < n; j++, i++) {
        while (i >= cttsFirst[r + 1]) r++;
        ctsOffsets[j] = cttsValue[r];
      }
    }

    const syncs = this.syncs;
    if (syncs === undefined) {
      isSync.fill(1);
    } else {
      for (let k = lowerBound(syncs, first); k < syncs.length && syncs[k] < end; k++) isSync[syncs[k] - first] = 1;
    }

    // Offsets: find the chunk of `first`, add the sizes of the samples before it in that chunk, then walk on.
    const stscFirstSample = this.stscFirstSample;
    const perChunk = this.stscPerChunk;
    const stscChunk = this.stscChunk;
    const entries = perChunk.length;
    let e = upperBound(stscFirstSample, first) - 1;
    const rel = first - stscFirstSample[e];
    let chunk = stscChunk[e] + Math.floor(rel / perChunk[e]);
    let inChunk = rel % perChunk[e];
    const chunkOffsets = this.chunkOffsets;
    let off = chunkOffsets.at(chunk) + this.sizes.sum(first - inChunk, first);
    let chunkEnd = e + 1 < entries ? stscChunk[e + 1] : chunkOffsets.count;
    for (let j = 0; j < n; j++) {
      offsets[j] = off;
      off += sizes[j];
      if (++inChunk === perChunk[e] && j + 1 < n) {
        inChunk = 0;
        if (++chunk >= chunkEnd) {
          do e++;
          while (perChunk[e] === 0); // entries whose chunks hold no samples
          chunk = stscChunk[e];
          chunkEnd = e + 1 < entries ? stscChunk[e + 1] : chunkOffsets.count;
        }
        off = chunkOffsets.at(chunk);
      }
    }
    return { first, count: n, offsets, sizes, dts, durations, ctsOffsets, isSync };
  }

  /** The stts run holding sample `i` (< count); remembers the last answer, as lookups come in order. */
  private sttsRunOf(i: number): number {
    const first = this.sttsFirst;
    let r = this.sttsRun;
    if (!(first[r] <= i && i < first[r + 1])) {
      r = upperBound(first, i) - 1;
      this.sttsRun = r;
    }
    return r;
  }
}

function pick(boxes: BoxHeader[], type: number): BoxHeader | undefined {
  for (let i = 0; i < boxes.length; i++) if (boxes[i].type === type) return boxes[i];
  return undefined;
}

function need(h: BoxHeader, base: number, bytes: number): void {
  if (h.end - h.payload < bytes)
    throw corruptBox(h.type, base + h.start, `payload of ${h.end - h.payload} bytes is shorter than the ${bytes} bytes its fields need`);
}

/** The entry_count of a table FullBox, checked against the bytes the box holds (`entryBytes` each). */
function entryCount(b: Uint8Array, h: BoxHeader, base: number, entryBytes: number): number {
  need(h, base, 8);
  const n = readU32(b, h.payload + 4);
  if (n > (h.end - h.payload - 8) / entryBytes)
    throw corruptBox(h.type, base + h.start, `entry_count ${n} does not fit in the box (${h.end - h.payload - 8} bytes)`);
  return n;
}

const u32 = (b: Uint8Array, p: number) => ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;

/**
 * Reads and checks a track's `stsz`/`stz2`, `stts`, `ctts`, `stss`, `stsc` and `stco`/`co64` (children of `stbl`,
 * in `kids`) into a compact table. `allSync` marks every sample a sync sample whatever `stss` says (audio).
 * Throws `MediaError` (422, naming the box and its offset) on anything inconsistent.
 */
export function readStblSampleTable(
  b: Uint8Array,
  stbl: BoxHeader,
  kids: BoxHeader[],
  base: number,
  trackId: number,
  allSync: boolean,
  fileSize: number,
): StblSampleTable {
  const stblAt = base + stbl.start;
  const stsz = pick(kids, STSZ) ?? pick(kids, STZ2);
  if (stsz === undefined) throw corruptBox(STBL, stblAt, `track ${trackId} has no stsz or stz2 box`);
  const stts = pick(kids, STTS);
  if (stts === undefined) throw corruptBox(STBL, stblAt, `track ${trackId} has no stts box`);
  const stsc = pick(kids, STSC);
  if (stsc === undefined) throw corruptBox(STBL, stblAt, `track ${trackId} has no stsc box`);
  const stco = pick(kids, STCO) ?? pick(kids, CO64);
  if (stco === undefined) throw corruptBox(STBL, stblAt, `track ${trackId} has no stco or co64 box`);
  const ctts = pick(kids, CTTS);
  const stss = pick(kids, STSS);

  // Sizes.
  need(stsz, base, 12);
  const stszAt = base + stsz.start;
  const count = readU32(b, stsz.payload + 8);
  if (count > MAX_SAMPLES_PER_TRACK) throw corruptBox(stsz.type, stszAt, `sample_count ${count} is absurd`);
  const tableStart = stsz.payload + 12;
  const tableBytes = stsz.end - tableStart;
  let sizes: SampleSizes;
  if (stsz.type === STSZ) {
    const constantSize = readU32(b, stsz.payload + 4);
    if (constantSize !== 0) {
      if (count * constantSize > fileSize) throw corruptBox(STSZ, stszAt, `${count} samples of ${constantSize} bytes exceed the file (${fileSize} bytes)`);
      sizes = new SampleSizes(count, constantSize, undefined, undefined);
    } else {
      if (count * 4 > tableBytes) throw corruptBox(STSZ, stszAt, `sample_count ${count} needs ${count * 4} bytes, box has ${tableBytes}`);
      sizes = new SampleSizes(count, 0, new DataView(b.buffer, b.byteOffset + tableStart, count * 4), undefined);
    }
  } else {
    const fieldSize = b[stsz.payload + 7];
    if (fieldSize !== 4 && fieldSize !== 8 && fieldSize !== 16) throw corruptBox(STZ2, stszAt, `field_size ${fieldSize} is not 4, 8 or 16`);
    if (Math.ceil((count * fieldSize) / 8) > tableBytes) throw corruptBox(STZ2, stszAt, `sample_count ${count} does not fit in the box`);
    sizes = new SampleSizes(count, 0, undefined, readStz2(b, tableStart, count, fieldSize));
  }

  const timing = readStts(b, stts, base, count, trackId);
  const composition = ctts !== undefined ? readCtts(b, ctts, base, count, trackId) : undefined;
  // Sync samples: no stss means every sample is a sync sample (§8.6.2); audio samples always are.
  const syncs = stss !== undefined && !allSync ? readStss(b, stss, base, count, trackId) : undefined;
  const is64 = stco.type === CO64;
  const chunkCount = entryCount(b, stco, base, is64 ? 8 : 4);
  const chunkOffsets = new ChunkOffsets(new DataView(b.buffer, b.byteOffset + stco.payload + 8, chunkCount * (is64 ? 8 : 4)), is64);
  const chunks = readStsc(b, stsc, base, count, trackId, chunkCount);
  // Every chunk's samples must end inside the file: checked here once, so segments never need to. The same
  // walk adds up the sizes.
  const totalBytes = walkChunks(chunks, chunkOffsets, sizes, fileSize);
  if (totalBytes < 0) {
    const bad = firstSampleBeyond(chunks, chunkOffsets, sizes, fileSize);
    throw corruptBox(
      stco.type,
      base + stco.start,
      `track ${trackId} sample ${bad.sample} (${bad.size} bytes at offset ${bad.offset}) runs past the end of the file (${fileSize} bytes)`,
    );
  }

  return new StblSampleTable(
    count,
    timing.total,
    totalBytes,
    sizes,
    timing.first,
    timing.dts,
    timing.delta,
    composition?.first,
    composition?.value,
    syncs,
    chunks.chunk,
    chunks.perChunk,
    chunks.firstSample,
    chunkOffsets,
  );
}

/**
 * Sample sizes: one constant, the 32-bit `stsz` table read in place, or `stz2`'s 4/8/16-bit entries (rare)
 * decoded into an array.
 */
class SampleSizes {
  constructor(
    readonly count: number,
    private readonly constant: number,
    /** The 32-bit `stsz` entries in place, when that is where the sizes are. */
    readonly table: DataView | undefined,
    private readonly decoded: Uint32Array | undefined,
  ) {}

  get byteLength(): number {
    return this.table?.byteLength ?? this.decoded?.byteLength ?? 0;
  }

  at(i: number): number {
    if (this.table !== undefined) return this.table.getUint32(i * 4);
    return this.decoded !== undefined ? this.decoded[i] : this.constant;
  }

  sum(first: number, end: number): number {
    const table = this.table;
    let total = 0;
    if (table !== undefined) {
      for (let p = first * 4, stop = end * 4; p < stop; p += 4) total += table.getUint32(p);
    } else if (this.decoded !== undefined) {
      for (let i = first; i < end; i++) total += this.decoded[i];
    } else {
      total = (end - first) * this.constant;
    }
    return total;
  }

  copy(first: number, end: number): Uint32Array {
    const out = new Uint32Array(end - first);
    const table = this.table;
    if (table !== undefined) {
      for (let j = 0, p = first * 4; j < out.length; j++, p += 4) out[j] = table.getUint32(p);
    } else if (this.decoded !== undefined) {
      out.set(this.decoded.subarray(first, end));
    } else {
      out.fill(this.constant);
    }
    return out;
  }
}

/** `stco` or `co64` chunk offsets, read in place. */
class ChunkOffsets {
  readonly count: number;
  /** The table when its entries are 32-bit (`stco`), for tight loops. */
  readonly table32: DataView | undefined;

  constructor(
    private readonly table: DataView,
    private readonly is64: boolean,
  ) {
    this.count = table.byteLength / (is64 ? 8 : 4);
    this.table32 = is64 ? undefined : table;
  }

  get byteLength(): number {
    return this.table.byteLength;
  }

  at(c: number): number {
    return this.is64 ? this.table.getUint32(c * 8) * 4294967296 + this.table.getUint32(c * 8 + 4) : this.table.getUint32(c * 4);
  }
}

/** `stts` as runs (empty entries dropped): first sample and decode time of each run (+ the end), and its delta. */
function readStts(b: Uint8Array, stts: BoxHeader, base: number, count: number, trackId: number) {
  const at = base + stts.start;
  const entries = entryCount(b, stts, base, 8);
  const first = new Uint32Array(entries + 1);
  const dts = new Float64Array(entries + 1);
  const delta = new Uint32Array(entries);
  let runs = 0;
  let k = 0;
  let t = 0;
  for (let e = 0, p = stts.payload + 8; e < entries; e++, p += 8) {
    const n = u32(b, p);
    if (n > count - k) throw corruptBox(STTS, at, `entry ${e} runs past the ${count} samples of stsz (track ${trackId})`);
    if (n === 0) continue;
    const d = u32(b, p + 4);
    first[runs] = k;
    dts[runs] = t;
    delta[runs] = d;
    runs++;
    k += n;
    t += n * d;
  }
  if (k !== count) throw corruptBox(STTS, at, `describes ${k} samples, stsz has ${count} (track ${trackId})`);
  first[runs] = k;
  dts[runs] = t;
  return { first: first.slice(0, runs + 1), dts: dts.slice(0, runs + 1), delta: delta.slice(0, runs), total: t };
}

/**
 * `ctts` as runs, or undefined when every offset is 0. Version 1 is signed; version 0 is read signed too, as
 * writers put negative values there.
 */
function readCtts(b: Uint8Array, ctts: BoxHeader, base: number, count: number, trackId: number) {
  const at = base + ctts.start;
  const entries = entryCount(b, ctts, base, 8);
  const first = new Uint32Array(entries + 1);
  const value = new Int32Array(entries);
  let m = 0;
  let nonZero = false;
  let k = 0;
  for (let e = 0, p = ctts.payload + 8; e < entries; e++, p += 8) {
    const n = u32(b, p);
    if (n > count - k) throw corruptBox(CTTS, at, `entry ${e} runs past the ${count} samples of stsz (track ${trackId})`);
    if (n === 0) continue;
    const v = (b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7];
    if (v !== 0) nonZero = true;
    first[m] = k;
    value[m] = v;
    m++;
    k += n;
  }
  if (k !== count) throw corruptBox(CTTS, at, `describes ${k} samples, stsz has ${count} (track ${trackId})`);
  first[m] = k;
  return nonZero ? { first: first.subarray(0, m + 1), value: value.subarray(0, m) } : undefined;
}

/** `stss` as ascending 0-based sample numbers (sorted when a writer did not). */
function readStss(b: Uint8Array, stss: BoxHeader, base: number, count: number, trackId: number): Uint32Array {
  const entries = entryCount(b, stss, base, 4);
  const syncs = new Uint32Array(entries);
  let ascending = true;
  for (let e = 0, p = stss.payload + 8; e < entries; e++, p += 4) {
    const n = u32(b, p);
    if (n < 1 || n > count) throw corruptBox(STSS, base + stss.start, `entry ${e} names sample ${n}, track ${trackId} has ${count}`);
    syncs[e] = n - 1;
    if (e > 0 && syncs[e] <= syncs[e - 1]) ascending = false;
  }
  return ascending ? syncs : Uint32Array.from(new Set(syncs.sort()));
}

interface ChunkRuns {
  /** First chunk (0-based) of each stsc entry. */
  chunk: Uint32Array;
  /** Samples per chunk of each entry (0 for an entry that covers no chunk). */
  perChunk: Uint32Array;
  /** First sample of each entry, and the sample count at the end. */
  firstSample: Uint32Array;
}

/** `stsc`: runs of chunks with the same number of samples, checked against the chunk and sample counts. */
function readStsc(b: Uint8Array, stsc: BoxHeader, base: number, count: number, trackId: number, chunkCount: number): ChunkRuns {
  const entries = entryCount(b, stsc, base, 12);
  const at = base + stsc.start;
  const chunk = new Uint32Array(entries);
  const perChunkOf = new Uint32Array(entries);
  const firstSample = new Uint32Array(entries + 1);
  let k = 0;
  for (let e = 0, p = stsc.payload + 8; e < entries; e++, p += 12) {
    const first = u32(b, p);
    const perChunk = u32(b, p + 4);
    const nextFirst = e + 1 < entries ? u32(b, p + 12) : chunkCount + 1;
    if ((e === 0 && first !== 1) || first < 1 || nextFirst < first || nextFirst > chunkCount + 1) {
      throw corruptBox(STSC, at, `entry ${e} (first_chunk ${first}, next ${nextFirst}) is out of order or beyond the ${chunkCount} chunks (track ${trackId})`);
    }
    const chunks = nextFirst - first;
    if (perChunk > 0 && chunks > (count - k) / perChunk) {
      throw corruptBox(STSC, at, `entry ${e}: ${chunks} chunks of ${perChunk} samples run past the ${count} samples of stsz (track ${trackId})`);
    }
    chunk[e] = first - 1;
    perChunkOf[e] = chunks > 0 ? perChunk : 0;
    firstSample[e] = k;
    k += chunks * perChunk;
  }
  firstSample[entries] = k;
  if (k !== count) throw corruptBox(STSC, at, `chunks hold ${k} samples, stsz has ${count} (track ${trackId})`);
  return { chunk, perChunk: perChunkOf, firstSample };
}

/**
 * The bytes of every chunk's samples, added up, or −1 when a chunk's samples end beyond the file. One flat loop
 * over the samples, no loop nested in it: with a chunk per video sample and a few audio samples per chunk, V8's
 * on-stack replacement entered an inner per-chunk loop and deoptimised on every exit from it, thousands of times
 * per table (most of a never-seen asset's index time).
 */
function walkChunks(runs: ChunkRuns, chunkOffsets: ChunkOffsets, sizes: SampleSizes, fileSize: number): number {
  const count = sizes.count;
  if (count === 0) return 0;
  const stco = chunkOffsets.table32;
  const stsz = sizes.table;
  const entries = runs.perChunk.length;
  const perChunkOf = runs.perChunk;
  const firstChunk = runs.chunk;
  let e = 0;
  while (perChunkOf[e] === 0) e++; // samples exist (count > 0), so some entry holds them
  let entryEnd = e + 1 < entries ? firstChunk[e + 1] : chunkOffsets.count;
  let c = firstChunk[e];
  let left = perChunkOf[e];
  let start = stco !== undefined ? stco.getUint32(c * 4) : chunkOffsets.at(c);
  let off = start;
  let total = 0;
  let beyond = false;
  for (let i = 0; i < count; i++) {
    off += stsz !== undefined ? stsz.getUint32(i * 4) : sizes.at(i);
    if (--left > 0) continue;
    // The chunk is complete: check its end, then move to the next chunk (and stsc entry) if samples remain.
    beyond ||= off > fileSize;
    total += off - start;
    if (i + 1 === count) break;
    if (++c === entryEnd) {
      do e++;
      while (perChunkOf[e] === 0);
      entryEnd = e + 1 < entries ? firstChunk[e + 1] : chunkOffsets.count;
      c = firstChunk[e];
    }
    left = perChunkOf[e];
    start = stco !== undefined ? stco.getUint32(c * 4) : chunkOffsets.at(c);
    off = start;
  }
  return beyond ? -1 : total;
}

/** The first sample whose bytes end beyond the file (there is one: `walkChunks` said so). */
function firstSampleBeyond(
  runs: ChunkRuns,
  chunkOffsets: ChunkOffsets,
  sizes: SampleSizes,
  fileSize: number,
): { sample: number; size: number; offset: number } {
  const entries = runs.perChunk.length;
  for (let e = 0; e < entries; e++) {
    const perChunk = runs.perChunk[e];
    const end = e + 1 < entries ? runs.chunk[e + 1] : chunkOffsets.count;
    for (let c = runs.chunk[e], s = runs.firstSample[e]; perChunk > 0 && c < end; c++) {
      let off = chunkOffsets.at(c);
      for (let j = 0; j < perChunk; j++, s++) {
        const size = sizes.at(s);
        if (off + size > fileSize) return { sample: s, size, offset: off };
        off += size;
      }
    }
  }
  throw new RangeError('no sample runs past the end of the file');
}

/** `stz2` entries (4, 8 or 16 bits each) as sizes. */
function readStz2(b: Uint8Array, p: number, n: number, bits: number): Uint32Array {
  const out = new Uint32Array(n);
  if (bits === 16) {
    for (let i = 0; i < n; i++, p += 2) out[i] = (b[p] << 8) | b[p + 1];
  } else if (bits === 8) {
    for (let i = 0; i < n; i++) out[i] = b[p + i];
  } else {
    for (let i = 0; i < n; i++) out[i] = (b[p + (i >> 1)] >> ((i & 1) === 0 ? 4 : 0)) & 0x0f;
  }
  return out;
}
