/**
 * The first sample entry of an `stsd` box (ISO/IEC 14496-12 §8.5.2): which codec a track carries, its
 * decoder configuration and the facts manifests need (size, channels, sample rate, `codecs` string).
 *
 * Spec references: ISO/IEC 14496-12 §12.1.3/§12.2.3 (visual and audio sample entries), ISO/IEC 14496-1 and -14
 * (esds), ISO/IEC 14496-3 (AudioSpecificConfig), ETSI TS 102 366 Annex F (dac3/dec3).
 */
import type { AudioInfo, TrackKind, VideoInfo } from '../../model/media-index.js';
import {
  AC_3,
  AVC1,
  AVC3,
  AVCC,
  DAC3,
  DEC3,
  EC_3,
  ESDS,
  HEV1,
  HVC1,
  HVCC,
  MP4A,
  STPP,
  STSD,
  VTTC_CONFIG,
  WVTT,
  corruptBox,
  findChild,
  fourccName,
  needPayload,
  readBoxHeader,
  readU16,
  readU32,
  type BoxHeader,
} from './boxes.js';
import { avcCodecString, hevcCodecString } from './codec-strings.js';

/** Full channel count of an AC-3 `acmod` (ETSI TS 102 366 Table 4.3), before the LFE. */
const ACMOD_CHANNELS = [2, 1, 2, 3, 3, 4, 4, 5];
/** Channels added by each E-AC-3 `chan_loc` bit of a dependent substream (ETSI TS 102 366 Table E.1.4). */
const CHAN_LOC_CHANNELS = [2, 2, 1, 1, 2, 2, 2, 1, 1];
/** What `stsd` held, when the track is usable. */
export interface StsdSampleEntry {
  fourcc: string;
  codecs: string;
  sampleEntry: Uint8Array;
  video: VideoInfo | undefined;
  audio: AudioInfo | undefined;
}
/** The first sample entry of `stsd`, or a short reason the track cannot be served. */
export function readStsdSampleEntry(
  b: Uint8Array,
  stsd: BoxHeader,
  base: number,
  kind: TrackKind,
  trackId: number,
  timescale: number,
): StsdSampleEntry | string {
  needPayload(stsd, base, 8);
  const entryCount = readU32(b, stsd.payload + 4);
  if (entryCount === 0) throw corruptBox(STSD, base + stsd.start, `track ${trackId}: no sample entry`);
  const entry = readBoxHeader(b, stsd.payload + 8, stsd.end, base);
  if (entry === undefined) throw corruptBox(STSD, base + stsd.start, `track ${trackId}: sample entry truncated`);
  const type = entry.type;
  const fourcc = fourccName(type);
  const at = base + entry.start;
  // Copy (not a view): the index outlives the moov buffer, and the init segment needs only these bytes.
  const sampleEntry = new Uint8Array(b.subarray(entry.start, entry.end));

  if (kind === 'video') {
    if (type !== AVC1 && type !== AVC3 && type !== HVC1 && type !== HEV1) return `sample entry '${fourcc}'`;
    // VisualSampleEntry (ISO/IEC 14496-12 §12.1.3): 78 bytes of fields before the child boxes.
    needPayload(entry, base, 78);
    const width = readU16(b, entry.payload + 24);
    const height = readU16(b, entry.payload + 26);
    const isAvc = type === AVC1 || type === AVC3;
    const config = findChild(b, entry.payload + 78, entry.end, isAvc ? AVCC : HVCC, base);
    if (config === undefined) throw corruptBox(type, at, `track ${trackId}: no ${isAvc ? 'avcC' : 'hvcC'} box`);
    let codecs: string;
    if (isAvc) {
      needPayload(config, base, 4);
      codecs = avcCodecString(fourcc, b, config.payload);
    } else {
      needPayload(config, base, 13);
      codecs = hevcCodecString(fourcc, b, config.payload);
    }
    return { fourcc, codecs, sampleEntry, video: { width, height, frameRate: 0 }, audio: undefined };
  }

  if (kind === 'audio') {
    if (type !== MP4A && type !== AC_3 && type !== EC_3) return `sample entry '${fourcc}'`;
    // AudioSampleEntry (ISO/IEC 14496-12 §12.2.3): 28 bytes of fields; QuickTime sound description v1/v2 add 16/36.
    needPayload(entry, base, 28);
    const version = readU16(b, entry.payload + 8);
    let channels = readU16(b, entry.payload + 16);
    let sampleRate = readU32(b, entry.payload + 24) >>> 16;
    let children = entry.payload + 28;
    if (version === 1) {
      children += 16;
    } else if (version === 2) {
      needPayload(entry, base, 64);
      sampleRate = Math.round(new DataView(b.buffer, b.byteOffset + entry.payload + 32, 8).getFloat64(0));
      channels = readU32(b, entry.payload + 40);
      children += 36;
    }
    if (sampleRate === 0) sampleRate = timescale;
    let codecs = fourcc;
    let aacObjectType: number | undefined;
    if (type === MP4A) {
      const esds = findChild(b, children, entry.end, ESDS, base);
      if (esds === undefined) throw corruptBox(MP4A, at, `track ${trackId}: no esds box`);
      const aac = parseEsds(b, esds, base);
      if (aac.objectTypeIndication !== 0x40) return `mp4a with objectTypeIndication 0x${aac.objectTypeIndication.toString(16)}`;
      if (aac.audioObjectType === 0) throw corruptBox(ESDS, base + esds.start, `track ${trackId}: no AudioSpecificConfig`);
      aacObjectType = aac.audioObjectType;
      codecs = `mp4a.40.${aac.audioObjectType}`;
      if (channels === 0) channels = aac.channelConfiguration;
    } else if (type === AC_3) {
      const dac3 = findChild(b, children, entry.end, DAC3, base);
      if (dac3 !== undefined && dac3.end - dac3.payload >= 3) {
        const b1 = b[dac3.payload + 1];
        channels = ACMOD_CHANNELS[(b1 >> 3) & 7] + ((b1 >> 2) & 1);
      }
    } else {
      const dec3 = findChild(b, children, entry.end, DEC3, base);
      if (dec3 !== undefined && dec3.end - dec3.payload >= 5) {
        // First independent substream: its acmod/lfeon, plus the channels its dependent substreams add.
        const p = dec3.payload + 2;
        const b1 = b[p + 1];
        let n = ACMOD_CHANNELS[(b1 >> 1) & 7] + (b1 & 1);
        const numDep = (b[p + 2] >> 1) & 0xf;
        if (numDep > 0) {
          const chanLoc = ((b[p + 2] & 1) << 8) | b[p + 3];
          for (let bit = 0; bit < 9; bit++) if (chanLoc & (1 << (8 - bit))) n += CHAN_LOC_CHANNELS[bit];
        }
        channels = n;
      }
    }
    const audio: AudioInfo = aacObjectType !== undefined ? { channels, sampleRate, aacObjectType } : { channels, sampleRate };
    return { fourcc, codecs, sampleEntry, video: undefined, audio };
  }

  if (type === STPP) return { fourcc, codecs: stppCodecString(b, entry), sampleEntry, video: undefined, audio: undefined };
  if (type !== WVTT) return `sample entry '${fourcc}'`;
  // WVTTSampleEntry (ISO/IEC 14496-30 §7.3): its `vttC` holds the WebVTT file header the cues need.
  if (findChild(b, entry.payload + 8, entry.end, VTTC_CONFIG, base) === undefined) throw corruptBox(WVTT, at, `track ${trackId}: no vttC box`);
  return { fourcc, codecs: fourcc, sampleEntry, video: undefined, audio: undefined };
}

