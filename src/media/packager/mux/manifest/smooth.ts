/**
 * The Smooth Streaming client manifest (MS-SSTR §2.2.2, `SmoothStreamingMedia` version 2.2) served at
 * `{manifestName}.ism/manifest` without `format=`.
 *
 * Decisions:
 * - One `StreamIndex` per track name and kind: a StreamIndex has one `Url` template, whose `Fragments({name}=…)`
 *   names the track, so only tracks sharing a name can be quality levels of one stream. AMS names every video
 *   rendition `video`, which gives the usual one video StreamIndex with several QualityLevels.
 * - `TimeScale` on each StreamIndex is the track timescale, so `{start time}` is `TrackSegment.startTicks` and
 *   the fragment URL is the same one the other formats use. The root `TimeScale` stays the 100 ns default and
 *   `Duration` is written in it.
 * - Chunks use `t` on the first `c` (and after any gap) and `r` for runs of equal durations. In Smooth `r` is the
 *   number of chunks the element stands for, itself included (dash.js `MssParser` and rx-player read it so),
 *   unlike DASH `S@r`, which counts the extra repeats.
 * - CodecPrivateData is read from the codec configuration in the source sample entry: H.264 Annex B
 *   SPS + PPS from `avcC` (FourCC `H264`), H.265 Annex B VPS + SPS + PPS from `hvcC` (`HVC1`/`HEV1`), AAC
 *   AudioSpecificConfig from `esds` (`AACL`, or `AACH` for HE-AAC). Tracks of other codecs are left out: Smooth
 *   clients have no FourCC for them that they play.
 */
import { InternalError, MediaError } from '../../../../shared/errors.js';
import type { TrackIndex } from '../../model/media-index.js';
import type { Presentation, PresentationTrack } from '../../model/presentation.js';
import { playReadyObject, systemIds } from '../../encrypt/drm-headers.js';
import { escapeXml, smoothUrlTemplate, type ManifestContext } from './manifest-context.js';

const HNS_TIMESCALE = 10_000_000;

const HEX = '0123456789ABCDEF';

function hex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i] >> 4] + HEX[bytes[i] & 15];
  return out;
}

function u16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + (b[at + 2] << 8) + b[at + 3];
}

function type4(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);
}

/** Header size of a VisualSampleEntry before its child boxes (ISO/IEC 14496-12 §12.1.3): 8 + 8 + 70. */
const VISUAL_SAMPLE_ENTRY_CHILDREN = 86;
/** Header size of an AudioSampleEntry (§12.2.3) before its child boxes: 8 + 8 + 20, plus QuickTime v1/v2 fields. */
const AUDIO_SAMPLE_ENTRY_CHILDREN = 36;

function corrupt(track: TrackIndex, what: string): MediaError {
  return new MediaError(422, 'CorruptMedia', `Track ${track.trackId} (${track.fourcc}): ${what}`);
}

/** The payload of the first child box of `type` inside the sample entry, or undefined. */
function findChild(track: TrackIndex, type: string): Uint8Array | undefined {
  const entry = track.sampleEntry;
  let at: number;
  if (track.kind === 'video') at = VISUAL_SAMPLE_ENTRY_CHILDREN;
  else if (track.kind === 'audio') {
    // QuickTime sound sample description version in the first reserved field: v1 adds 16 bytes, v2 adds 36.
    const version = entry.length >= 18 ? u16(entry, 16) : 0;
    at = AUDIO_SAMPLE_ENTRY_CHILDREN + (version === 1 ? 16 : version === 2 ? 36 : 0);
  } else return undefined;
  const end = entry.length >= 8 ? Math.min(entry.length, u32(entry, 0) || entry.length) : 0;
  while (at + 8 <= end) {
    let size = u32(entry, at);
    let header = 8;
    if (size === 1) {
      if (at + 16 > end) break;
      size = u32(entry, at + 8) * 2 ** 32 + u32(entry, at + 12);
      header = 16;
    } else if (size === 0) size = end - at;
    if (size < header || at + size > end) throw corrupt(track, `child box at byte ${at} of the sample entry overruns it`);
    if (type4(entry, at + 4) === type) return entry.subarray(at + header, at + size);
    at += size;
  }
  return undefined;
}

