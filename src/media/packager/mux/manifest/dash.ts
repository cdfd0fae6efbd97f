/**
 * The DASH MPD (ISO/IEC 23009-1, DASH-IF IOP) for `format=mpd-time-cmaf` and `format=mpd-time-csf`: a static
 * MPD with one Period, `SegmentTemplate` + `SegmentTimeline` addressed by `$Time$` (the segment's
 * `startTicks`, equal to the fMP4 `tfdt`) and `$Bandwidth$` (`Representation@bandwidth` =
 * `PresentationTrack.bitrateBps`, the `QualityLevels(…)` the origin routes on).
 *
 * Decisions:
 * - `profiles`: `urn:mpeg:dash:profile:isoff-live:2011` (time-addressed templates, one init segment per
 *   Representation) for both formats; CMAF adds `urn:mpeg:dash:profile:cmaf:2019` (ISO/IEC 23009-1 4th ed.,
 *   DASH-IF IOP v5). Players that do not know a profile ignore it.
 * - AdaptationSets: video per codec family (`avc1`/`avc3` vs `hvc1`/`hev1`, since switching codecs is not
 *   seamless), audio per language + codec + channel count (DASH-IF IOP: seamless switching within a set). The
 *   first audio set gets `Role main`, so players pick it by default.
 * - Text inside the MP4s (`stpp`, `wvtt`; `textTrackForm`): one AdaptationSet per language + codec after the audio,
 *   `contentType="text" mimeType="application/mp4"`, `Role subtitle`, segments on the video's timeline. Side-loaded
 *   WebVTT files follow as whole-file `text/vtt` sets.
 * - SegmentTemplate sits on each Representation: timescales (and so `t`/`d`) may differ between tracks.
 * - `minBufferTime` is the longest segment: a player that buffered one whole segment can always go on.
 * - `S@t` is the segment's decode time (`tfdt`), which is what `$Time$` must name. The composition delay of the
 *   first frame (B-frames, audio priming) is undone by the init segment's edit list (init-segment.ts), as for
 *   HLS; with a constant delay, each segment's earliest presentation time then equals its `S@t`.
 * - The Period starts at the presentation's first media time: `presentationTimeOffset` is the earliest first
 *   segment start of any audio/video track (0 for a whole asset, the clip's start for a time-filtered one, see
 *   `applyFilters`), in each track's timescale, so players start at the clip's start without a gap and tracks keep
 *   their relative timing. It is written only when not 0. `mediaPresentationDuration` is the presentation's
 *   (filtered) duration.
 * - Live (`Presentation.live`): `type="dynamic"` with `availabilityStartTime` (tick 0's wall-clock time),
 *   `publishTime`, `minimumUpdatePeriod`, `timeShiftBufferDepth` (the DVR window) and `suggestedPresentationDelay`
 *   (`dynamicAttributes`), `static` with the duration once ingest has ended; the SegmentTimeline lists the window's segments with their recording ticks, the Period
 *   starts at 0 with no `presentationTimeOffset`, and `UTCTiming` (http-iso) names `ctx.utcTimingUrl`.
 * - Low-latency live (`live.partTargetSec`, clear CMAF, still recording; DASH-IF "Low-latency Modes for DASH"): the
 *   SegmentTimeline also lists the open segment (`lowLatencyOf`) once the track has written its first part, with
 *   its known start and the target duration, and each SegmentTemplate says `availabilityTimeOffset` (segment target
 *   − part target: a segment is available once its first part is) with `availabilityTimeComplete="false"` (it is
 *   sent chunked while it grows, origin `live-chunked-segment.ts`); the MPD adds the DASH-IF low-latency profile and
 *   a `ServiceDescription` whose `Latency` target is `LOW_LATENCY_TARGET_PARTS` part targets.
 * - With `ctx.protection`, the root declares the `cenc`, `mspr` and `dashif` namespaces and each encrypted
 *   AdaptationSet (or Representation) its ContentProtection descriptors (`writeContentProtection`).
 */
