/**
 * FLV tags (RTMP message bodies, or ffmpeg's `-f flv` output) → codec configuration and samples. H.264
 * (`AVCVIDEOPACKET`, codec id 7, or enhanced RTMP FourCC `avc1`), H.265 (enhanced RTMP FourCC `hvc1`/`hev1`, or
 * the non-standard codec id 12 some encoders send) and AAC (`AACAUDIODATA`, sound format 10) are taken; anything
 * else is reported once per kind so the event can say why a stream shows no picture.
 *
 * The sample entries are built here (ISO/IEC 14496-12 §12.1.3 / §12.2.3 with `avcC` from ISO/IEC 14496-15 §5.3.3,
 * `hvcC` from §8.3.3 in hevc-config.ts and `esds` from ISO/IEC 14496-1 §7.2.6), because the packager copies
 * `TrackIndex.sampleEntry` verbatim into init segments: what is built here is what players see.
 */
import { MediaError } from '../../../shared/errors.js';
import type { FlvTag } from '../ingest/ingest-contracts.js';
import { hevcConfig } from './hevc-config.js';
import { BitReader, nalRbsp, visualSampleEntry } from './sample-entry-parts.js';

/** What a track's init segment needs: a sample entry box and the figures manifests advertise. */
export interface TrackCodecConfig {
  kind: 'video' | 'audio';
  fourcc: 'avc1' | 'hvc1' | 'hev1' | 'mp4a';
  /** RFC 6381 codecs string (`avc1.64001f`, `hvc1.1.6.L93.B0`, `mp4a.40.2`). */
  codecs: string;
  /** Ticks per second of the track: 90000 for video, the sample rate for audio. */
  timescale: number;
  /** The complete `avc1`, `hvc1`/`hev1` or `mp4a` box. */
  sampleEntry: Uint8Array;
  video?: { width: number; height: number };
  audio?: { channels: number; sampleRate: number; aacObjectType: number };
}

/** One coded frame as the tag carried it; times still in the encoder's milliseconds. */
export interface FlvSample {
  kind: 'video' | 'audio';
  /** The tag timestamp (decode time), ms, as sent. */
  dtsMs: number;
  /** Presentation − decode time, ms (CompositionTime, signed 24 bits); 0 for audio. */
  ctsMs: number;
  isSync: boolean;
  /** Length-prefixed NAL units (H.264/H.265, as in MP4) or one raw AAC frame: a view of the tag body. */
  data: Uint8Array;
}

export type FlvMedia = { config: TrackCodecConfig } | { sample: FlvSample } | undefined;

/** Video timescale: FLV milliseconds × 90, the MPEG clock. */
export const videoTimescale = 90_000;
/** Samples per AAC frame (AAC-LC; HE-AAC's SBR doubles the output rate but the core frame is still 1024). */
export const aacFrameSamples = 1024;

/**
 * Reads one tag. Returns a codec configuration (sequence headers), a sample, or undefined for what carries
 * nothing to keep (script data, end-of-sequence, metadata, empty frames). Throws `MediaError` 415 for codecs other
 * than H.264/H.265/AAC; the caller reports it and skips that kind.
 */
export function readFlvTag(tag: FlvTag): FlvMedia {
  const d = tag.data;
  if (tag.type === 18 || d.byteLength === 0) return undefined;
  if (tag.type === 9) return (d[0] & 0x80) !== 0 ? readEnhancedVideo(tag) : readLegacyVideo(tag);
  const format = d[0] >> 4;
  if (format !== 10) throw new MediaError(415, 'UnsupportedLiveCodec', `audio sound format ${format} is not AAC; live events take AAC audio`);
  if (d.byteLength < 2) return undefined;
  if (d[1] === 0) return { config: aacConfig(d.subarray(2)) };
  const data = d.subarray(2);
  if (data.byteLength === 0) return undefined;
  return { sample: { kind: 'audio', dtsMs: tag.timestampMs, ctsMs: 0, isSync: true, data } };
}

const notTaken = (what: string) =>
  new MediaError(415, 'UnsupportedLiveCodec', `video codec ${what} is not H.264 or H.265; live events take H.264 or H.265 video`);