/** Annex B (`00000001` + NAL unit) of each parameter set in an `avcC` (ISO/IEC 14496-15 §5.3.3.1). */
function avcParameterSets(track: TrackIndex, avcC: Uint8Array): Uint8Array[] {
  const sets: Uint8Array[] = [];
  if (avcC.length < 7) throw corrupt(track, 'avcC is too short');
  let at = 5;
  for (const countMask of [0x1f, 0xff]) {
    if (at >= avcC.length) throw corrupt(track, `avcC ends at byte ${at} before its parameter set count`);
    const count = avcC[at++] & countMask;
    for (let i = 0; i < count; i++) {
      if (at + 2 > avcC.length) throw corrupt(track, `avcC parameter set ${i} length at byte ${at} is truncated`);
      const length = u16(avcC, at);
      at += 2;
      if (at + length > avcC.length) throw corrupt(track, `avcC parameter set ${i} at byte ${at} overruns the box`);
      sets.push(avcC.subarray(at, at + length));
      at += length;
    }
  }
  return sets;
}

/** VPS, SPS and PPS NAL units of an `hvcC` (ISO/IEC 14496-15 §8.3.3.1), in that order. */
function hevcParameterSets(track: TrackIndex, hvcC: Uint8Array): Uint8Array[] {
  if (hvcC.length < 23) throw corrupt(track, 'hvcC is too short');
  const byType = new Map<number, Uint8Array[]>();
  const arrays = hvcC[22];
  let at = 23;
  for (let a = 0; a < arrays; a++) {
    if (at + 3 > hvcC.length) throw corrupt(track, `hvcC array ${a} at byte ${at} is truncated`);
    const nalType = hvcC[at] & 0x3f;
    const count = u16(hvcC, at + 1);
    at += 3;
    for (let i = 0; i < count; i++) {
      if (at + 2 > hvcC.length) throw corrupt(track, `hvcC NAL unit length at byte ${at} is truncated`);
      const length = u16(hvcC, at);
      at += 2;
      if (at + length > hvcC.length) throw corrupt(track, `hvcC NAL unit at byte ${at} overruns the box`);
      const list = byType.get(nalType) ?? [];
      list.push(hvcC.subarray(at, at + length));
      byType.set(nalType, list);
      at += length;
    }
  }
  return [32, 33, 34].flatMap((t) => byType.get(t) ?? []);
}

function annexB(sets: Uint8Array[]): string {
  let out = '';
  for (const s of sets) out += `00000001${hex(s)}`;
  return out;
}

/** Reads an MPEG-4 descriptor header (ISO/IEC 14496-1 §8.3.3): tag and length (1–4 bytes of 7 bits). */
function descriptor(b: Uint8Array, at: number, end: number): { tag: number; start: number; end: number } | undefined {
  if (at + 2 > end) return undefined;
  const tag = b[at++];
  let length = 0;
  for (let i = 0; i < 4; i++) {
    if (at >= end) return undefined;
    const byte = b[at++];
    length = length * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) break;
  }
  return at + length <= end ? { tag, start: at, end: at + length } : undefined;
}

