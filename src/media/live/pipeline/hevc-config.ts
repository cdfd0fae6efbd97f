/**
 * H.265 (HEVC) track configuration from an HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3.1), as an
 * enhanced RTMP sequence start carries it: the `hvc1`/`hev1` sample entry (§8.4.1, the record copied verbatim
 * into its `hvcC`), the picture size from the record's SPS (ITU-T H.265 §7.3.2.2, conformance window applied)
 * and the RFC 6381 codecs string, made by the packager's own `hevcCodecString` as for VOD assets.
 */
import { MediaError } from '../../../shared/errors.js';
import { hevcCodecString } from '../../packager/parse/mp4/codec-strings.js';
import { BitReader, nalRbsp, visualSampleEntry } from './sample-entry-parts.js';

/** NAL unit types (ITU-T H.265 Table 7-1). */
const nalSps = 33;
/** IRAP pictures (BLA, IDR, CRA and the reserved IRAP types): where decoding can start. */
const firstIrap = 16;
const lastIrap = 23;

/** What `readFlvTag` makes of an HEVC sequence start (a `TrackCodecConfig` of kind video). */
export interface HevcTrackConfig {
  kind: 'video';
  fourcc: 'hvc1' | 'hev1';
  codecs: string;
  timescale: number;
  sampleEntry: Uint8Array;
  video: { width: number; height: number };
}

const corrupt = (message: string) => new MediaError(422, 'CorruptLiveStream', `HEVC sequence header: ${message}`);

/** The NAL units of the record's arrays (type, bytes as views), in order. */
export function hevcRecordNalUnits(record: Uint8Array): Array<{ type: number; nal: Uint8Array }> {
  if (record.byteLength < 23 || record[0] !== 1) throw corrupt('not an HEVCDecoderConfigurationRecord');
  const units: Array<{ type: number; nal: Uint8Array }> = [];
  let at = 23;
  for (let a = 0, arrays = record[22]; a < arrays; a++) {
    if (at + 3 > record.byteLength) throw corrupt(`array ${a} is truncated`);
    const type = record[at] & 0x3f;
    const count = (record[at + 1] << 8) | record[at + 2];
    at += 3;
    for (let i = 0; i < count; i++) {
      if (at + 2 > record.byteLength) throw corrupt(`NAL unit length in array ${a} is truncated`);
      const length = (record[at] << 8) | record[at + 1];
      at += 2;
      if (at + length > record.byteLength) throw corrupt(`NAL unit in array ${a} overruns the record`);
      units.push({ type, nal: record.subarray(at, at + length) });
      at += length;
    }
  }
  return units;
}

/** Picture size from an H.265 SPS NAL unit (ITU-T H.265 §7.3.2.2.1), the conformance window cropped off. */
export function hevcSpsDimensions(nal: Uint8Array): { width: number; height: number } {
  const r = new BitReader(nalRbsp(nal));
  r.skip(16); // NAL unit header
  r.skip(4); // sps_video_parameter_set_id
  const maxSubLayersMinus1 = r.u(3);
  r.skip(1); // sps_temporal_id_nesting_flag
  // profile_tier_level(1, maxSubLayersMinus1) (§7.3.3): the general part is 88 bits + general_level_idc.
  r.skip(88 + 8);
  const subLayerProfile: number[] = [];
  const subLayerLevel: number[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    subLayerProfile.push(r.u(1));
    subLayerLevel.push(r.u(1));
  }
  if (maxSubLayersMinus1 > 0) r.skip(2 * (8 - maxSubLayersMinus1)); // reserved_zero_2bits
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (subLayerProfile[i]) r.skip(88);
    if (subLayerLevel[i]) r.skip(8);
  }
  r.ue(); // sps_seq_parameter_set_id
  const chromaFormatIdc = r.ue();
  const separateColourPlane = chromaFormatIdc === 3 ? r.u(1) : 0;
  const width = r.ue();
  const height = r.ue();
  let left = 0;
  let right = 0;
  let top = 0;
  let bottom = 0;
  if (r.u(1) === 1) {
    left = r.ue();
    right = r.ue();
    top = r.ue();
    bottom = r.ue();
  }
  // Offsets count chroma samples (Table 6-1): SubWidthC/SubHeightC, 1 when ChromaArrayType is 0.
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
  const subHeightC = chromaArrayType === 1 ? 2 : 1;
  const cropped = { width: width - subWidthC * (left + right), height: height - subHeightC * (top + bottom) };
  if (!(cropped.width > 0 && cropped.height > 0 && cropped.width <= 0xffff && cropped.height <= 0xffff))
    throw corrupt(`SPS picture size ${cropped.width}x${cropped.height} is out of range`);
  return cropped;
}

/** The `hvc1` (or `hev1`, as the encoder named it) track configuration of an HEVCDecoderConfigurationRecord. */
export function hevcConfig(record: Uint8Array, fourcc: 'hvc1' | 'hev1' = 'hvc1'): HevcTrackConfig {
  const sps = hevcRecordNalUnits(record).find((u) => u.type === nalSps);
  if (!sps) throw corrupt('no SPS');
  const video = hevcSpsDimensions(sps.nal);
  return {
    kind: 'video',
    fourcc,
    codecs: hevcCodecString(fourcc, record, 0),
    timescale: 90_000,
    sampleEntry: visualSampleEntry(fourcc, video.width, video.height, 'hvcC', record),
    video,
  };
}

/**
 * Whether a sample (NAL units with 4-byte lengths, as RTMP encoders write them) starts with an IRAP picture: its
 * first VCL NAL unit is of type 16–23. A check of what an encoder flags as key frames (tests, diagnostics).
 */
export function hevcSampleIsIrap(sample: Uint8Array): boolean {
  for (let at = 0; at + 6 <= sample.byteLength;) {
    const length = ((sample[at] << 24) | (sample[at + 1] << 16) | (sample[at + 2] << 8) | sample[at + 3]) >>> 0;
    const type = (sample[at + 4] >> 1) & 0x3f;
    if (type < 32) return type >= firstIrap && type <= lastIrap; // VCL NAL units are types 0–31
    at += 4 + length;
  }
  return false;
}