import { InternalError } from '../../../../shared/errors.js';
import { textTrackBitrateBps, type LiveTimeline, type Presentation, type PresentationTrack } from '../../model/presentation.js';
import { protectionHeaders } from '../../encrypt/protection-headers.js';
import { systemIds } from '../../encrypt/drm-headers.js';
import { textTrackForm } from '../text/text-forms.js';
import {
  dashInitializationTemplate,
  dashMediaTemplate,
  escapeXml,
  languageTag,
  textTrackUrls,
  type ManifestContext,
  type ManifestProtection,
} from './manifest-context.js';

const LIVE_PROFILE = 'urn:mpeg:dash:profile:isoff-live:2011';
const CMAF_PROFILE = 'urn:mpeg:dash:profile:cmaf:2019';
const CHANNEL_SCHEME = 'urn:mpeg:dash:23003:3:audio_channel_configuration:2011';
const ROLE_SCHEME = 'urn:mpeg:dash:role:2011';
const MP4_PROTECTION_SCHEME = 'urn:mpeg:dash:mp4protection:2011';
const UTC_TIMING_SCHEME = 'urn:mpeg:dash:utc:http-iso:2014';
/** DASH-IF IOP v5 low-latency live profile (Part 9, "Low-latency Modes"). */
const LOW_LATENCY_PROFILE = 'http://www.dashif.org/guidelines/low-latency-live-v5';
/**
 * The latency a low-latency player aims at, in part targets (3 × ⅓ s = 1 s, as LL-HLS's `PART-HOLD-BACK`):
 * the player is at most one part behind the newest written one plus two parts of margin; `max` is twice that.
 */
const LOW_LATENCY_TARGET_PARTS = 3;
/**
 * Namespaces of the protection descriptors: `cenc:` (ISO/IEC 23001-7 `default_KID`, `pssh`), `mspr:` (PlayReady
 * `pro`) and `dashif:` (`Laurl`, DASH-IF IOP). dash.js matches `Laurl` by its prefix (`dashif`, `clearkey` or
 * `ck`), Shaka Player by the namespace, so both the prefix and the URI are fixed here.
 */
const PROTECTION_NAMESPACES = ' xmlns:cenc="urn:mpeg:cenc:2013" xmlns:mspr="urn:microsoft:playready" xmlns:dashif="https://dashif.org/CPS"';

interface AdaptationGroup {
  kind: 'video' | 'audio' | 'text';
  key: string;
  tracks: PresentationTrack[];
}

