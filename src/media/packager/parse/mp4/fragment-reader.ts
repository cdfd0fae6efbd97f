/**
 * Samples of a fragmented MP4 (ISO/IEC 14496-12 §8.8): `trex` defaults from `moov/mvex`, then each `moof`'s
 * `traf`s (`tfhd`, `tfdt` or PIFF 1.1 §5.2.2 `tfxd`, `trun`s) appended to their track in growable typed arrays.
 * No `mdat` payload is ever read; every run is bounded by the file size before anything is allocated.
 */
import type { TrackKind } from '../../model/media-index.js';
import type { SampleRun, SampleTable } from '../../model/sample-table.js';
import { MAX_SAMPLES_PER_TRACK } from './stbl-sample-table.js';
import {
  TFDT,
  TFHD,
  TRAF,
  TREX,
  TRUN,
  UUID,
  childBoxes,
  corruptBox,
  firstBox,
  needPayload,
  readBoxHeader,
  readI32,
  readI64,
  readU24,
  readU32,
  readU64,
  readU8,
  type BoxHeader,
} from './boxes.js';

/** A `trun` with more samples than this (hours of media in one run) is treated as corrupt. */
const MAX_SAMPLES_PER_RUN = 1 << 22;

/** `trun`/`tfhd` sample_flags bit `sample_is_non_sync_sample` (ISO/IEC 14496-12 §8.8.3.1). */
const SAMPLE_IS_NON_SYNC = 0x00010000;

/** PIFF `tfxd` extended type 6d1d9b05-42d5-44e6-80e2-141daff757b2 (fragment absolute time in ISMV). */
const TFXD_UUID = [0x6d, 0x1d, 0x9b, 0x05, 0x42, 0xd5, 0x44, 0xe6, 0x80, 0xe2, 0x14, 0x1d, 0xaf, 0xf7, 0x57, 0xb2];
/** Samples collected from `moof`s, in growable typed arrays (doubling, so appends are amortised O(1)). */
export type FragmentSamples = Omit<SampleRun, 'first'>;

/** `trex` defaults for one track (ISO/IEC 14496-12 §8.8.3). */
interface TrackExtends {
  duration: number;
  size: number;
  flags: number;
}
/** What the fragment reader reads and extends of a track found in `moov`. */
export interface FragmentTrack {
  kind: TrackKind;
  /** Samples described by `stbl` (count 0 in a typical fragmented file). */
  moovSamples: SampleTable;
  frag: FragmentSamples | undefined;
  /** Decode time (un-normalised, track ticks) of the next fragment sample when a fragment carries no time. */
  nextDts: number;
}

/** Reads `mvex` once, then every `moof` in file order, into the tracks of `tracks` (by track_ID). */
export class FragmentReader {
  private readonly trexById = new Map<number, TrackExtends>();
  /** Sum of the sizes of every fragment sample so far, all tracks. */
  private fragmentBytes = 0;

  constructor(
    private readonly fileSize: number,
    private readonly tracks: ReadonlyMap<number, FragmentTrack>,
  ) {}

  /** The `trex` boxes of `moov/mvex`. */
  readMvex(b: Uint8Array, mvex: BoxHeader, base: number): void {
    const trexes = childBoxes(b, mvex.payload, mvex.end, base);
    for (let j = 0; j < trexes.length; j++) {
      const t = trexes[j];
      if (t.type !== TREX) continue;
      needPayload(t, base, 24);
      this.trexById.set(readU32(b, t.payload + 4), {
        duration: readU32(b, t.payload + 12),
        size: readU32(b, t.payload + 16),
        flags: readU32(b, t.payload + 20),
      });
    }
  }

  /** The `moof` box at `start` (whole in `b`). */
  readMoof(b: Uint8Array, start: number, base: number): void {
    const moof = readBoxHeader(b, start, b.length, base)!;
    const moofOffset = base + moof.start;
    const kids = childBoxes(b, moof.payload, moof.end, base);
    let prevTrafDataEnd = moofOffset;
    let firstTraf = true;
    for (let i = 0; i < kids.length; i++) {
      if (kids[i].type !== TRAF) continue;
      prevTrafDataEnd = this.readTraf(b, kids[i], base, moofOffset, firstTraf ? moofOffset : prevTrafDataEnd);
      firstTraf = false;
    }
  }