/** Signed 24-bit big-endian (CompositionTime) at `at`. */
const si24 = (d: Uint8Array, at: number) => (((d[at] << 16) | (d[at + 1] << 8) | d[at + 2]) << 8) >> 8;

function videoSample(tag: FlvTag, frameType: number, ctsMs: number, data: Uint8Array): FlvMedia {
  if (data.byteLength === 0) return undefined;
  return { sample: { kind: 'video', dtsMs: tag.timestampMs, ctsMs, isSync: frameType === 1, data } };
}

/**
 * A legacy VideoTagHeader: frame type (high nibble), codec id (low nibble), then for AVC (7) and the
 * non-standard HEVC id 12 some encoders send: packet type, composition time (SI24), payload.
 */
function readLegacyVideo(tag: FlvTag): FlvMedia {
  const d = tag.data;
  const frameType = d[0] >> 4;
  const codecId = d[0] & 0x0f;
  if (codecId !== 7 && codecId !== 12) throw notTaken(`id ${codecId}`);
  if (frameType === 5 || d.byteLength < 5) return undefined; // video info/command frame
  const packetType = d[1];
  if (packetType === 0) return { config: codecId === 7 ? avcConfig(d.subarray(5)) : hevcConfig(d.subarray(5)) };
  if (packetType !== 1) return undefined; // 2: end of sequence
  return videoSample(tag, frameType, si24(d, 2), d.subarray(5));
}

/** Enhanced RTMP PacketType values (Veovera Enhanced RTMP v1; 7 is v2's ModEx prefix). */
const exSequenceStart = 0;
const exCodedFrames = 1;
const exCodedFramesX = 3;
const exMetadata = 4;
const exMultitrack = 6;
const exModEx = 7;

/**
 * An enhanced RTMP video tag (IsExHeader set): frame type in bits 4–6, PacketType in the low nibble, then the
 * codec's FourCC. SequenceStart carries the decoder configuration record, CodedFrames a SI24 composition time
 * and the frame, CodedFramesX the frame alone (composition time 0). SequenceEnd, Metadata (HDR colour info) and
 * MPEG2TSSequenceStart carry nothing a track keeps. v2's ModEx prefixes (a nanosecond timestamp offset) are
 * skipped; v2 multitrack packets are refused.
 */
