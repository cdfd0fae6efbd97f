/**
 * MP4 → Annex B for H.264 and HEVC in MPEG-TS (ISO/IEC 14496-15 §5.3.3 and §8.3.3, ITU-T H.264/H.265 Annex B).
 * In MP4, each NAL unit of a sample is prefixed by its length and parameter sets live in `avcC`/`hvcC`; in TS,
 * NAL units are separated by start codes, every access unit starts with an access unit delimiter, and decoders
 * joining at a keyframe need the parameter sets in-band. So each access unit is written as
 * AUD, [parameter sets when sync], the sample's NAL units (minus any AUD of its own), all with 4-byte start codes.
 *
 * Two passes as everywhere in the muxers: `annexBSize` walks the NAL lengths to size the output, then
 * `writeAnnexB` copies. Emulation prevention bytes are already in the NAL units, so no byte is rewritten.
 */
import { MediaError } from '../../../../shared/errors.js';
import type { TrackIndex } from '../../model/media-index.js';
import { findSampleEntryChild } from './sample-entry.js';

export interface AnnexBConfig {
  codec: 'avc' | 'hevc';
  /** Bytes of each NAL unit length prefix in the samples: 1, 2 or 4 (`lengthSizeMinusOne` + 1). */
  nalLengthSize: number;
  /** The access unit delimiter NAL unit with its start code. */
  accessUnitDelimiter: Uint8Array;
  /** Every parameter set of the decoder configuration, each after a start code, inserted before sync samples. */
  parameterSets: Uint8Array;
}

const START_CODE_SIZE = 4;
/** H.264 AUD: nal_unit_type 9, primary_pic_type 7 (any slice type), rbsp stop bit. */
const AVC_AUD = Uint8Array.of(0, 0, 0, 1, 0x09, 0xf0);
/** HEVC AUD: nal_unit_type 35, nuh_temporal_id_plus1 1, pic_type 2 (I, P or B), rbsp stop bit. */
const HEVC_AUD = Uint8Array.of(0, 0, 0, 1, 0x46, 0x01, 0x50);
const AVC_NAL_AUD = 9;
const HEVC_NAL_AUD = 35;

function corrupt(track: TrackIndex, detail: string): MediaError {
  return new MediaError(422, 'CorruptMedia', `Track ${track.trackId} (${track.fourcc}): ${detail}`);
}

/** Reads the NAL length size and parameter sets from the track's `avcC` or `hvcC`. */
export function readAnnexBConfig(track: TrackIndex): AnnexBConfig {
  const isHevc = track.fourcc === 'hvc1' || track.fourcc === 'hev1';
  const isAvc = track.fourcc === 'avc1' || track.fourcc === 'avc3';
  if (!isHevc && !isAvc) {
    throw new MediaError(415, 'UnsupportedCodec', `Track ${track.trackId}: '${track.fourcc}' video cannot be muxed into MPEG-TS`);
  }
  const config = findSampleEntryChild(track, isHevc ? 'hvcC' : 'avcC');
  if (config === undefined) throw corrupt(track, `no ${isHevc ? 'hvcC' : 'avcC'} box in the sample entry`);
  const nalUnits = isHevc ? hvcCNalUnits(track, config) : avcCNalUnits(track, config);
  let size = 0;
  for (let i = 0; i < nalUnits.sets.length; i++) size += START_CODE_SIZE + nalUnits.sets[i].byteLength;
  const parameterSets = new Uint8Array(size);
  let position = 0;
  for (let i = 0; i < nalUnits.sets.length; i++) {
    parameterSets[position + 3] = 1;
    parameterSets.set(nalUnits.sets[i], position + START_CODE_SIZE);
    position += START_CODE_SIZE + nalUnits.sets[i].byteLength;
  }
  return {
    codec: isHevc ? 'hevc' : 'avc',
    nalLengthSize: nalUnits.lengthSize,
    accessUnitDelimiter: isHevc ? HEVC_AUD : AVC_AUD,
    parameterSets,
  };
}

interface ConfigNalUnits {
  lengthSize: number;
  sets: Uint8Array[];
}

/** AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1): SPS then PPS. */
function avcCNalUnits(track: TrackIndex, avcC: Uint8Array): ConfigNalUnits {
  if (avcC.byteLength < 7) throw corrupt(track, 'avcC is truncated');
  const lengthSize = (avcC[4] & 0x03) + 1;
  const sets: Uint8Array[] = [];
  let offset = 5;
  const spsCount = avcC[offset++] & 0x1f;
  offset = readLengthPrefixedSets(track, avcC, offset, spsCount, sets);
  if (offset >= avcC.byteLength) throw corrupt(track, 'avcC is truncated');
  const ppsCount = avcC[offset++];
  readLengthPrefixedSets(track, avcC, offset, ppsCount, sets);
  if (lengthSize === 3) throw corrupt(track, 'avcC lengthSizeMinusOne is 2, which is not allowed');
  return { lengthSize, sets };
}