/** IMSC1 profile designators (W3C TTML Profiles for Internet Media Subtitles and Captions 1.0.1 §6.9). */
const IMSC1_TEXT = 'http://www.w3.org/ns/ttml/profile/imsc1/text';
const IMSC1_IMAGE = 'http://www.w3.org/ns/ttml/profile/imsc1/image';

/**
 * The codecs string of an `stpp` track (ISO/IEC 14496-30 §5.3 XMLSubtitleSampleEntry: 8 bytes of SampleEntry
 * fields, then the NUL-terminated `namespace`, `schema_location` and `auxiliary_mime_types`). RFC 6381 / ISO/IEC
 * 14496-30 Annex A: `stpp.ttml.im1t` (or `im1i`) when the entry names an IMSC1 profile, else plain `stpp`, since
 * nothing else in the file says which TTML profile its documents follow.
 */
function stppCodecString(b: Uint8Array, entry: BoxHeader): string {
  const fields: string[] = [];
  let p = entry.payload + 8;
  for (let i = 0; i < 3 && p < entry.end; i++) {
    let end = p;
    while (end < entry.end && b[end] !== 0) end++;
    fields.push(new TextDecoder('utf-8').decode(b.subarray(p, end)));
    p = end + 1;
  }
  const names = fields.slice(0, 2).join(' ');
  if (names.includes(IMSC1_TEXT)) return 'stpp.ttml.im1t';
  if (names.includes(IMSC1_IMAGE)) return 'stpp.ttml.im1i';
  return 'stpp';
}
interface EsdsInfo {
  objectTypeIndication: number;
  /** From the AudioSpecificConfig; 0 when there is none. */
  audioObjectType: number;
  channelConfiguration: number;
}