function readEnhancedVideo(tag: FlvTag): FlvMedia {
  const d = tag.data;
  const frameType = (d[0] >> 4) & 0x07;
  let packetType = d[0] & 0x0f;
  let at = 1;
  while (packetType === exModEx) {
    // ModEx: UI8 size − 1 (256: a UI16 size − 1 follows), the data, then modExType (high nibble) | packetType.
    if (at + 1 > d.byteLength) return undefined;
    let size = d[at++] + 1;
    if (size === 256) {
      if (at + 2 > d.byteLength) return undefined;
      size = ((d[at] << 8) | d[at + 1]) + 1;
      at += 2;
    }
    at += size;
    if (at + 1 > d.byteLength) return undefined;
    packetType = d[at++] & 0x0f;
  }
  if (packetType === exMultitrack) throw notTaken('in an enhanced RTMP multitrack packet');
  if (at + 4 > d.byteLength) return undefined;
  const fourcc = String.fromCharCode(d[at], d[at + 1], d[at + 2], d[at + 3]);
  at += 4;
  if (fourcc !== 'hvc1' && fourcc !== 'hev1' && fourcc !== 'avc1') throw notTaken(`'${fourcc}' (enhanced RTMP)`);
  if (frameType === 5 && packetType !== exMetadata) return undefined; // command frame
  if (packetType === exSequenceStart) {
    const record = d.subarray(at);
    return { config: fourcc === 'avc1' ? avcConfig(record) : hevcConfig(record, fourcc) };
  }
  if (packetType === exCodedFrames) {
    if (at + 3 > d.byteLength) return undefined;
    return videoSample(tag, frameType, si24(d, at), d.subarray(at + 3));
  }
  if (packetType === exCodedFramesX) return videoSample(tag, frameType, 0, d.subarray(at));
  return undefined;
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/** `avc1` + `avcC` from an AVCDecoderConfigurationRecord; dimensions from its first SPS. */
export function avcConfig(record: Uint8Array): TrackCodecConfig {
  if (record.byteLength < 7 || record[0] !== 1) throw new MediaError(422, 'CorruptLiveStream', 'AVC sequence header is not an AVCDecoderConfigurationRecord');
  const spsCount = record[5] & 0x1f;
  if (spsCount === 0) throw new MediaError(422, 'CorruptLiveStream', 'AVC sequence header holds no SPS');
  const spsLength = (record[6] << 8) | record[7];
  if (8 + spsLength > record.byteLength) throw new MediaError(422, 'CorruptLiveStream', 'AVC sequence header SPS is truncated');
  const { width, height } = spsDimensions(record.subarray(8, 8 + spsLength));
  return {
    kind: 'video',
    fourcc: 'avc1',
    codecs: `avc1.${hex2(record[1])}${hex2(record[2])}${hex2(record[3])}`,
    timescale: videoTimescale,
    sampleEntry: visualSampleEntry('avc1', width, height, 'avcC', record),
    video: { width, height },
  };
}

const aacRates = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** `mp4a` + `esds` from an AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1). */
export function aacConfig(asc: Uint8Array): TrackCodecConfig {
  if (asc.byteLength < 2 || asc.byteLength > 100) throw new MediaError(422, 'CorruptLiveStream', 'AAC sequence header is not an AudioSpecificConfig');
  const bits = new BitReader(asc);
  let aot = bits.u(5);
  if (aot === 31) aot = 32 + bits.u(6);
  const freqIndex = bits.u(4);
  const sampleRate = freqIndex === 15 ? bits.u(24) : aacRates[freqIndex];
  const channelConfig = bits.u(4);
  if (!sampleRate) throw new MediaError(422, 'CorruptLiveStream', `AAC sampling frequency index ${freqIndex} is reserved`);
  const channels = channelConfig === 7 ? 8 : channelConfig || 2;

  const dsi = 2 + asc.byteLength;
  const dcd = 2 + 13 + dsi;
  const es = 2 + 3 + dcd + 3;
  const esdsSize = 12 + es;
  const size = 8 + 28 + esdsSize;
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  v.setUint32(0, size);
  b.set([0x6d, 0x70, 0x34, 0x61], 4); // mp4a
  v.setUint16(14, 1); // data_reference_index
  v.setUint16(24, channels);
  v.setUint16(26, 16); // samplesize
  // 16.16 fixed point holds rates up to 65535; above that 0 tells readers to take the track timescale.
  v.setUint32(32, sampleRate <= 0xffff ? sampleRate * 0x10000 : 0);
  let p = 36;
  v.setUint32(p, esdsSize);
  b.set([0x65, 0x73, 0x64, 0x73], p + 4); // esds, version 0, flags 0
  p += 12;
  b[p++] = 0x03; // ES_Descriptor
  b[p++] = es - 2;
  p += 2; // ES_ID 0
  b[p++] = 0; // flags
  b[p++] = 0x04; // DecoderConfigDescriptor
  b[p++] = dcd - 2;
  b[p++] = 0x40; // objectTypeIndication: MPEG-4 audio
  b[p++] = 0x15; // streamType audio (5) << 2 | reserved 1
  p += 3 + 4 + 4; // bufferSizeDB, maxBitrate, avgBitrate: unknown, 0
  b[p++] = 0x05; // DecoderSpecificInfo
  b[p++] = asc.byteLength;
  b.set(asc, p);
  p += asc.byteLength;
  b[p++] = 0x06; // SLConfigDescriptor
  b[p++] = 1;
  b[p] = 0x02;
  return {
    kind: 'audio',
    fourcc: 'mp4a',
    codecs: `mp4a.40.${aot}`,
    timescale: sampleRate,
    sampleEntry: b,
    audio: { channels, sampleRate, aacObjectType: aot },
  };
}

