/**
 * MPEG-2 transport stream segments for HLS (`format=m3u8-aapl`), ISO/IEC 13818-1. One track per segment: a
 * video-only or audio-only TS, HLS carries audio as separate renditions. Each segment is self-contained:
 * PAT, PMT, then one PES per video access unit (or per group of audio frames, at most 100 ms), every PES
 * starting a new TS packet and its last packet padded with adaptation-field stuffing.
 *
 * Timestamps: PTS = presentation time (dts + cts − editMediaTimeTicks, so the presentation starts at 0 as in the
 * fMP4 edit list) converted to 90 kHz, plus `TS_TIMESTAMP_OFFSET_90K` (10 s). The offset keeps DTS positive
 * when B-frames put the first DTS before the first PTS and keeps audio priming (presented before 0) positive;
 * every track uses the same offset so audio and video renditions stay in sync. Each tick value is converted on
 * its own (floor of ticks × 90000 / timescale), so consecutive segments continue exactly. DTS is written when it
 * differs from PTS; with negative composition offsets (ctts version 1) DTS is moved back by the track's most
 * negative offset so that DTS ≤ PTS always holds. PCR is on the track's own PID (the PMT's PCR_PID), in the first
 * packet of every PES, `TS_PCR_DELAY_90K` before that PES's DTS.
 *
 * Continuity counters: PAT and PMT appear once per segment, so their counter is `segment.index mod 16`, which
 * continues across consecutive segments. The elementary stream's counter starts at 0 in every segment and the
 * segment's packet count on that PID is padded to a multiple of 16 (by spreading the last PES over up to 15
 * extra packets that carry adaptation-field stuffing), so it always ends at 15: any segment may follow any other
 * (seeking, switching renditions) and the counter still continues, so no demuxer reports a continuity error.
 *
 * Two passes: the first sizes every PES and counts packets, the output is allocated once, the second writes.
 * Built for one track now, the stream description (PID, stream type, PES list) is per track so that muxing audio
 * and video into one TS is a matter of interleaving the PES lists by DTS.
 */
import { InternalError, MediaError } from '../../../../shared/errors.js';
import type { SampleRun, TrackIndex } from '../../model/media-index.js';
import type { TrackSegment } from '../../model/segment.js';
import { ADTS_HEADER_SIZE, ADTS_MAX_FRAME_SIZE, type AdtsConfig, readAdtsConfig, readEsds, writeAdtsHeader } from './adts.js';
import { type AnnexBConfig, annexBSize, readAnnexBConfig, writeAnnexB } from './annexb.js';

export interface TsMuxInput {
  track: TrackIndex;
  segment: TrackSegment;
  /** The bytes of each sample of the segment, in decode order (sample `segment.firstSample + i` at `i`). */
  samples: Uint8Array[];
  /** The segment's sample fields (`track.samples.run(…)`), when the caller has them already. */
  run?: SampleRun;
}

export interface TsMuxOptions {
  /** Added to every PTS, DTS and PCR, in 90 kHz ticks. Default `TS_TIMESTAMP_OFFSET_90K`. */
  timestampOffset90k?: number;
}

export const TS_PACKET_SIZE = 188;
/** 10 s: presentation time 0 is PTS 900000. */
export const TS_TIMESTAMP_OFFSET_90K = 900_000;
/** PCR runs 100 ms ahead of the decode time it announces, so the clock is never behind the data it carries. */
export const TS_PCR_DELAY_90K = 9_000;
export const TS_PMT_PID = 0x1000;
export const TS_VIDEO_PID = 0x100;
export const TS_AUDIO_PID = 0x101;

const TS_HEADER_SIZE = 4;
const TS_PAYLOAD_SIZE = TS_PACKET_SIZE - TS_HEADER_SIZE;
/** Adaptation field with PCR: length, flags, 6-byte PCR. */
const AF_WITH_PCR_SIZE = 8;
/** Adaptation field with flags only (random_access_indicator). */
const AF_FLAGS_ONLY_SIZE = 2;
const PES_HEADER_PTS_SIZE = 14;
const PES_HEADER_PTS_DTS_SIZE = 19;
const PES_MAX_PACKET_LENGTH = 0xffff;
const TIMESTAMP_MODULO = 2 ** 33;
const TWO_POW_30 = 2 ** 30;
const AUDIO_PES_MAX_SEC = 0.1;