/** xs:duration with millisecond precision: `PT1H2M3.456S`. */
export function isoDuration(seconds: number): string {
  const totalMs = Math.max(0, Math.round(seconds * 1000));
  const h = Math.floor(totalMs / 3_600_000);
  const m = Math.floor((totalMs % 3_600_000) / 60_000);
  const ms = totalMs % 60_000;
  let out = 'PT';
  if (h > 0) out += `${h}H`;
  if (h > 0 || m > 0) out += `${m}M`;
  const frac = ms % 1000;
  out += `${(ms - frac) / 1000}.${String(frac).padStart(3, '0')}S`;
  return out;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * `@frameRate` as DASH's FrameRateType (`25`, `30000/1001`): the NTSC rates are recognised from the measured
 * average, anything else is written as a reduced fraction of thousandths.
 */
export function dashFrameRate(fps: number): string | undefined {
  if (!(fps > 0) || !Number.isFinite(fps)) return undefined;
  const rounded = Math.round(fps);
  if (Math.abs(fps - rounded) < 0.001) return String(rounded);
  const ntsc = Math.round((fps * 1001) / 1000);
  if (Math.abs(fps - (ntsc * 1000) / 1001) < 0.001) return `${ntsc * 1000}/1001`;
  const num = Math.round(fps * 1000);
  const d = gcd(num, 1000);
  return `${num / d}/${1000 / d}`;
}

function codecFamily(codecs: string): string {
  const fourcc = codecs.split('.')[0].toLowerCase();
  if (fourcc === 'avc1' || fourcc === 'avc3') return 'avc';
  if (fourcc === 'hvc1' || fourcc === 'hev1') return 'hevc';
  return fourcc;
}

function adaptationGroups(p: Presentation, ctx: ManifestContext): AdaptationGroup[] {
  const groups = new Map<string, AdaptationGroup>();
  for (const t of p.tracks) {
    let key: string;
    if (t.kind === 'video') key = `video/${codecFamily(t.track.codecs)}`;
    else if (t.kind === 'audio') key = `audio/${t.language}/${t.track.codecs}/${t.track.audio?.channels ?? 0}`;
    // Text inside the MP4s (TTML/IMSC1 `stpp`, WebVTT `wvtt`): fMP4 text segments, one set per language + codec.
    else if (textTrackForm(ctx.format, t.track) === 'fmp4') key = `text/${t.language}/${t.track.codecs}`;
    else continue;
    let group = groups.get(key);
    if (!group) {
      group = { kind: t.kind, key, tracks: [] };
      groups.set(key, group);
    }
    group.tracks.push(t);
  }
  // Video first, then audio, then text, each in presentation order (Map keeps insertion order).
  const all = [...groups.values()];
  return [...all.filter((g) => g.kind === 'video'), ...all.filter((g) => g.kind === 'audio'), ...all.filter((g) => g.kind === 'text')];
}

/** The open segment a low-latency MPD lists after the closed ones: its start and the duration it is cut at. */
interface OpenSegment {
  startTicks: number;
  durationTicks: number;
}

/** What a low-latency live MPD adds, or undefined for any other MPD (VOD, Default live, ended, CSF). */
interface LowLatency {
  partTargetSec: number;
  availabilityTimeOffsetSec: number;
}

/**
 * Low-latency DASH applies to a LowLatency event's clear CMAF MPD while it records (a protected stream plays by
 * whole segments, as its LL-HLS playlists do).
 */
export function lowLatencyOf(p: Presentation, ctx: ManifestContext): LowLatency | undefined {
  const partTargetSec = p.live?.partTargetSec;
  if (!p.live || p.live.isEnded || !partTargetSec || ctx.format !== 'mpd-time-cmaf' || ctx.protection) return undefined;
  return { partTargetSec, availabilityTimeOffsetSec: Math.max(0, p.targetSegmentSec - partTargetSec) };
}

/**
 * The segment a track is writing (the one after its last listed segment) once its first part exists: start from
 * the part, duration the segment target (or what its parts already cover, if more). Undefined before its first part.
 */
export function openSegmentOf(t: PresentationTrack, targetSegmentSec: number): OpenSegment | undefined {
  const s = t.segments;
  const openIndex = s.firstIndex + s.length;
  let covered = 0;
  let startTicks: number | undefined;
  for (const part of t.parts ?? []) {
    if (part.segmentIndex !== openIndex) continue;
    startTicks ??= part.segmentStartTicks;
    covered = Math.max(covered, part.startTicks + part.durationTicks - part.segmentStartTicks);
  }
  if (startTicks === undefined) return undefined;
  return { startTicks, durationTicks: Math.max(covered, Math.round(targetSegmentSec * t.track.timescale)) };
}

/** Seconds as an xs:double with at most millisecond precision (`0.5`, `1.52`). */
function decimalSec(sec: number): string {
  return String(Math.round(sec * 1000) / 1000);
}

/**
 * The `S` elements of one track: `t` on the first and after any gap, equal durations run-length coded in `r`;
 * `open` (low-latency) is listed last with its own `t`.
 */
function segmentTimeline(t: PresentationTrack, out: string[], indent: string, open?: OpenSegment): void {
  const { startTicks: start, durationTicks: duration, length } = t.segments;
  let expectedStart = -1;
  let i = 0;
  while (i < length) {
    let repeat = 0;
    while (i + repeat + 1 < length && duration[i + repeat + 1] === duration[i] && start[i + repeat + 1] === start[i + repeat] + duration[i + repeat]) repeat++;
    const tAttr = start[i] !== expectedStart ? ` t="${start[i]}"` : '';
    out.push(`${indent}<S${tAttr} d="${duration[i]}"${repeat > 0 ? ` r="${repeat}"` : ''}/>`);
    expectedStart = start[i + repeat] + duration[i + repeat];
    i += repeat + 1;
  }
  if (open) out.push(`${indent}<S t="${open.startTicks}" d="${open.durationTicks}"/>`);
}

function representationId(t: PresentationTrack): string {
  // RepresentationID may not contain whitespace (ISO/IEC 23009-1 §5.3.5.2); names are already URL-safe.
  return `${t.name}_${t.bitrateBps}`.replace(/\s/g, '_');
}

/**
 * The ContentProtection descriptors of one key: `mp4protection` with the scheme and `cenc:default_KID` first
 * (DASH-IF IOP §7.7.2), then one per DRM, Widevine and PlayReady before ClearKey so that a player able to use
 * several picks the real DRM. ClearKey carries only its licence server (`dashif:Laurl`) and no `cenc:pssh`: both
 * players then build the init data from `default_KID` (Shaka a W3C common PSSH, dash.js a `keyids` JSON), while
 * dash.js 5.2 given a `cenc:pssh` there passes the box to `generateRequest` as `keyids` and the CDM refuses it
 * (checked in Chromium by test/e2e/protection-signalling.test.ts). The init segment still carries the common PSSH.
 */
function writeContentProtection(protection: ManifestProtection, keyId: string, indent: string, out: string[]): void {
  const scheme = protection.scheme;
  out.push(`${indent}<ContentProtection schemeIdUri="${MP4_PROTECTION_SCHEME}" value="${scheme}" cenc:default_KID="${keyId}"/>`);
  const headers = protectionHeaders(protection, [keyId]);
  const inner = `${indent}  `;
  if (headers.widevinePssh) {
    out.push(`${indent}<ContentProtection schemeIdUri="urn:uuid:${systemIds.widevine}">`);
    out.push(`${inner}<cenc:pssh>${headers.widevinePssh.toString('base64')}</cenc:pssh>`);
    const url = protection.widevine?.licenseUrl;
    if (url) out.push(`${inner}<dashif:Laurl>${escapeXml(url)}</dashif:Laurl>`);
    out.push(`${indent}</ContentProtection>`);
  }
  if (headers.playReadyPssh && headers.playReadyObject) {
    out.push(`${indent}<ContentProtection schemeIdUri="urn:uuid:${systemIds.playReady}" value="MSPR 2.0">`);
    out.push(`${inner}<cenc:pssh>${headers.playReadyPssh.toString('base64')}</cenc:pssh>`);
    out.push(`${inner}<mspr:pro>${headers.playReadyObject.toString('base64')}</mspr:pro>`);
    const url = protection.playReady?.licenseUrl;
    if (url) out.push(`${inner}<dashif:Laurl>${escapeXml(url)}</dashif:Laurl>`);
    out.push(`${indent}</ContentProtection>`);
  }
  if (protection.clearKey) {
    out.push(`${indent}<ContentProtection schemeIdUri="urn:uuid:${systemIds.clearKeyDash}" value="ClearKey1.0">`);
    out.push(`${inner}<dashif:Laurl>${escapeXml(protection.clearKey.licenseUrl)}</dashif:Laurl>`);
    out.push(`${indent}</ContentProtection>`);
  }
}

/** The key of every track of the set when they share one (the usual case), `null` when they differ or some are clear. */
function sharedKeyId(protection: ManifestProtection, tracks: PresentationTrack[]): string | null | undefined {
  const first = protection.keyIdOf(tracks[0]);
  for (let i = 1; i < tracks.length; i++) if (protection.keyIdOf(tracks[i]) !== first) return null;
  return first;
}

/** The earliest first-segment start of any audio/video track, as ticks of the track it comes from. */
export function presentationStart(p: Presentation): { ticks: number; timescale: number } {
  let best = { ticks: 0, timescale: 1 };
  let bestSec = Infinity;
  for (const t of p.tracks) {
    if (t.kind === 'text' || t.segments.length === 0) continue;
    const sec = t.segments.startTicks[0] / t.track.timescale;
    if (sec < bestSec) {
      bestSec = sec;
      best = { ticks: t.segments.startTicks[0], timescale: t.track.timescale };
    }
  }
  return best;
}

/** `start` in `timescale` ticks, rounded down (so no track's first segment starts before its Period). */
function offsetTicks(start: { ticks: number; timescale: number }, timescale: number): number {
  if (start.ticks === 0) return 0;
  if (start.timescale === timescale) return start.ticks;
  const product = start.ticks * timescale;
  if (Number.isSafeInteger(product)) return Math.floor(product / start.timescale);
  return Number((BigInt(start.ticks) * BigInt(timescale)) / BigInt(start.timescale));
}

function writeRepresentation(
  t: PresentationTrack,
  ctx: ManifestContext,
  out: string[],
  perTrackProtection: boolean,
  start: { ticks: number; timescale: number },
  lowLatency: LowLatency | undefined,
  targetSegmentSec: number,
): void {
  let attrs = `id="${escapeXml(representationId(t))}" bandwidth="${t.bitrateBps}" codecs="${escapeXml(t.track.codecs)}"`;
  const video = t.track.video;
  if (t.kind === 'video' && video) {
    if (video.width > 0 && video.height > 0) attrs += ` width="${video.width}" height="${video.height}"`;
    const fr = dashFrameRate(video.frameRate);
    if (fr) attrs += ` frameRate="${fr}"`;
  }
  const audio = t.track.audio;
  if (t.kind === 'audio' && audio && audio.sampleRate > 0) attrs += ` audioSamplingRate="${audio.sampleRate}"`;
  out.push(`      <Representation ${attrs}>`);
  const pto = offsetTicks(start, t.track.timescale);
  if (perTrackProtection && ctx.protection) {
    const keyId = ctx.protection.keyIdOf(t);
    if (keyId) writeContentProtection(ctx.protection, keyId, '        ', out);
  }
  const availability = lowLatency ? ` availabilityTimeOffset="${decimalSec(lowLatency.availabilityTimeOffsetSec)}" availabilityTimeComplete="false"` : '';
  out.push(
    `        <SegmentTemplate timescale="${t.track.timescale}"${pto > 0 ? ` presentationTimeOffset="${pto}"` : ''}` +
      ` initialization="${escapeXml(dashInitializationTemplate(t, ctx))}"` +
      ` media="${escapeXml(dashMediaTemplate(t, ctx))}"${availability}>`,
  );
  out.push('          <SegmentTimeline>');
  segmentTimeline(t, out, '            ', lowLatency ? openSegmentOf(t, targetSegmentSec) : undefined);
  out.push('          </SegmentTimeline>');
  out.push('        </SegmentTemplate>');
  out.push('      </Representation>');
}

function writeAdaptationSet(
  group: AdaptationGroup,
  id: number,
  isMainAudio: boolean,
  ctx: ManifestContext,
  out: string[],
  start: { ticks: number; timescale: number },
  lowLatency: LowLatency | undefined,
  targetSegmentSec: number,
): void {
  const first = group.tracks[0];
  // Text segments are ISO BMFF carrying no audio or video: `application/mp4` (RFC 4337, DASH-IF IOP §6.4.5).
  const mimeType = group.kind === 'text' ? 'application/mp4' : `${group.kind}/mp4`;
  let attrs = `id="${id}" contentType="${group.kind}" mimeType="${mimeType}" segmentAlignment="true" startWithSAP="1"`;
  if (group.kind === 'video') {
    let maxWidth = 0;
    let maxHeight = 0;
    let maxFps = 0;
    for (const t of group.tracks) {
      const v = t.track.video;
      if (!v) continue;
      maxWidth = Math.max(maxWidth, v.width);
      maxHeight = Math.max(maxHeight, v.height);
      maxFps = Math.max(maxFps, v.frameRate);
    }
    if (maxWidth > 0 && maxHeight > 0) attrs += ` maxWidth="${maxWidth}" maxHeight="${maxHeight}"`;
    const fr = dashFrameRate(maxFps);
    if (fr) attrs += ` maxFrameRate="${fr}"`;
  } else {
    const lang = languageTag(first.language);
    if (lang) attrs += ` lang="${escapeXml(lang)}"`;
  }
  out.push(`    <AdaptationSet ${attrs}>`);
  // Schema order inside AdaptationSet: common descriptors (AudioChannelConfiguration…), then Role, then
  // Representation (ISO/IEC 23009-1 §5.3.3.2).
  const channels = first.track.audio?.channels;
  if (group.kind === 'audio' && channels) {
    out.push(`      <AudioChannelConfiguration schemeIdUri="${CHANNEL_SCHEME}" value="${channels}"/>`);
  }
  // ContentProtection follows AudioChannelConfiguration and precedes Role (RepresentationBaseType). A set whose
  // tracks do not share one key (clear and encrypted, or two keys) signals it on each Representation instead.
  let perTrackProtection = false;
  if (ctx.protection) {
    const keyId = sharedKeyId(ctx.protection, group.tracks);
    if (keyId) writeContentProtection(ctx.protection, keyId, '      ', out);
    else perTrackProtection = keyId === null;
  }
  if (isMainAudio) out.push(`      <Role schemeIdUri="${ROLE_SCHEME}" value="main"/>`);
  if (group.kind === 'text') out.push(`      <Role schemeIdUri="${ROLE_SCHEME}" value="subtitle"/>`);
  for (const t of group.tracks) writeRepresentation(t, ctx, out, perTrackProtection, start, lowLatency, targetSegmentSec);
  out.push('    </AdaptationSet>');
}

/** The longest segment of any track, seconds. */
function longestSegmentSec(p: Presentation): number {
  let max = 0;
  for (const t of p.tracks) {
    for (let i = 0; i < t.segments.length; i++) max = Math.max(max, t.segments.durationTicks[i] / t.track.timescale);
  }
  return max > 0 ? max : p.targetSegmentSec;
}

/**
 * The static MPD of the presentation. Template URLs are relative to `{manifestName}.ism/`.
 *
 * @example
 * <MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT1M0.000S" minBufferTime="PT2.000S" profiles="urn:mpeg:dash:profile:isoff-live:2011,urn:mpeg:dash:profile:cmaf:2019">
 *   <Period id="0" start="PT0.000S">
 *     <AdaptationSet id="1" contentType="video" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1" maxWidth="1280" maxHeight="720" maxFrameRate="25">
 *       <Representation id="video_3400000" bandwidth="3400000" codecs="avc1.64001f" width="1280" height="720" frameRate="25">
 *         <SegmentTemplate timescale="12800" initialization="QualityLevels($Bandwidth$)/Fragments(video=i,format=mpd-time-cmaf)" media="QualityLevels($Bandwidth$)/Fragments(video=$Time$,format=mpd-time-cmaf)">
 *           <SegmentTimeline><S t="0" d="25600" r="29"/></SegmentTimeline>
 */
export function dashMpd(p: Presentation, ctx: ManifestContext): string {
  if (ctx.format !== 'mpd-time-cmaf' && ctx.format !== 'mpd-time-csf') {
    throw new InternalError('UnsupportedFormat', `An MPD cannot be written for format '${ctx.format}'`);
  }
  const lowLatency = lowLatencyOf(p, ctx);
  let profiles = ctx.format === 'mpd-time-cmaf' ? `${LIVE_PROFILE},${CMAF_PROFILE}` : LIVE_PROFILE;
  if (lowLatency) profiles += `,${LOW_LATENCY_PROFILE}`;
  if (ctx.protection?.scheme === 'aes-128') {
    throw new InternalError('UnsupportedEncryption', 'DASH carries Common Encryption (cenc, cbcs), not AES-128 envelope encryption');
  }
  const namespaces = ctx.protection ? PROTECTION_NAMESPACES : '';
  const out: string[] = [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"${namespaces} ${p.live ? dynamicAttributes(p, p.live, lowLatency) : `type="static" mediaPresentationDuration="${isoDuration(p.durationSec)}"`}` +
      ` minBufferTime="${isoDuration(longestSegmentSec(p))}" profiles="${profiles}">`,
  ];
  // ServiceDescription precedes the Periods (ISO/IEC 23009-1 §5.3.1.2); dash.js and Shaka Player aim at its
  // Latency target (ms) in low-latency mode.
  if (lowLatency) {
    const targetMs = Math.round(LOW_LATENCY_TARGET_PARTS * lowLatency.partTargetSec * 1000);
    out.push(
      '  <ServiceDescription id="0">',
      `    <Latency target="${targetMs}" min="${Math.round(lowLatency.partTargetSec * 2000)}" max="${2 * targetMs}"/>`,
      '    <PlaybackRate min="0.96" max="1.04"/>',
      '  </ServiceDescription>',
    );
  }
  out.push(`  <Period id="0" start="PT0.000S">`);
  let id = 1;
  let mainAudioWritten = false;
  // Live: the Period starts at tick 0, which is `availabilityStartTime`, so no offset: `S@t` keep the recording's
  // ticks and a player computes each segment's availability from them.
  const start = p.live ? { ticks: 0, timescale: 1 } : presentationStart(p);
  for (const group of adaptationGroups(p, ctx)) {
    const isMainAudio = group.kind === 'audio' && !mainAudioWritten;
    if (isMainAudio) mainAudioWritten = true;
    writeAdaptationSet(group, id++, isMainAudio, ctx, out, start, lowLatency, p.targetSegmentSec);
  }
  for (const t of p.textTracks ?? []) {
    // Side-loaded WebVTT: the whole file as the Representation's BaseURL (DASH-IF IOP §6.4.5).
    const lang = languageTag(t.language);
    out.push(
      `    <AdaptationSet id="${id++}" contentType="text" mimeType="text/vtt"${lang ? ` lang="${escapeXml(lang)}"` : ''}>`,
      `      <Role schemeIdUri="urn:mpeg:dash:role:2011" value="subtitle"/>`,
      `      <Representation id="${escapeXml(`text_${t.name}`)}" bandwidth="${textTrackBitrateBps}">`,
      `        <BaseURL>${escapeXml(textTrackUrls(t.name, ctx).file)}</BaseURL>`,
      '      </Representation>',
      '    </AdaptationSet>',
    );
  }
  out.push('  </Period>');
  // Last in MPD (ISO/IEC 23009-1 §5.3.1.2 element order): where dash.js and Shaka Player read the server's clock.
  if (p.live && ctx.utcTimingUrl) out.push(`  <UTCTiming schemeIdUri="${UTC_TIMING_SCHEME}" value="${escapeXml(ctx.utcTimingUrl)}"/>`);
  out.push('</MPD>', '');
  return out.join('\n');
}

/**
 * The root attributes of a live MPD. While the event runs: `minimumUpdatePeriod` one target segment (players
 * reload about once per new segment), `timeShiftBufferDepth` the DVR window, `suggestedPresentationDelay` three
 * segments behind the live edge (low latency: the latency target). Once ingest has ended (`isEnded`) the MPD turns `static` (ISO/IEC 23009-1 lets a
 * dynamic MPD become static) with `mediaPresentationDuration` the end of the last segment since tick 0, keeping
 * `availabilityStartTime`, the Period at 0 and no offset so that a playing session's timeline does not move:
 * dash.js 5 and Shaka Player then play to that end and stop (test/e2e/live-playback.test.ts), whereas a dynamic MPD
 * that only gains `mediaPresentationDuration` leaves both waiting at the last segment for ever.
 */
function dynamicAttributes(p: Presentation, live: LiveTimeline, lowLatency: LowLatency | undefined): string {
  if (live.isEnded)
    return `type="static" availabilityStartTime="${new Date(live.availabilityStartMs).toISOString()}" mediaPresentationDuration="${isoDuration(liveEndSec(p))}"`;
  let attrs = `type="dynamic" availabilityStartTime="${new Date(live.availabilityStartMs).toISOString()}" publishTime="${new Date(live.publishedMs).toISOString()}"`;
  // Low latency: the next segment's `t` is only known from a newer MPD, so players reload once per part.
  attrs += ` minimumUpdatePeriod="${isoDuration(lowLatency ? lowLatency.partTargetSec : p.targetSegmentSec)}"`;
  if (Number.isFinite(live.windowSec) && live.windowSec > 0) attrs += ` timeShiftBufferDepth="${isoDuration(live.windowSec)}"`;
  // Low latency: the ServiceDescription's target (players in low-latency mode read that one).
  const delaySec = lowLatency ? LOW_LATENCY_TARGET_PARTS * lowLatency.partTargetSec : 3 * p.targetSegmentSec;
  return `${attrs} suggestedPresentationDelay="${isoDuration(delaySec)}"`;
}

/** The end of the last listed segment of any audio/video track, seconds since tick 0. */
function liveEndSec(p: Presentation): number {
  let end = 0;
  for (const t of p.tracks) {
    const n = t.segments.length;
    if (t.kind === 'text' || n === 0) continue;
    end = Math.max(end, (t.segments.startTicks[n - 1] + t.segments.durationTicks[n - 1]) / t.track.timescale);
  }
  return end;
}