  /** Appends one `traf`'s samples to its track; returns where its data ends (the implicit base of the next traf). */
  private readTraf(b: Uint8Array, traf: BoxHeader, base: number, moofOffset: number, implicitBase: number): number {
    const fileSize = this.fileSize;
    const kids = childBoxes(b, traf.payload, traf.end, base);
    const tfhd = firstBox(kids, TFHD);
    if (tfhd === undefined) throw corruptBox(TRAF, base + traf.start, 'no tfhd box');
    needPayload(tfhd, base, 8);
    const tfhdFlags = readU24(b, tfhd.payload + 1);
    const trackId = readU32(b, tfhd.payload + 4);
    const trex = this.trexById.get(trackId);
    let p = tfhd.payload + 8;
    let fieldBytes = 0;
    if (tfhdFlags & 0x01) fieldBytes += 8;
    if (tfhdFlags & 0x02) fieldBytes += 4;
    if (tfhdFlags & 0x08) fieldBytes += 4;
    if (tfhdFlags & 0x10) fieldBytes += 4;
    if (tfhdFlags & 0x20) fieldBytes += 4;
    needPayload(tfhd, base, 8 + fieldBytes);
    let dataBase = tfhdFlags & 0x020000 ? moofOffset : implicitBase; // default-base-is-moof
    if (tfhdFlags & 0x01) {
      dataBase = readU64(b, p);
      p += 8;
    } // base-data-offset
    if (tfhdFlags & 0x02) p += 4; // sample-description-index: the packager serves the first entry only
    let defDuration = trex !== undefined ? trex.duration : 0;
    let defSize = trex !== undefined ? trex.size : 0;
    let defFlags = trex !== undefined ? trex.flags : 0;
    if (tfhdFlags & 0x08) {
      defDuration = readU32(b, p);
      p += 4;
    }
    if (tfhdFlags & 0x10) {
      defSize = readU32(b, p);
      p += 4;
    }
    if (tfhdFlags & 0x20) {
      defFlags = readU32(b, p);
      p += 4;
    }

    const draft = this.tracks.get(trackId);
    let dts = draft !== undefined ? draft.nextDts : 0;
    let timed = false;
    for (let i = 0; i < kids.length; i++) {
      const k = kids[i];
      if (k.type === TFDT) {
        const v1 = readU8(b, k.payload) === 1;
        needPayload(k, base, v1 ? 12 : 8);
        dts = v1 ? readU64(b, k.payload + 4) : readU32(b, k.payload + 4);
        timed = true;
        break;
      }
    }
    if (!timed) {
      // ISMV (PIFF) carries the fragment's time in a tfxd uuid box instead of tfdt; it may be negative (priming).
      for (let i = 0; i < kids.length; i++) {
        const k = kids[i];
        if (k.type !== UUID || !isTfxd(b, k)) continue;
        const v1 = readU8(b, k.payload + 16) === 1;
        needPayload(k, base, v1 ? 36 : 28);
        dts = v1 ? readI64(b, k.payload + 20) : readU32(b, k.payload + 20);
        break;
      }
    }
    const frag = draft !== undefined ? fragmentsOf(draft) : undefined;
    if (frag !== undefined && frag.count > 0 && dts < frag.dts[frag.count - 1]) {
      throw corruptBox(
        TRAF,
        base + traf.start,
        `track ${trackId}: fragment decode time ${dts} goes back before sample ${frag.count - 1} (${frag.dts[frag.count - 1]})`,
      );
    }
    if (draft !== undefined && draft.moovSamples.count > 0 && dts < draft.nextDts && frag!.count === 0) {
      throw corruptBox(TRAF, base + traf.start, `track ${trackId}: fragment decode time ${dts} overlaps the samples in moov (end ${draft.nextDts})`);
    }

    let dataEnd = dataBase;
    let firstRun = true;
    for (let i = 0; i < kids.length; i++) {
      const trun = kids[i];
      if (trun.type !== TRUN) continue;
      needPayload(trun, base, 8);
      const flags = readU24(b, trun.payload + 1);
      const n = readU32(b, trun.payload + 4);
      let q = trun.payload + 8;
      let dataOffset = firstRun ? dataBase : dataEnd;
      if (flags & 0x01) {
        needPayload(trun, base, q - trun.payload + 4);
        dataOffset = dataBase + readI32(b, q);
        q += 4;
      }
      let firstFlags = -1;
      if (flags & 0x04) {
        needPayload(trun, base, q - trun.payload + 4);
        firstFlags = readU32(b, q);
        q += 4;
      }
      const hasDuration = (flags & 0x100) !== 0;
      const hasSize = (flags & 0x200) !== 0;
      const hasFlags = (flags & 0x400) !== 0;
      const hasCts = (flags & 0x800) !== 0;
      const stride = 4 * ((hasDuration ? 1 : 0) + (hasSize ? 1 : 0) + (hasFlags ? 1 : 0) + (hasCts ? 1 : 0));
      const trunAt = base + trun.start;
      if (n > MAX_SAMPLES_PER_RUN) throw corruptBox(TRUN, trunAt, `sample_count ${n} is absurd`);
      if (q + n * stride > trun.end) throw corruptBox(TRUN, trunAt, `${n} samples of ${stride} bytes do not fit in the box (${trun.end - q} bytes left)`);
      // Runs without per-sample sizes cost 12 bytes however many samples they claim: bound them by the file
      // (all fragments together cannot hold more sample bytes than the file) before allocating anything.
      if (!hasSize && defSize === 0 && n > 1) throw corruptBox(TRUN, trunAt, `${n} samples of 0 bytes`);
      if (!hasSize && this.fragmentBytes + n * defSize > fileSize)
        throw corruptBox(TRUN, trunAt, `${n} samples of ${defSize} bytes exceed the file (${fileSize} bytes)`);
      if (dataOffset < 0) throw corruptBox(TRUN, trunAt, `data offset ${dataOffset} is before the start of the file`);
      let k = 0;
      if (frag !== undefined) {
        if (frag.count + n > MAX_SAMPLES_PER_TRACK) throw corruptBox(TRUN, trunAt, `track ${trackId} has more than ${MAX_SAMPLES_PER_TRACK} samples`);
        growFragments(frag, n);
        k = frag.count;
      }
      let off = dataOffset;
      for (let s = 0; s < n; s++) {
        const duration = hasDuration ? readU32(b, q) : defDuration;
        if (hasDuration) q += 4;
        const size = hasSize ? readU32(b, q) : defSize;
        if (hasSize) q += 4;
        const sampleFlags = hasFlags ? readU32(b, q) : s === 0 && firstFlags !== -1 ? firstFlags : defFlags;
        if (hasFlags) q += 4;
        const cts = hasCts ? readI32(b, q) : 0; // version 0 is unsigned, but offsets ≥ 2^31 ticks never occur
        if (hasCts) q += 4;
        if (off + size > fileSize) {
          throw corruptBox(TRUN, trunAt, `track ${trackId} sample ${s} (${size} bytes at offset ${off}) runs past the end of the file (${fileSize} bytes)`);
        }
        if (frag !== undefined) {
          frag.offsets[k] = off;
          frag.sizes[k] = size;
          frag.dts[k] = dts;
          frag.durations[k] = duration;
          frag.ctsOffsets[k] = cts;
          frag.isSync[k] = (sampleFlags & SAMPLE_IS_NON_SYNC) === 0 ? 1 : 0;
          k++;
        }
        off += size;
        dts += duration;
      }
      if (frag !== undefined) frag.count = k;
      this.fragmentBytes += off - dataOffset;
      if (this.fragmentBytes > fileSize)
        throw corruptBox(TRUN, trunAt, `fragments describe ${this.fragmentBytes} bytes of samples, more than the file holds (${fileSize} bytes)`);
      dataEnd = off;
      firstRun = false;
    }
    if (draft !== undefined) draft.nextDts = dts;
    return dataEnd;
  }
}