const STREAM_TYPE_MPEG1_AUDIO = 0x03;
const STREAM_TYPE_MPEG2_AUDIO = 0x04;
const STREAM_TYPE_AAC_ADTS = 0x0f;
const STREAM_TYPE_H264 = 0x1b;
const STREAM_TYPE_HEVC = 0x24;
const STREAM_TYPE_AC3 = 0x81;
const STREAM_TYPE_EAC3 = 0x87;
const STREAM_ID_VIDEO = 0xe0;
const STREAM_ID_AUDIO = 0xc0;
const STREAM_ID_PRIVATE_1 = 0xbd;

type Payload = 'annexb' | 'adts' | 'raw';

/** One elementary stream of the TS: how its samples become PES payload and how the PMT describes it. */
interface TsStream {
  pid: number;
  streamType: number;
  streamId: number;
  /** ES_info descriptors for the PMT. */
  descriptors: Uint8Array;
  payload: Payload;
  annexB?: AnnexBConfig;
  adts?: AdtsConfig;
  isVideo: boolean;
}

/** The PES list of one stream for one segment, from the sizing pass (index p = p-th PES). */
interface PesPlan {
  count: number;
  firstSample: Int32Array;
  sampleCount: Int32Array;
  /** PES header + payload bytes. */
  length: Int32Array;
  headerSize: Uint8Array;
  packets: Int32Array;
  pts90k: Float64Array;
  dts90k: Float64Array;
  isRandomAccess: Uint8Array;
  totalPackets: number;
  maxLength: number;
}

/** Muxes one segment of one track into MPEG-TS. Returns the segment as one buffer (in a one-element list). */
export function muxTsSegment(input: TsMuxInput, options: TsMuxOptions = {}): Uint8Array[] {
  const { track, segment, samples } = input;
  const end = segment.firstSample + segment.sampleCount;
  if (segment.sampleCount < 1 || segment.firstSample < 0 || end > track.samples.count) {
    throw new InternalError('InternalError', `segment ${segment.index} has samples outside track ${track.trackId}`);
  }
  const run = input.run ?? track.samples.run(segment.firstSample, end);
  if (run.first !== segment.firstSample || run.count !== segment.sampleCount) {
    throw new InternalError('InternalError', `segment ${segment.index}: the sample run does not match the segment`);
  }
  if (samples.length !== segment.sampleCount) {
    throw new InternalError('InternalError', `segment ${segment.index}: ${samples.length} sample buffers for ${segment.sampleCount} samples`);
  }
  for (let i = 0; i < samples.length; i++) {
    if (samples[i].byteLength !== run.sizes[i]) {
      throw new InternalError(
        'InternalError',
        `segment ${segment.index}: sample ${segment.firstSample + i} has ${samples[i].byteLength} bytes, the index says ${run.sizes[i]}`,
      );
    }
  }
  const offset90k = options.timestampOffset90k ?? TS_TIMESTAMP_OFFSET_90K;
  const stream = describeStream(track);
  const plan = planPes(track, stream, run, samples, offset90k);
  padToFullCounterCycle(plan);

  const out = new Uint8Array((2 + plan.totalPackets) * TS_PACKET_SIZE);
  const psiCounter = segment.index & 0x0f;
  writePat(out, 0, psiCounter);
  writePmt(out, TS_PACKET_SIZE, psiCounter, stream.pid, [stream]);
  const scratch = new Uint8Array(plan.maxLength);
  let position = 2 * TS_PACKET_SIZE;
  let counter = 0;
  for (let p = 0; p < plan.count; p++) {
    const length = writePes(track, stream, plan, p, samples, run, scratch);
    position = packetize(out, position, stream.pid, counter, scratch, length, plan.packets[p], true, plan.dts90k[p], plan.isRandomAccess[p] === 1);
    counter = (counter + plan.packets[p]) & 0x0f;
  }
  if (position !== out.byteLength) {
    throw new InternalError('InternalError', `TS size mismatch: computed ${out.byteLength} bytes, wrote ${position}`);
  }
  return [out];
}