/** DecoderSpecificInfo (the AAC AudioSpecificConfig) inside an `esds` full box. */
function esdsDecoderSpecificInfo(track: TrackIndex, esds: Uint8Array): Uint8Array | undefined {
  const es = descriptor(esds, 4, esds.length);
  if (!es || es.tag !== 0x03) throw corrupt(track, 'esds has no ES_Descriptor');
  let at = es.start + 2;
  if (at >= es.end) throw corrupt(track, 'ES_Descriptor is truncated');
  const flags = esds[at++];
  if (flags & 0x80) at += 2;
  if (flags & 0x40) at += 1 + (esds[at] ?? 0);
  if (flags & 0x20) at += 2;
  while (at < es.end) {
    const d = descriptor(esds, at, es.end);
    if (!d) break;
    if (d.tag === 0x04) {
      let inner = d.start + 13;
      while (inner < d.end) {
        const s = descriptor(esds, inner, d.end);
        if (!s) break;
        if (s.tag === 0x05) return esds.subarray(s.start, s.end);
        inner = s.end;
      }
      return undefined;
    }
    at = d.end;
  }
  return undefined;
}

const AAC_SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** A two-byte AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1) built from the track's audio info. */
function synthesizedAudioSpecificConfig(track: TrackIndex): string {
  const audio = track.audio;
  const aot = audio?.aacObjectType && audio.aacObjectType < 31 ? audio.aacObjectType : 2;
  let index = AAC_SAMPLE_RATES.indexOf(audio?.sampleRate ?? 0);
  if (index < 0) index = 3;
  const channels = Math.min(7, audio?.channels ?? 2);
  return hex(new Uint8Array([(aot << 3) | (index >> 1), ((index & 1) << 7) | (channels << 3)]));
}

/**
 * `CodecPrivateData` of a track, in upper-case hex: Annex B parameter sets for H.264/H.265, the
 * AudioSpecificConfig for AAC. Undefined for codecs Smooth cannot describe. Throws `MediaError` when the codec
 * configuration box is missing or corrupt.
 */
export function codecPrivateData(track: TrackIndex): string | undefined {
  const fourcc = track.fourcc;
  if (fourcc === 'avc1' || fourcc === 'avc3') {
    const avcC = findChild(track, 'avcC');
    if (!avcC) throw corrupt(track, 'the sample entry has no avcC box');
    return annexB(avcParameterSets(track, avcC));
  }
  if (fourcc === 'hvc1' || fourcc === 'hev1') {
    const hvcC = findChild(track, 'hvcC');
    if (!hvcC) throw corrupt(track, 'the sample entry has no hvcC box');
    return annexB(hevcParameterSets(track, hvcC));
  }
  if (fourcc === 'mp4a') {
    const esds = findChild(track, 'esds');
    const asc = esds ? esdsDecoderSpecificInfo(track, esds) : undefined;
    return asc && asc.length > 0 ? hex(asc) : synthesizedAudioSpecificConfig(track);
  }
  return undefined;
}

/** The Smooth FourCC of a track, or undefined when Smooth clients cannot play its codec. */
export function smoothFourCC(track: TrackIndex): string | undefined {
  switch (track.fourcc) {
    case 'avc1':
    case 'avc3':
      return 'H264';
    case 'hvc1':
      return 'HVC1';
    case 'hev1':
      return 'HEV1';
    case 'mp4a': {
      const aot = track.audio?.aacObjectType ?? Number(/^mp4a\.40\.(\d+)$/.exec(track.codecs)?.[1] ?? 2);
      return aot === 5 || aot === 29 ? 'AACH' : 'AACL';
    }
    default:
      return undefined;
  }
}

interface StreamGroup {
  kind: 'video' | 'audio';
  name: string;
  tracks: PresentationTrack[];
}

function streamGroups(p: Presentation): StreamGroup[] {
  const groups = new Map<string, StreamGroup>();
  for (const t of p.tracks) {
    if (t.kind !== 'video' && t.kind !== 'audio') continue;
    if (!smoothFourCC(t.track)) continue;
    const key = `${t.kind}/${t.name}`;
    let group = groups.get(key);
    if (!group) {
      group = { kind: t.kind, name: t.name, tracks: [] };
      groups.set(key, group);
    }
    group.tracks.push(t);
  }
  const all = [...groups.values()];
  return [...all.filter((g) => g.kind === 'video'), ...all.filter((g) => g.kind === 'audio')];
}