function isTfxd(b: Uint8Array, h: BoxHeader): boolean {
  if (h.end - h.payload < 16) return false;
  for (let i = 0; i < 16; i++) if (b[h.payload + i] !== TFXD_UUID[i]) return false;
  return true;
}

function fragmentsOf(d: FragmentTrack): FragmentSamples {
  if (d.frag === undefined) {
    d.frag = {
      count: 0,
      offsets: new Float64Array(0),
      sizes: new Uint32Array(0),
      dts: new Float64Array(0),
      durations: new Uint32Array(0),
      ctsOffsets: new Int32Array(0),
      isSync: new Uint8Array(0),
    };
  }
  return d.frag;
}

function growFragments(f: FragmentSamples, more: number): void {
  const needed = f.count + more;
  if (needed <= f.offsets.length) return;
  const cap = Math.max(needed, f.offsets.length * 2, 256);
  const offsets = new Float64Array(cap);
  offsets.set(f.offsets.subarray(0, f.count));
  f.offsets = offsets;
  const sizes = new Uint32Array(cap);
  sizes.set(f.sizes.subarray(0, f.count));
  f.sizes = sizes;
  const dts = new Float64Array(cap);
  dts.set(f.dts.subarray(0, f.count));
  f.dts = dts;
  const durations = new Uint32Array(cap);
  durations.set(f.durations.subarray(0, f.count));
  f.durations = durations;
  const cts = new Int32Array(cap);
  cts.set(f.ctsOffsets.subarray(0, f.count));
  f.ctsOffsets = cts;
  const sync = new Uint8Array(cap);
  sync.set(f.isSync.subarray(0, f.count));
  f.isSync = sync;
}