function describeStream(track: TrackIndex): TsStream {
  if (track.kind === 'video') {
    const annexB = readAnnexBConfig(track);
    return {
      pid: TS_VIDEO_PID,
      streamType: annexB.codec === 'hevc' ? STREAM_TYPE_HEVC : STREAM_TYPE_H264,
      streamId: STREAM_ID_VIDEO,
      descriptors: new Uint8Array(0),
      payload: 'annexb',
      annexB,
      isVideo: true,
    };
  }
  if (track.kind !== 'audio') {
    throw new MediaError(415, 'UnsupportedCodec', `Track ${track.trackId}: ${track.kind} tracks cannot be muxed into MPEG-TS`);
  }
  const language = languageDescriptor(track.language);
  if (track.fourcc === 'ac-3' || track.fourcc === 'ec-3') {
    const isAc3 = track.fourcc === 'ac-3';
    // Registration descriptor (ISO/IEC 13818-1 §2.6.8) naming the format, as ATSC A/52 Annex A and HLS expect.
    const registration = Uint8Array.of(0x05, 4, ...ascii(isAc3 ? 'AC-3' : 'EAC3'));
    return {
      pid: TS_AUDIO_PID,
      streamType: isAc3 ? STREAM_TYPE_AC3 : STREAM_TYPE_EAC3,
      streamId: STREAM_ID_PRIVATE_1,
      descriptors: concatBytes(registration, language),
      payload: 'raw',
      isVideo: false,
    };
  }
  if (track.fourcc === 'mp4a') {
    const esds = readEsds(track);
    if (esds.objectTypeIndication === 0x6b || esds.objectTypeIndication === 0x69) {
      return {
        pid: TS_AUDIO_PID,
        streamType: esds.objectTypeIndication === 0x6b ? STREAM_TYPE_MPEG1_AUDIO : STREAM_TYPE_MPEG2_AUDIO,
        streamId: STREAM_ID_AUDIO,
        descriptors: language,
        payload: 'raw',
        isVideo: false,
      };
    }
    return {
      pid: TS_AUDIO_PID,
      streamType: STREAM_TYPE_AAC_ADTS,
      streamId: STREAM_ID_AUDIO,
      descriptors: language,
      payload: 'adts',
      adts: readAdtsConfig(track),
      isVideo: false,
    };
  }
  throw new MediaError(415, 'UnsupportedCodec', `Track ${track.trackId}: '${track.fourcc}' audio cannot be muxed into MPEG-TS`);
}

/** ISO_639_language_descriptor (§2.6.18), empty for `und`. */
function languageDescriptor(language: string): Uint8Array {
  if (!/^[a-z]{3}$/.test(language) || language === 'und') return new Uint8Array(0);
  return Uint8Array.of(0x0a, 4, ...ascii(language), 0);
}