/**
 * `esds` (ISO/IEC 14496-1 §7.2.6): ES_Descriptor → DecoderConfigDescriptor (objectTypeIndication) →
 * DecoderSpecificInfo (AudioSpecificConfig, ISO/IEC 14496-3 §1.6.2.1: audioObjectType, 31 = escape to 32+6 bits).
 */
export function parseEsds(b: Uint8Array, esds: BoxHeader, base: number): EsdsInfo {
  const at = base + esds.start;
  const end = esds.end;
  let p = esds.payload + 4; // FullBox version/flags
  const es = readDescriptor(b, p, end, at);
  if (es.tag !== 0x03) throw corruptBox(ESDS, at, `expected ES_Descriptor (tag 3), found tag ${es.tag}`);
  p = es.payload;
  if (p + 3 > es.end) throw corruptBox(ESDS, at, 'ES_Descriptor truncated');
  const flags = b[p + 2];
  p += 3;
  if (flags & 0x80) p += 2; // streamDependenceFlag → dependsOn_ES_ID
  if (flags & 0x40) {
    if (p >= es.end) throw corruptBox(ESDS, at, 'ES_Descriptor URL truncated');
    p += 1 + b[p];
  } // URL_Flag
  if (flags & 0x20) p += 2; // OCRstreamFlag
  while (p < es.end) {
    const d = readDescriptor(b, p, es.end, at);
    if (d.tag === 0x04) {
      if (d.end - d.payload < 13) throw corruptBox(ESDS, at, 'DecoderConfigDescriptor truncated');
      const objectTypeIndication = b[d.payload];
      let audioObjectType = 0;
      let channelConfiguration = 0;
      let q = d.payload + 13;
      while (q < d.end) {
        const dsi = readDescriptor(b, q, d.end, at);
        if (dsi.tag === 0x05 && dsi.end - dsi.payload >= 2) {
          const asc = dsi.payload;
          audioObjectType = b[asc] >> 3;
          let bit = 5;
          if (audioObjectType === 31) {
            audioObjectType = 32 + (((b[asc] & 0x07) << 3) | (b[asc + 1] >> 5));
            bit = 11;
          }
          // samplingFrequencyIndex (4 bits, 15 → 24-bit explicit rate), then channelConfiguration (4 bits).
          const freqIndex = readBits(b, asc, bit, 4, dsi.end);
          bit += freqIndex === 15 ? 28 : 4;
          channelConfiguration = readBits(b, asc, bit, 4, dsi.end);
          break;
        }
        q = dsi.end;
      }
      return { objectTypeIndication, audioObjectType, channelConfiguration };
    }
    p = d.end;
  }
  throw corruptBox(ESDS, at, 'no DecoderConfigDescriptor');
}

/** `n` (≤ 24) bits starting `bit` bits into `b[o…]`, MSB first; bits past `end` read as 0. */
function readBits(b: Uint8Array, o: number, bit: number, n: number, end: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const byte = o + ((bit + i) >> 3);
    const x = byte < end ? (b[byte] >> (7 - ((bit + i) & 7))) & 1 : 0;
    v = (v << 1) | x;
  }
  return v;
}

/** An MPEG-4 descriptor header: tag byte and a size of 1–4 bytes, 7 bits each (ISO/IEC 14496-1 §8.3.3). */
function readDescriptor(b: Uint8Array, o: number, end: number, at: number): { tag: number; payload: number; end: number } {
  if (o + 2 > end) throw corruptBox(ESDS, at, `descriptor at ${o} truncated`);
  const tag = b[o];
  let size = 0;
  let p = o + 1;
  for (let i = 0; i < 4; i++) {
    if (p >= end) throw corruptBox(ESDS, at, `descriptor tag ${tag} size truncated`);
    const byte = b[p++];
    size = (size << 7) | (byte & 0x7f);
    if ((byte & 0x80) === 0) break;
  }
  if (p + size > end) throw corruptBox(ESDS, at, `descriptor tag ${tag} size ${size} runs past its parent`);
  return { tag, payload: p, end: p + size };
}
