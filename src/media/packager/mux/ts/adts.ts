/**
 * AAC in MPEG-TS is carried as ADTS (ISO/IEC 13818-7 §6.2, ISO/IEC 14496-3 §1.A.2): each raw AAC frame from the
 * MP4 gets a 7-byte header (no CRC) rebuilt from the AudioSpecificConfig found in the sample entry's `esds`
 * (ISO/IEC 14496-1 §7.2.6.5–7: ES_Descriptor → DecoderConfigDescriptor → DecoderSpecificInfo).
 */
import { MediaError } from '../../../../shared/errors.js';
import type { TrackIndex } from '../../model/media-index.js';
import { findSampleEntryChild } from './sample-entry.js';

export const ADTS_HEADER_SIZE = 7;
/** The 13-bit aac_frame_length, header included. */
export const ADTS_MAX_FRAME_SIZE = 0x1fff;

export interface AdtsConfig {
  /** ADTS profile = MPEG-4 Audio Object Type − 1 of the core codec (1 = AAC LC). */
  profile: number;
  samplingFrequencyIndex: number;
  channelConfiguration: number;
}

/** What `esds` says about the stream: the MPEG-4 objectTypeIndication and, for AAC, the ADTS fields. */
export interface EsdsInfo {
  /** 0x40 MPEG-4 Audio, 0x66–0x68 MPEG-2 AAC, 0x69 MPEG-2 Audio Part 3, 0x6B MPEG-1 Audio. */
  objectTypeIndication: number;
  decoderSpecificInfo?: Uint8Array;
}

const SAMPLING_FREQUENCIES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
const AOT_SBR = 5;
const AOT_PS = 29;
const AOT_ESCAPE = 31;
const TAG_ES_DESCRIPTOR = 0x03;
const TAG_DECODER_CONFIG = 0x04;
const TAG_DECODER_SPECIFIC_INFO = 0x05;

function unsupported(track: TrackIndex, detail: string): MediaError {
  return new MediaError(415, 'UnsupportedCodec', `Track ${track.trackId} (${track.fourcc}): ${detail}`);
}

function corrupt(track: TrackIndex, detail: string): MediaError {
  return new MediaError(422, 'CorruptMedia', `Track ${track.trackId} (${track.fourcc}): ${detail}`);
}

/** Reads the objectTypeIndication and DecoderSpecificInfo from the track's `esds`. */
export function readEsds(track: TrackIndex): EsdsInfo {
  const esds = findSampleEntryChild(track, 'esds');
  if (esds === undefined) throw corrupt(track, 'no esds box in the sample entry');
  // Full box: version and flags, then the ES_Descriptor.
  let offset = 4;
  const es = readDescriptorHeader(esds, offset);
  if (es === undefined || es.tag !== TAG_ES_DESCRIPTOR) throw corrupt(track, 'esds holds no ES_Descriptor');
  offset = es.bodyOffset;
  const esEnd = Math.min(esds.byteLength, es.bodyOffset + es.length);
  const flags = esds[offset + 2];
  offset += 3; // ES_ID, flags
  if ((flags & 0x80) !== 0) offset += 2; // dependsOn_ES_ID
  if ((flags & 0x40) !== 0) offset += 1 + esds[offset]; // URL
  if ((flags & 0x20) !== 0) offset += 2; // OCR_ES_Id
  while (offset < esEnd) {
    const descriptor = readDescriptorHeader(esds, offset);
    if (descriptor === undefined) break;
    if (descriptor.tag === TAG_DECODER_CONFIG) {
      const body = descriptor.bodyOffset;
      const end = Math.min(esEnd, body + descriptor.length);
      const objectTypeIndication = esds[body];
      let inner = body + 13;
      while (inner < end) {
        const child = readDescriptorHeader(esds, inner);
        if (child === undefined) break;
        if (child.tag === TAG_DECODER_SPECIFIC_INFO) {
          const dsiEnd = Math.min(end, child.bodyOffset + child.length);
          return { objectTypeIndication, decoderSpecificInfo: esds.subarray(child.bodyOffset, dsiEnd) };
        }
        inner = child.bodyOffset + child.length;
      }
      return { objectTypeIndication };
    }
    offset = descriptor.bodyOffset + descriptor.length;
  }
  throw corrupt(track, 'esds holds no DecoderConfigDescriptor');
}