function ascii(text: string): number[] {
  const codes: number[] = [];
  for (let i = 0; i < text.length; i++) codes.push(text.charCodeAt(i));
  return codes;
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

/** Floor of ticks × 90000 / timescale, exact for any safe integer tick count (negative too). */
function ticksTo90k(ticks: number, timescale: number): number {
  if (timescale === 90_000) return ticks;
  const seconds = Math.floor(ticks / timescale);
  const rest = ticks - seconds * timescale;
  return seconds * 90_000 + Math.floor((rest * 90_000) / timescale);
}

function packetCount(pesLength: number, firstAdaptationSize: number): number {
  const firstCapacity = TS_PAYLOAD_SIZE - firstAdaptationSize;
  return pesLength <= firstCapacity ? 1 : 1 + Math.ceil((pesLength - firstCapacity) / TS_PAYLOAD_SIZE);
}

/** Sizing pass: splits the samples into PES packets and counts the TS packets each needs. */
function planPes(track: TrackIndex, stream: TsStream, run: SampleRun, samples: Uint8Array[], offset90k: number): PesPlan {
  const first = run.first;
  const sampleCount = run.count;
  const timescale = track.timescale;
  const edit = track.editMediaTimeTicks;
  const dtsShift = track.samples.minCtsOffset;
  const plan: PesPlan = {
    count: 0,
    firstSample: new Int32Array(sampleCount),
    sampleCount: new Int32Array(sampleCount),
    length: new Int32Array(sampleCount),
    headerSize: new Uint8Array(sampleCount),
    packets: new Int32Array(sampleCount),
    pts90k: new Float64Array(sampleCount),
    dts90k: new Float64Array(sampleCount),
    isRandomAccess: new Uint8Array(sampleCount),
    totalPackets: 0,
    maxLength: 0,
  };
  const maxAudioTicks = Math.max(1, Math.floor(timescale * AUDIO_PES_MAX_SEC));
  let j = 0;
  while (j < sampleCount) {
    const i = first + j;
    const p = plan.count++;
    const pts90k = offset90k + ticksTo90k(run.dts[j] + run.ctsOffsets[j] - edit, timescale);
    const dts90k = offset90k + ticksTo90k(run.dts[j] + dtsShift - edit, timescale);
    const headerSize = pts90k !== dts90k ? PES_HEADER_PTS_DTS_SIZE : PES_HEADER_PTS_SIZE;
    let payloadSize = 0;
    let frames = 0;
    if (stream.payload === 'annexb') {
      payloadSize = annexBSize(track, stream.annexB!, samples[j], run.isSync[j] === 1, i);
      frames = 1;
    } else {
      // Audio: whole frames while the PES stays within 100 ms and PES_packet_length's 16 bits.
      const overhead = stream.payload === 'adts' ? ADTS_HEADER_SIZE : 0;
      let ticks = 0;
      while (j + frames < sampleCount) {
        const frameSize = overhead + samples[j + frames].byteLength;
        const frameTicks = run.durations[j + frames];
        if (frames > 0 && (ticks + frameTicks > maxAudioTicks || headerSize - 6 + payloadSize + frameSize > PES_MAX_PACKET_LENGTH)) break;
        if (stream.payload === 'adts' && frameSize > ADTS_MAX_FRAME_SIZE) {
          throw new MediaError(422, 'CorruptMedia', `Track ${track.trackId}: AAC sample ${i + frames} is too large for ADTS (${frameSize} bytes)`);
        }
        payloadSize += frameSize;
        ticks += frameTicks;
        frames++;
      }
    }
    const length = headerSize + payloadSize;
    plan.firstSample[p] = j;
    plan.sampleCount[p] = frames;
    plan.length[p] = length;
    plan.headerSize[p] = headerSize;
    plan.pts90k[p] = pts90k;
    plan.dts90k[p] = dts90k;
    plan.isRandomAccess[p] = run.isSync[j];
    plan.packets[p] = packetCount(length, AF_WITH_PCR_SIZE);
    plan.totalPackets += plan.packets[p];
    if (length > plan.maxLength) plan.maxLength = length;
    j += frames;
  }
  return plan;
}

/**
 * Adds packets so that the stream's packet count is a multiple of 16 and its continuity counter, started at 0,
 * ends the segment at 15. Extra packets go to the last PES (then earlier ones), each carrying at least one
 * payload byte (a packet without payload does not advance the counter, §2.4.3.3), never splitting a PES header.
 */
function padToFullCounterCycle(plan: PesPlan): void {
  let missing = (16 - (plan.totalPackets & 0x0f)) & 0x0f;
  for (let p = plan.count - 1; p >= 0 && missing > 0; p--) {
    const maxPackets = plan.length[p] - plan.headerSize[p] + 1;
    const added = Math.min(missing, maxPackets - plan.packets[p]);
    if (added <= 0) continue;
    plan.packets[p] += added;
    plan.totalPackets += added;
    missing -= added;
  }
}

/** Writes PES `p` (header and payload) into `scratch`; returns its length. */
function writePes(track: TrackIndex, stream: TsStream, plan: PesPlan, p: number, samples: Uint8Array[], run: SampleRun, scratch: Uint8Array): number {
  const length = plan.length[p];
  const headerSize = plan.headerSize[p];
  const hasDts = headerSize === PES_HEADER_PTS_DTS_SIZE;
  const packetLength = length - 6;
  scratch[0] = 0;
  scratch[1] = 0;
  scratch[2] = 1;
  scratch[3] = stream.streamId;
  // PES_packet_length 0 (unbounded) is allowed for video only (§2.4.3.7); audio PES are kept below 64 KiB.
  const writtenLength = packetLength <= PES_MAX_PACKET_LENGTH ? packetLength : 0;
  scratch[4] = writtenLength >> 8;
  scratch[5] = writtenLength & 0xff;
  scratch[6] = 0x84; // '10', data_alignment_indicator: the PES starts with an access unit
  scratch[7] = hasDts ? 0xc0 : 0x80;
  scratch[8] = headerSize - 9;
  writeTimestamp(scratch, 9, hasDts ? 0x3 : 0x2, plan.pts90k[p]);
  if (hasDts) writeTimestamp(scratch, 14, 0x1, plan.dts90k[p]);

  let position = headerSize;
  const j0 = plan.firstSample[p];
  const frames = plan.sampleCount[p];
  const isSync = run.isSync;
  for (let f = 0; f < frames; f++) {
    const sample = samples[j0 + f];
    if (stream.payload === 'annexb') {
      position = writeAnnexB(stream.annexB!, sample, isSync[j0 + f] === 1, scratch, position);
    } else {
      if (stream.payload === 'adts') {
        writeAdtsHeader(stream.adts!, sample.byteLength, scratch, position);
        position += ADTS_HEADER_SIZE;
      }
      scratch.set(sample, position);
      position += sample.byteLength;
    }
  }
  if (position !== length) {
    throw new InternalError('InternalError', `PES size mismatch in track ${track.trackId}: computed ${length} bytes, wrote ${position}`);
  }
  return length;
}

/** A 33-bit PTS or DTS in the 5-byte PES layout (§2.4.3.7), after its 4-bit prefix. */
function writeTimestamp(out: Uint8Array, at: number, prefix: number, value90k: number): void {
  const v = ((value90k % TIMESTAMP_MODULO) + TIMESTAMP_MODULO) % TIMESTAMP_MODULO;
  const high = Math.floor(v / TWO_POW_30); // bits 32..30
  const low = v % TWO_POW_30; // bits 29..0
  out[at] = (prefix << 4) | (high << 1) | 1;
  out[at + 1] = (low >>> 22) & 0xff;
  out[at + 2] = (((low >>> 15) & 0x7f) << 1) | 1;
  out[at + 3] = (low >>> 7) & 0xff;
  out[at + 4] = ((low & 0x7f) << 1) | 1;
}

/** program_clock_reference_base (33 bits), 6 reserved bits, extension 0 (§2.4.3.5). */
function writePcr(out: Uint8Array, at: number, base90k: number): void {
  const v = ((base90k % TIMESTAMP_MODULO) + TIMESTAMP_MODULO) % TIMESTAMP_MODULO;
  const high = Math.floor(v / 2); // bits 32..1
  out[at] = (high >>> 24) & 0xff;
  out[at + 1] = (high >>> 16) & 0xff;
  out[at + 2] = (high >>> 8) & 0xff;
  out[at + 3] = high & 0xff;
  out[at + 4] = ((v % 2) << 7) | 0x7e;
  out[at + 5] = 0;
}

/**
 * Splits one PES over `packets` TS packets: early packets full, every later one with at least one payload byte,
 * the rest of a packet filled with adaptation-field stuffing. The first packet carries PUSI and the adaptation
 * field with the PCR and random_access_indicator. Returns the position after the last packet.
 */
function packetize(
  out: Uint8Array,
  start: number,
  pid: number,
  firstCounter: number,
  pes: Uint8Array,
  length: number,
  packets: number,
  hasPcr: boolean,
  dts90k: number,
  isRandomAccess: boolean,
): number {
  const firstFlagsSize = hasPcr ? AF_WITH_PCR_SIZE : isRandomAccess ? AF_FLAGS_ONLY_SIZE : 0;
  let position = start;
  let source = 0;
  let counter = firstCounter;
  for (let k = 0; k < packets; k++) {
    const flagsSize = k === 0 ? firstFlagsSize : 0;
    const payload = Math.min(TS_PAYLOAD_SIZE - flagsSize, length - source - (packets - 1 - k));
    const adaptationSize = TS_PAYLOAD_SIZE - payload;
    out[position] = 0x47;
    out[position + 1] = (k === 0 ? 0x40 : 0) | ((pid >> 8) & 0x1f);
    out[position + 2] = pid & 0xff;
    out[position + 3] = (adaptationSize > 0 ? 0x30 : 0x10) | counter;
    counter = (counter + 1) & 0x0f;
    let at = position + TS_HEADER_SIZE;
    if (adaptationSize > 0) {
      const adaptationEnd = at + adaptationSize;
      out[at++] = adaptationSize - 1; // adaptation_field_length
      if (adaptationSize > 1) {
        let flags = 0;
        if (k === 0 && isRandomAccess) flags |= 0x40;
        if (k === 0 && hasPcr) flags |= 0x10;
        out[at++] = flags;
        if (k === 0 && hasPcr) {
          writePcr(out, at, dts90k - TS_PCR_DELAY_90K);
          at += 6;
        }
        out.fill(0xff, at, adaptationEnd);
        at = adaptationEnd;
      }
    }
    out.set(pes.subarray(source, source + payload), at);
    source += payload;
    position += TS_PACKET_SIZE;
  }
  if (source !== length) throw new InternalError('InternalError', `PES of ${length} bytes did not fit ${packets} TS packets`);
  return position;
}

/** PAT (§2.4.4.3): program 1 on `TS_PMT_PID`. */
function writePat(out: Uint8Array, at: number, counter: number): void {
  const section = Uint8Array.of(
    0x00, // table_id
    0xb0,
    13, // section_syntax_indicator, section_length
    0x00,
    0x01, // transport_stream_id
    0xc1, // version 0, current_next_indicator
    0x00,
    0x00, // section_number, last_section_number
    0x00,
    0x01, // program_number
    0xe0 | (TS_PMT_PID >> 8),
    TS_PMT_PID & 0xff,
  );
  writePsiPacket(out, at, 0, counter, section);
}

/** PMT (§2.4.4.8) of program 1 listing `streams`, with the PCR on `pcrPid`. */
function writePmt(out: Uint8Array, at: number, counter: number, pcrPid: number, streams: TsStream[]): void {
  let esLoopSize = 0;
  for (let i = 0; i < streams.length; i++) esLoopSize += 5 + streams[i].descriptors.byteLength;
  const sectionLength = 9 + esLoopSize + 4;
  const section = new Uint8Array(3 + sectionLength - 4);
  section[0] = 0x02; // table_id
  section[1] = 0xb0 | (sectionLength >> 8);
  section[2] = sectionLength & 0xff;
  section[3] = 0x00;
  section[4] = 0x01; // program_number
  section[5] = 0xc1; // version 0, current_next_indicator
  section[6] = 0x00;
  section[7] = 0x00;
  section[8] = 0xe0 | (pcrPid >> 8);
  section[9] = pcrPid & 0xff;
  section[10] = 0xf0; // program_info_length 0
  section[11] = 0x00;
  let p = 12;
  for (let i = 0; i < streams.length; i++) {
    const s = streams[i];
    section[p] = s.streamType;
    section[p + 1] = 0xe0 | (s.pid >> 8);
    section[p + 2] = s.pid & 0xff;
    section[p + 3] = 0xf0 | (s.descriptors.byteLength >> 8);
    section[p + 4] = s.descriptors.byteLength & 0xff;
    section.set(s.descriptors, p + 5);
    p += 5 + s.descriptors.byteLength;
  }
  writePsiPacket(out, at, TS_PMT_PID, counter, section);
}

/** One TS packet holding a whole PSI section (pointer_field 0, CRC_32 appended, 0xFF stuffing). */
function writePsiPacket(out: Uint8Array, at: number, pid: number, counter: number, section: Uint8Array): void {
  if (5 + section.byteLength + 4 > TS_PACKET_SIZE) throw new InternalError('InternalError', 'PSI section does not fit one TS packet');
  out[at] = 0x47;
  out[at + 1] = 0x40 | (pid >> 8);
  out[at + 2] = pid & 0xff;
  out[at + 3] = 0x10 | counter;
  out[at + 4] = 0; // pointer_field
  out.set(section, at + 5);
  const crc = crc32Mpeg2(section);
  let p = at + 5 + section.byteLength;
  out[p++] = crc >>> 24;
  out[p++] = (crc >>> 16) & 0xff;
  out[p++] = (crc >>> 8) & 0xff;
  out[p++] = crc & 0xff;
  out.fill(0xff, p, at + TS_PACKET_SIZE);
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = (c & 0x80000000) !== 0 ? (c << 1) ^ 0x04c11db7 : c << 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** CRC-32/MPEG-2 (§Annex A): polynomial 0x04C11DB7, initial 0xFFFFFFFF, no reflection, no final xor. */
function crc32Mpeg2(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.byteLength; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ bytes[i]) & 0xff]) >>> 0;
  return crc >>> 0;
}