/** HEVCDecoderConfigurationRecord (§8.3.3.1): arrays of VPS, SPS, PPS and SEI NAL units, kept in order. */
function hvcCNalUnits(track: TrackIndex, hvcC: Uint8Array): ConfigNalUnits {
  if (hvcC.byteLength < 23) throw corrupt(track, 'hvcC is truncated');
  const lengthSize = (hvcC[21] & 0x03) + 1;
  const arrayCount = hvcC[22];
  const sets: Uint8Array[] = [];
  let offset = 23;
  for (let a = 0; a < arrayCount; a++) {
    if (offset + 3 > hvcC.byteLength) throw corrupt(track, 'hvcC is truncated');
    const count = (hvcC[offset + 1] << 8) | hvcC[offset + 2];
    offset = readLengthPrefixedSets(track, hvcC, offset + 3, count, sets);
  }
  if (lengthSize === 3) throw corrupt(track, 'hvcC lengthSizeMinusOne is 2, which is not allowed');
  return { lengthSize, sets };
}

function readLengthPrefixedSets(track: TrackIndex, bytes: Uint8Array, start: number, count: number, out: Uint8Array[]): number {
  let offset = start;
  for (let i = 0; i < count; i++) {
    if (offset + 2 > bytes.byteLength) throw corrupt(track, 'decoder configuration is truncated');
    const length = (bytes[offset] << 8) | bytes[offset + 1];
    offset += 2;
    if (offset + length > bytes.byteLength) throw corrupt(track, 'decoder configuration is truncated');
    out.push(bytes.subarray(offset, offset + length));
    offset += length;
  }
  return offset;
}

function readNalLength(sample: Uint8Array, offset: number, lengthSize: number): number {
  if (lengthSize === 4) {
    return ((sample[offset] << 24) | (sample[offset + 1] << 16) | (sample[offset + 2] << 8) | sample[offset + 3]) >>> 0;
  }
  if (lengthSize === 2) return (sample[offset] << 8) | sample[offset + 1];
  return sample[offset];
}

function isAud(config: AnnexBConfig, sample: Uint8Array, nalOffset: number): boolean {
  if (config.codec === 'avc') return (sample[nalOffset] & 0x1f) === AVC_NAL_AUD;
  return ((sample[nalOffset] >> 1) & 0x3f) === HEVC_NAL_AUD;
}

/**
 * Size in bytes of the Annex B access unit for one sample. Throws `CorruptMedia` when a NAL length runs past the
 * sample; `sampleIndex` only names the sample in that error.
 */
export function annexBSize(track: TrackIndex, config: AnnexBConfig, sample: Uint8Array, isSync: boolean, sampleIndex: number): number {
  const lengthSize = config.nalLengthSize;
  const end = sample.byteLength;
  let size = config.accessUnitDelimiter.byteLength + (isSync ? config.parameterSets.byteLength : 0);
  let offset = 0;
  while (offset < end) {
    if (offset + lengthSize > end) throw corrupt(track, `sample ${sampleIndex} ends inside a NAL unit length`);
    const nalLength = readNalLength(sample, offset, lengthSize);
    offset += lengthSize;
    if (offset + nalLength > end) {
      throw corrupt(track, `sample ${sampleIndex}: NAL unit of ${nalLength} bytes at byte ${offset} runs past the sample's ${end} bytes`);
    }
    if (nalLength > 0 && !isAud(config, sample, offset)) size += START_CODE_SIZE + nalLength;
    offset += nalLength;
  }
  return size;
}

/** Writes the access unit sized by `annexBSize` at `position` in `out`; returns the position after it. */
export function writeAnnexB(config: AnnexBConfig, sample: Uint8Array, isSync: boolean, out: Uint8Array, position: number): number {
  const lengthSize = config.nalLengthSize;
  const end = sample.byteLength;
  let p = position;
  out.set(config.accessUnitDelimiter, p);
  p += config.accessUnitDelimiter.byteLength;
  if (isSync) {
    out.set(config.parameterSets, p);
    p += config.parameterSets.byteLength;
  }
  let offset = 0;
  while (offset < end) {
    const nalLength = readNalLength(sample, offset, lengthSize);
    offset += lengthSize;
    if (nalLength > 0 && !isAud(config, sample, offset)) {
      out[p] = 0;
      out[p + 1] = 0;
      out[p + 2] = 0;
      out[p + 3] = 1;
      out.set(sample.subarray(offset, offset + nalLength), p + START_CODE_SIZE);
      p += START_CODE_SIZE + nalLength;
    }
    offset += nalLength;
  }
  return p;
}