const highProfiles = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Picture size from an H.264 SPS NAL unit (ITU-T H.264 §7.3.2.1.1), cropping applied. */
export function spsDimensions(nal: Uint8Array): { width: number; height: number } {
  const r = new BitReader(nalRbsp(nal));
  r.u(8); // NAL header
  const profile = r.u(8);
  r.u(16); // constraint flags, level_idc
  r.ue(); // seq_parameter_set_id
  let chromaFormatIdc = 1;
  let separateColourPlane = 0;
  if (highProfiles.has(profile)) {
    chromaFormatIdc = r.ue();
    if (chromaFormatIdc === 3) separateColourPlane = r.u(1);
    r.ue(); // bit_depth_luma_minus8
    r.ue(); // bit_depth_chroma_minus8
    r.u(1); // qpprime_y_zero_transform_bypass_flag
    if (r.u(1) === 1) {
      const lists = chromaFormatIdc === 3 ? 12 : 8;
      for (let i = 0; i < lists; i++) {
        if (r.u(1) === 0) continue;
        const sizeOfList = i < 6 ? 16 : 64;
        let last = 8;
        let next = 8;
        for (let j = 0; j < sizeOfList; j++) {
          if (next !== 0) next = (last + r.se() + 256) % 256;
          last = next === 0 ? last : next;
        }
      }
    }
  }
  r.ue(); // log2_max_frame_num_minus4
  const pocType = r.ue();
  if (pocType === 0) r.ue();
  else if (pocType === 1) {
    r.u(1);
    r.se();
    r.se();
    const cycle = r.ue();
    for (let i = 0; i < cycle; i++) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.u(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.u(1);
  if (frameMbsOnly === 0) r.u(1); // mb_adaptive_frame_field_flag
  r.u(1); // direct_8x8_inference_flag
  let cropLeft = 0;
  let cropRight = 0;
  let cropTop = 0;
  let cropBottom = 0;
  if (r.u(1) === 1) {
    cropLeft = r.ue();
    cropRight = r.ue();
    cropTop = r.ue();
    cropBottom = r.ue();
  }
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidthC = chromaFormatIdc === 3 ? 1 : 2;
  const subHeightC = chromaFormatIdc === 1 ? 2 : 1;
  const cropUnitX = chromaArrayType === 0 ? 1 : subWidthC;
  const cropUnitY = (chromaArrayType === 0 ? 1 : subHeightC) * (2 - frameMbsOnly);
  return {
    width: widthMbs * 16 - cropUnitX * (cropLeft + cropRight),
    height: (2 - frameMbsOnly) * heightMapUnits * 16 - cropUnitY * (cropTop + cropBottom),
  };
}

/** A jump in tag timestamps larger than this (or any step back) is an encoder restart, not a gap to keep. */
export const maxTimestampJumpMs = 1000;

/**
 * Maps one connection's tag timestamps onto the event's continuous timeline (ms). Tracks of one connection
 * share the offset so audio and video stay in step. The offset is set by the first tag of the connection (so a
 * reconnect whose timestamps restart at 0 continues where the timeline ended) and reset when a tag jumps back
 * or forward by more than `maxTimestampJumpMs`: the media then continues at the current end of the timeline.
 */
export class TimestampMapper {
  #offset: number | undefined;
  readonly #lastRaw = new Map<string, number>();

  /**
   * @param timelineEndMs where the timeline ends now (the reference track's end), asked when the offset is (re)set.
   * @param onDiscontinuity called when a jump resets the offset within the connection.
   */
  constructor(
    private readonly timelineEndMs: () => number,
    private readonly onDiscontinuity: (rawMs: number, previousRawMs: number) => void = () => undefined,
  ) {}

  /** The timeline time of a tag of the stream `key` (each track, or each rung output, has its own clock check). */
  map(key: string, rawMs: number): number {
    const last = this.#lastRaw.get(key);
    if (this.#offset === undefined) {
      this.#offset = this.timelineEndMs() - rawMs;
    } else if (last !== undefined && (rawMs < last - maxTimestampJumpMs || rawMs > last + maxTimestampJumpMs)) {
      // A small step back is jitter (the track clamps it to rising decode times); a larger one restarts the clock.
      this.#offset = this.timelineEndMs() - rawMs;
      // The other streams jump too: their next tags are measured against the new offset, not reported again.
      this.#lastRaw.clear();
      this.onDiscontinuity(rawMs, last);
    }
    this.#lastRaw.set(key, rawMs);
    return Math.max(0, rawMs + this.#offset);
  }

  /** True once a tag has fixed the offset. */
  get isStarted(): boolean {
    return this.#offset !== undefined;
  }
}