/** A descriptor's tag and its expandable size (ISO/IEC 14496-1 §8.3.3: up to 4 bytes of 7 bits). */
function readDescriptorHeader(bytes: Uint8Array, start: number): { tag: number; length: number; bodyOffset: number } | undefined {
  if (start + 2 > bytes.byteLength) return undefined;
  const tag = bytes[start];
  let length = 0;
  let offset = start + 1;
  for (let i = 0; i < 4; i++) {
    if (offset >= bytes.byteLength) return undefined;
    const byte = bytes[offset++];
    length = (length << 7) | (byte & 0x7f);
    if ((byte & 0x80) === 0) break;
  }
  return { tag, length, bodyOffset: offset };
}

/**
 * The ADTS fields for an AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1). For explicitly signalled HE-AAC
 * (AOT 5 or 29) the header describes the core AAC LC stream at the core sampling rate, which is how ADTS carries
 * HE-AAC (the decoder finds SBR/PS implicitly).
 */
export function readAdtsConfig(track: TrackIndex): AdtsConfig {
  const esds = readEsds(track);
  const asc = esds.decoderSpecificInfo;
  if (asc === undefined || asc.byteLength < 2) throw corrupt(track, 'esds holds no AudioSpecificConfig');
  let bitOffset = 0;
  const bits = (count: number): number => {
    let value = 0;
    for (let i = 0; i < count; i++) {
      const byte = bitOffset >> 3;
      if (byte >= asc.byteLength) throw corrupt(track, 'AudioSpecificConfig is truncated');
      value = value * 2 + ((asc[byte] >> (7 - (bitOffset & 7))) & 1);
      bitOffset++;
    }
    return value;
  };
  const objectType = (): number => {
    const type = bits(5);
    return type === AOT_ESCAPE ? 32 + bits(6) : type;
  };
  const frequencyIndex = (): number => {
    const index = bits(4);
    if (index !== 15) return index;
    const frequency = bits(24);
    const standard = SAMPLING_FREQUENCIES.indexOf(frequency);
    if (standard < 0) throw unsupported(track, `AAC at ${frequency} Hz has no ADTS sampling frequency index`);
    return standard;
  };
  let audioObjectType = objectType();
  const samplingFrequencyIndex = frequencyIndex();
  const channelConfiguration = bits(4);
  if (audioObjectType === AOT_SBR || audioObjectType === AOT_PS) {
    frequencyIndex(); // extensionSamplingFrequencyIndex
    audioObjectType = objectType();
  }
  if (audioObjectType < 1 || audioObjectType > 4) {
    throw unsupported(track, `AAC audio object type ${audioObjectType} cannot be carried in ADTS`);
  }
  if (channelConfiguration === 0) {
    throw unsupported(track, 'AAC with a program config element (channelConfiguration 0) cannot be carried in ADTS');
  }
  if (samplingFrequencyIndex >= SAMPLING_FREQUENCIES.length) {
    throw corrupt(track, `AudioSpecificConfig has sampling frequency index ${samplingFrequencyIndex}`);
  }
  return { profile: audioObjectType - 1, samplingFrequencyIndex, channelConfiguration };
}

/** Writes the 7-byte ADTS header for a raw frame of `rawSize` bytes at `position`. */
export function writeAdtsHeader(config: AdtsConfig, rawSize: number, out: Uint8Array, position: number): void {
  const frameLength = ADTS_HEADER_SIZE + rawSize;
  out[position] = 0xff; // syncword
  out[position + 1] = 0xf1; // syncword, MPEG-4, layer 0, protection_absent
  out[position + 2] = (config.profile << 6) | (config.samplingFrequencyIndex << 2) | (config.channelConfiguration >> 2);
  out[position + 3] = ((config.channelConfiguration & 0x03) << 6) | (frameLength >> 11);
  out[position + 4] = (frameLength >> 3) & 0xff;
  out[position + 5] = ((frameLength & 0x07) << 5) | 0x1f; // adts_buffer_fullness 0x7FF: variable bitrate
  out[position + 6] = 0xfc; // buffer fullness, number_of_raw_data_blocks_in_frame 0
}