/**
 * Quality levels of one StreamIndex share its chunk list, so they must share timescale and segment times; a
 * track that differs gets a StreamIndex of its own (same Name: the URL still finds it by bitrate).
 */
function splitByTimeline(group: StreamGroup): StreamGroup[] {
  const out: StreamGroup[] = [];
  for (const t of group.tracks) {
    const same = out.find((g) => sameTimeline(g.tracks[0], t));
    if (same) same.tracks.push(t);
    else out.push({ ...group, tracks: [t] });
  }
  return out;
}

function sameTimeline(a: PresentationTrack, b: PresentationTrack): boolean {
  if (a.track.timescale !== b.track.timescale || a.segments.length !== b.segments.length) return false;
  for (let i = 0; i < a.segments.length; i++) {
    if (a.segments.startTicks[i] !== b.segments.startTicks[i] || a.segments.durationTicks[i] !== b.segments.durationTicks[i]) return false;
  }
  return true;
}

function writeChunks(t: PresentationTrack, out: string[]): void {
  const { startTicks: start, durationTicks: duration, length } = t.segments;
  let expectedStart = -1;
  let i = 0;
  while (i < length) {
    let count = 1;
    while (i + count < length && duration[i + count] === duration[i] && start[i + count] === start[i + count - 1] + duration[i]) count++;
    const tAttr = start[i] !== expectedStart ? ` t="${start[i]}"` : '';
    out.push(`    <c${tAttr} d="${duration[i]}"${count > 1 ? ` r="${count}"` : ''}/>`);
    expectedStart = start[i] + count * duration[i];
    i += count;
  }
}

function writeStreamIndex(group: StreamGroup, ctx: ManifestContext, out: string[]): void {
  const first = group.tracks[0];
  let attrs = `Type="${group.kind}" Name="${escapeXml(group.name)}"`;
  if (group.kind === 'audio' && first.language && first.language !== 'und') attrs += ` Language="${escapeXml(first.language)}"`;
  attrs += ` Chunks="${first.segments.length}" QualityLevels="${group.tracks.length}"`;
  attrs += ` Url="${escapeXml(smoothUrlTemplate(group.name, ctx))}" TimeScale="${first.track.timescale}"`;
  if (group.kind === 'video') {
    let maxWidth = 0;
    let maxHeight = 0;
    for (const t of group.tracks) {
      maxWidth = Math.max(maxWidth, t.track.video?.width ?? 0);
      maxHeight = Math.max(maxHeight, t.track.video?.height ?? 0);
    }
    attrs += ` MaxWidth="${maxWidth}" MaxHeight="${maxHeight}" DisplayWidth="${maxWidth}" DisplayHeight="${maxHeight}"`;
  }
  out.push(`  <StreamIndex ${attrs}>`);
  group.tracks.forEach((t, index) => {
    const cpd = codecPrivateData(t.track) ?? '';
    let q = `Index="${index}" Bitrate="${t.bitrateBps}" FourCC="${smoothFourCC(t.track)}"`;
    if (group.kind === 'video') {
      q += ` MaxWidth="${t.track.video?.width ?? 0}" MaxHeight="${t.track.video?.height ?? 0}"`;
    } else {
      const audio = t.track.audio;
      q += ` SamplingRate="${audio?.sampleRate ?? 0}" Channels="${audio?.channels ?? 0}" BitsPerSample="16" PacketSize="4" AudioTag="255"`;
    }
    q += ` CodecPrivateData="${cpd}"`;
    out.push(`    <QualityLevel ${q}/>`);
  });
  writeChunks(first, out);
  out.push('  </StreamIndex>');
}

/**
 * `Protection` (MS-SSTR §2.2.2.2, before the first StreamIndex): one PlayReady `ProtectionHeader` whose PRO names
 * every key of the manifest's tracks (PIFF is AES-CTR, so `cenc` only; one key gives the 4.0.0.0 header that
 * Silverlight-era clients read).
 */
function writeProtection(groups: StreamGroup[], ctx: ManifestContext, out: string[]): void {
  const protection = ctx.protection;
  if (!protection) return;
  if (protection.scheme !== 'cenc') {
    throw new InternalError('UnsupportedEncryption', `Smooth Streaming carries PlayReady CENC (PIFF), not ${protection.scheme}`);
  }
  const keyIds = new Set<string>();
  for (const group of groups) {
    for (const t of group.tracks) {
      const keyId = protection.keyIdOf(t);
      if (keyId) keyIds.add(keyId);
    }
  }
  if (keyIds.size === 0) return;
  // Written whether or not the policy offers PlayReady with a licence URL: without one, players bring their own.
  const pr = protection.playReady;
  const pro = playReadyObject({ keyIds: [...keyIds], scheme: 'cenc', licenseUrl: pr?.licenseUrl, customAttributes: pr?.customAttributes });
  out.push(
    '  <Protection>',
    `    <ProtectionHeader SystemID="${systemIds.playReady.toUpperCase()}">${pro.toString('base64')}</ProtectionHeader>`,
    '  </Protection>',
  );
}

/** `Duration`: the presentation's, or 0 while live (MS-SSTR §2.2.2.1: a live presentation's duration is unknown). */
function rootTiming(p: Presentation): string {
  return `Duration="${p.live && !p.live.isEnded ? 0 : Math.round(p.durationSec * HNS_TIMESCALE)}"`;
}

/**
 * A running live presentation (MS-SSTR §2.2.2.1): `IsLive`, `LookAheadFragmentCount` 2 as AMS writes it, and the
 * DVR window in 100 ns units. Fragments carry no `tfrf` look-ahead boxes, so clients learn of new chunks by
 * reloading the manifest. An ended one is written as on-demand.
 */
function liveAttributes(p: Presentation): string {
  const live = p.live;
  if (!live || live.isEnded) return '';
  const window = Number.isFinite(live.windowSec) && live.windowSec > 0 ? Math.round(live.windowSec * HNS_TIMESCALE) : 0;
  return ` IsLive="TRUE" LookAheadFragmentCount="2" DVRWindowLength="${window}"`;
}

/**
 * The Smooth client manifest. `Url` templates are relative to `{manifestName}.ism/`.
 *
 * @example
 * <SmoothStreamingMedia MajorVersion="2" MinorVersion="2" Duration="600000000" TimeScale="10000000">
 *   <StreamIndex Type="video" Name="video" Chunks="30" QualityLevels="2" Url="QualityLevels({bitrate})/Fragments(video={start time})" TimeScale="12800" …>
 *     <QualityLevel Index="0" Bitrate="3400000" FourCC="H264" MaxWidth="1280" MaxHeight="720" CodecPrivateData="000000016764001F…"/>
 *     <c t="0" d="25600" r="30"/>
 */
export function smoothManifest(p: Presentation, ctx: ManifestContext): string {
  if (ctx.format !== 'smooth') throw new InternalError('UnsupportedFormat', `A Smooth manifest cannot be written for format '${ctx.format}'`);
  const groups = streamGroups(p).flatMap(splitByTimeline);
  if (groups.length === 0) throw new MediaError(415, 'UnsupportedCodec', 'No track of this asset has a codec Smooth Streaming can carry');
  const out = [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<SmoothStreamingMedia MajorVersion="2" MinorVersion="2" ${rootTiming(p)} TimeScale="${HNS_TIMESCALE}"${liveAttributes(p)}>`,
  ];
  if (ctx.protection) writeProtection(groups, ctx, out);
  for (const group of groups) writeStreamIndex(group, ctx, out);
  out.push('</SmoothStreamingMedia>', '');
  return out.join('\n');
}
