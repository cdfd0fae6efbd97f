/**
 * HLS playlists (RFC 8216, with the HLS authoring specification for Apple devices) for `format=m3u8-cmaf`
 * (fMP4/CMAF segments behind `EXT-X-MAP`) and `format=m3u8-aapl` (MPEG-TS segments).
 *
 * Decisions:
 * - `EXT-X-VERSION` is 7 for CMAF (`EXT-X-MAP` without `EXT-X-I-FRAMES-ONLY` needs ≥ 6, RFC 8216 §7; 7 is what
 *   CMAF HLS packagers commonly declare, and every player that reads fMP4 HLS reads 7) and 4 for TS
 *   (floating-point `EXTINF` needs ≥ 3; AMS names `m3u8-aapl` also `m3u8-aapl-v4`, MKIO-API.md §17.2). The
 *   multivariant playlist declares the same version as its media playlists.
 * - Video variants are listed by ascending `BANDWIDTH`, so a player that starts on the first listed variant
 *   (AVPlayer by default; hls.js ≥ 1.5 only when its bandwidth estimate finds nothing, `firstLevel` fallback in
 *   `abr-controller.ts`) starts fast on the lowest rung and climbs. An asset filter's `firstQuality` moves the
 *   closest variant to the top instead (`ManifestContext.firstQualityBitrateBps`).
 * - One audio-only variant per audio group follows the video variants unless `audio-only=false` (AMS default,
 *   §17.3). hls.js ignores it (`level-controller.ts` removes audio-only levels when video levels exist).
 * - `BANDWIDTH` is the video's peak bitrate over any 1 s window plus the highest audio peak in its group: a 1 s
 *   peak bounds every longer segment's average from above, which RFC 8216 §4.3.4.2 asks of the peak segment
 *   bitrate. `AVERAGE-BANDWIDTH` adds the averages the same way.
 * - Every media playlist of the presentation declares the same `EXT-X-TARGETDURATION` (RFC 8216 §6.2.4): the
 *   longest segment of any audio or video track rounded to the nearest second, the bound §4.3.3.1 sets.
 * - A filtered presentation (`applyFilters`) needs nothing special: its playlists list the kept segments, with
 *   their own URLs, `EXT-X-MEDIA-SEQUENCE` is the first kept segment's index, and players start at the first
 *   listed segment, so no `EXT-X-START` is written.
 * - `EXTINF` values are the differences of segment boundaries rounded to the millisecond, so their sum never
 *   drifts from the media timeline (a per-segment `toFixed(3)` drifts up to 1.8 s over 3600 segments).
 * - Live (`Presentation.live`): media playlists list the DVR window the presentation holds (`EXT-X-MEDIA-SEQUENCE`
 *   is the first listed segment's index, as for a filtered one), carry `EXT-X-PROGRAM-DATE-TIME` on the first
 *   segment, no `EXT-X-PLAYLIST-TYPE`, and `EXT-X-ENDLIST` only once `live.isEnded`. The target duration is then
 *   at least the cutting target rounded up, so that it stays the same from one reload to the next. No I-frame
 *   playlists.
 * - LL-HLS (draft-pantos-hls-rfc8216bis §4.4.3.7–4.4.5.2, §6.2.5.2): a live CMAF presentation with
 *   `live.partTargetSec` whose track carries `parts` (LowLatency events) also gets `EXT-X-SERVER-CONTROL`
 *   (`CAN-BLOCK-RELOAD=YES`, the origin answers `_HLS_msn`/`_HLS_part`; `PART-HOLD-BACK` three part targets, the
 *   spec's recommended minimum), `EXT-X-PART-INF`, the `EXT-X-PART`s of its last segments before their
 *   `EXTINF` and those of the open segment after the last one, then an `EXT-X-PRELOAD-HINT` for the next part
 *   (none once ended). Part URIs are `Fragments(video={segment start},format=m3u8-cmaf,part={k})`. TS playlists
 *   and protected streams stay regular live HLS. `EXT-X-VERSION` stays 7: no LL-HLS tag requires a higher one
 *   (only delta updates, `EXT-X-SKIP`, which Reel does not offer, need 9), and players that predate LL-HLS
 *   ignore the new tags and play the whole segments.
 * - Live discontinuities (`live.discontinuities`: an encoder reconnected, its timestamps jumped): the timeline
 *   stays continuous, but the segment after one comes from another encoder session, so `EXT-X-DISCONTINUITY`
 *   precedes it (its parts too, LL-HLS) and players reset their decoders there. One at or before the first
 *   listed segment is no longer tagged and counts in `EXT-X-DISCONTINUITY-SEQUENCE` (RFC 8216 §6.2.1: the
 *   sequence grows as tagged segments leave the DVR window), which is written once it is not 0.
 * - Subtitles: side-loaded WebVTT files (one whole-file segment) and text tracks inside the MP4s (`textTrackForm`:
 *   `wvtt` as WebVTT segments without `EXT-X-MAP`, `stpp` as fMP4 IMSC1 segments in CMAF only). WebVTT renditions
 *   form the `subs` SUBTITLES group, IMSC1 ones `subs-imsc1` (one format per group: hls.js reads a group's format
 *   from the variant's CODECS), whose variants' CODECS add `stpp.ttml.im1t`; with both, each video variant is
 *   written once per group (as for audio groups).
 * - With `ctx.protection`, encrypted tracks' playlists get key tags after `EXT-X-MAP` and the multivariant
 *   playlist SAMPLE-AES* session keys (`keyAttributeLists`, `sessionKeyLines`); clear tracks get none.
 */
import { InternalError } from '../../../../shared/errors.js';
import type { Presentation, PresentationPart, PresentationTrack } from '../../model/presentation.js';
import { iFrameStreamInfLines } from './hls-iframes.js';
import { textTrackForm } from '../text/text-forms.js';
import { keyAttributeLists, quoted } from './hls-keys.js';
import { fragmentName, languageTag, mediaPlaylistUrl, partFragmentName, textTrackUrls, type ManifestContext } from './manifest-context.js';

/** HLS renditions are grouped by codec: a variant may only reference audio its CODECS attribute names. */
interface AudioGroup {
  id: string;
  codecs: string;
  tracks: PresentationTrack[];
  peakBps: number;
  averageBps: number;
}

interface Variant {
  bandwidth: number;
  averageBandwidth: number;
  attributes: string;
  uri: string;
  /** Video bitrate, for `firstQuality`; undefined for audio-only variants. */
  videoBitrateBps?: number;
  height: number;
}

function hlsVersion(ctx: ManifestContext): number {
  if (ctx.format === 'm3u8-cmaf') return 7;
  // KEYFORMAT and KEYFORMATVERSIONS need version 5 (RFC 8216 §7); AES-128 names neither.
  if (ctx.format === 'm3u8-aapl') return ctx.protection && ctx.protection.scheme !== 'aes-128' ? 5 : 4;
  throw new InternalError('UnsupportedFormat', `HLS playlists cannot be written for format '${ctx.format}'`);
}

/** Average bitrate as measured from the samples, else the advertised one. */
function averageBps(t: PresentationTrack): number {
  return Math.max(1, Math.round(t.track.bitrateBps > 0 ? t.track.bitrateBps : t.bitrateBps));
}

/** Peak segment bitrate as measured, never below the average. */
function peakBps(t: PresentationTrack): number {
  const peak = t.peakBitrateBps ?? t.track.maxBitrateBps;
  return Math.max(Math.ceil(peak > 0 ? peak : 0), averageBps(t));
}

/**
 * `EXT-X-SESSION-KEY` lines for the multivariant playlist: the SAMPLE-AES* key tags of every media playlist, once
 * per key, with the same METHOD, KEYFORMAT and URI as there (RFC 8216 §4.3.4.5). Shaka Player builds the DRM
 * info of every variant from these before it loads any media playlist, so variants it has not loaded yet are
 * known to need the DRMs/ClearKey; Apple's authoring specification asks for them with FairPlay. AES-128 keys are
 * not repeated: hls.js and AVPlayer read envelope keys from the media playlists, and Shaka would fetch every
 * session AES key up front.
 */
function sessionKeyLines(p: Presentation, ctx: ManifestContext): string[] {
  const protection = ctx.protection;
  if (!protection || protection.scheme === 'aes-128') return [];
  const keyIds = new Set<string>();
  for (const t of p.tracks) {
    const keyId = t.kind === 'text' ? undefined : protection.keyIdOf(t);
    if (keyId) keyIds.add(keyId);
  }
  // A set of lines: no two session keys may have the same attributes (§4.3.4.5), e.g. one skd:// URI for all keys.
  const lines = new Set<string>();
  for (const keyId of keyIds) for (const attrs of keyAttributeLists(protection, keyId, ctx)) lines.add(`#EXT-X-SESSION-KEY:${attrs}`);
  return [...lines];
}

function audioGroups(p: Presentation): AudioGroup[] {
  const groups = new Map<string, AudioGroup>();
  for (const t of p.tracks) {
    if (t.kind !== 'audio') continue;
    const codecs = t.track.codecs;
    let group = groups.get(codecs);
    if (!group) {
      group = { id: `audio-${codecs}`, codecs, tracks: [], peakBps: 0, averageBps: 0 };
      groups.set(codecs, group);
    }
    group.tracks.push(t);
    group.peakBps = Math.max(group.peakBps, peakBps(t));
    group.averageBps = Math.max(group.averageBps, averageBps(t));
  }
  return [...groups.values()];
}

function mediaLines(groups: AudioGroup[], ctx: ManifestContext): string[] {
  const lines: string[] = [];
  for (const group of groups) {
    const names = new Set<string>();
    group.tracks.forEach((t, i) => {
      // NAME must be unique within a group (RFC 8216 §4.3.4.1.1); track names are unique with their bitrate.
      let name = t.name;
      if (names.has(name)) name = `${t.name}_${t.bitrateBps}`;
      names.add(name);
      const lang = languageTag(t.language);
      let attrs = `TYPE=AUDIO,GROUP-ID=${quoted(group.id)},NAME=${quoted(name)}`;
      if (lang) attrs += `,LANGUAGE=${quoted(lang)}`;
      attrs += `,DEFAULT=${i === 0 ? 'YES' : 'NO'},AUTOSELECT=YES`;
      const channels = t.track.audio?.channels;
      if (channels) attrs += `,CHANNELS="${channels}"`;
      attrs += `,URI=${quoted(mediaPlaylistUrl(t, ctx))}`;
      lines.push(`#EXT-X-MEDIA:${attrs}`);
    });
  }
  return lines;
}

/** Text tracks inside the MP4s that this format offers (`textTrackForm`): `wvtt` always, `stpp` in CMAF only. */
function mp4TextTracks(p: Presentation, ctx: ManifestContext): PresentationTrack[] {
  return p.tracks.filter((t) => t.kind === 'text' && textTrackForm(ctx.format, t.track) !== undefined);
}

/** What a variant's CODECS says of IMSC1 subtitles (Apple HLS authoring spec); WebVTT is not named. */
const IMSC1_TEXT_CODECS = 'stpp.ttml.im1t';

/**
 * A SUBTITLES group: WebVTT renditions (side-loaded files, `wvtt` tracks) in `subs`, IMSC1 (`stpp`) in `subs-imsc1`.
 * Renditions of one group must be of one format: hls.js parses a group's segments as IMSC1 or WebVTT from the
 * variant's CODECS, so a mixed group breaks one of the two.
 */
interface SubtitleGroup {
  id: string;
  /** Added to the CODECS of the variants that name the group. */
  codecs?: string;
}

const webVttGroup: SubtitleGroup = { id: 'subs' };
const imsc1Group: SubtitleGroup = { id: 'subs-imsc1', codecs: IMSC1_TEXT_CODECS };

function subtitleGroupOf(track: PresentationTrack): SubtitleGroup {
  return track.track.fourcc === 'stpp' ? imsc1Group : webVttGroup;
}

/** The SUBTITLES groups the presentation has in this format: none, one, or both (each variant is then written twice). */
function subtitleGroups(p: Presentation, ctx: ManifestContext): SubtitleGroup[] {
  const text = mp4TextTracks(p, ctx);
  const groups: SubtitleGroup[] = [];
  if ((p.textTracks?.length ?? 0) > 0 || text.some((t) => subtitleGroupOf(t) === webVttGroup)) groups.push(webVttGroup);
  if (text.some((t) => subtitleGroupOf(t) === imsc1Group)) groups.push(imsc1Group);
  return groups;
}

/**
 * Subtitle renditions (RFC 8216 §4.3.4.1): side-loaded WebVTT files, then the text tracks inside the MP4s (WebVTT
 * segments for `wvtt`, fMP4 IMSC1 segments for `stpp`); each variant then names its group with `SUBTITLES=`.
 */
function subtitleLines(p: Presentation, ctx: ManifestContext): string[] {
  const names = new Set<string>();
  const line = (group: SubtitleGroup, name: string, language: string, uri: string) => {
    // NAME must be unique within the group (RFC 8216 §4.3.4.1.1); unique overall here.
    let unique = name;
    for (let n = 2; names.has(unique); n++) unique = `${name}_${n}`;
    names.add(unique);
    const lang = languageTag(language);
    return (
      `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=${quoted(group.id)},NAME=${quoted(unique)}` +
      `${lang ? `,LANGUAGE=${quoted(lang)}` : ''},DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI=${quoted(uri)}`
    );
  };
  return [
    ...(p.textTracks ?? []).map((t) => line(webVttGroup, t.name, t.language, textTrackUrls(t.name, ctx).playlist)),
    ...mp4TextTracks(p, ctx).map((t) => line(subtitleGroupOf(t), t.name, t.language, mediaPlaylistUrl(t, ctx))),
  ];
}

/**
 * The playlist of one side-loaded subtitle file: the whole file as one segment. Its EXTINF is the
 * presentation's duration, longer than the shared target duration; players accept that for subtitles.
 */
export function hlsTextPlaylist(p: Presentation, name: string, ctx: ManifestContext): string {
  const seconds = Math.max(0.001, p.durationSec);
  return [
    '#EXTM3U',
    `#EXT-X-VERSION:${hlsVersion(ctx)}`,
    `#EXT-X-TARGETDURATION:${Math.ceil(seconds)}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    `#EXTINF:${seconds.toFixed(3)},`,
    textTrackUrls(name, ctx).file.replace(/^QualityLevels\(\d+\)\//, ''),
    '#EXT-X-ENDLIST',
    '',
  ].join('\n');
}

function videoVariants(p: Presentation, groups: AudioGroup[], ctx: ManifestContext): Variant[] {
  const variants: Variant[] = [];
  const subtitles = subtitleGroups(p, ctx);
  const forSubtitles: Array<SubtitleGroup | undefined> = subtitles.length > 0 ? subtitles : [undefined];
  for (const t of p.tracks) {
    if (t.kind !== 'video') continue;
    const video = t.track.video;
    let common = '';
    if (video && video.width > 0 && video.height > 0) common += `,RESOLUTION=${video.width}x${video.height}`;
    if (video && video.frameRate > 0) common += `,FRAME-RATE=${video.frameRate.toFixed(3)}`;
    const uri = mediaPlaylistUrl(t, ctx);
    const forGroups: Array<AudioGroup | undefined> = groups.length > 0 ? groups : [undefined];
    for (const group of forGroups) {
      for (const sub of forSubtitles) {
        const bandwidth = peakBps(t) + (group?.peakBps ?? 0);
        const averageBandwidth = averageBps(t) + (group?.averageBps ?? 0);
        let codecs = group ? `${t.track.codecs},${group.codecs}` : t.track.codecs;
        if (sub?.codecs) codecs += `,${sub.codecs}`;
        let attributes = `BANDWIDTH=${bandwidth},AVERAGE-BANDWIDTH=${averageBandwidth},CODECS=${quoted(codecs)}${common}`;
        if (group) attributes += `,AUDIO=${quoted(group.id)}`;
        if (sub) attributes += `,SUBTITLES=${quoted(sub.id)}`;
        variants.push({ bandwidth, averageBandwidth, attributes, uri, videoBitrateBps: t.bitrateBps, height: video?.height ?? 0 });
      }
    }
  }
  variants.sort((a, b) => a.bandwidth - b.bandwidth || a.height - b.height);
  return variants;
}

function audioOnlyVariants(groups: AudioGroup[], ctx: ManifestContext): Variant[] {
  return groups.map((group) => ({
    bandwidth: group.peakBps,
    averageBandwidth: group.averageBps,
    attributes: `BANDWIDTH=${group.peakBps},AVERAGE-BANDWIDTH=${group.averageBps},CODECS=${quoted(group.codecs)},AUDIO=${quoted(group.id)}`,
    // The group's default rendition; RFC 8216 §4.3.4.2.1 lets the variant URI name one of its renditions.
    uri: mediaPlaylistUrl(group.tracks[0], ctx),
    height: 0,
  }));
}

/** Moves the video variant closest to `bitrateBps` (asset filter `firstQuality`) to the front. */
function putFirstQualityFirst(variants: Variant[], bitrateBps: number): void {
  let best = -1;
  for (let i = 0; i < variants.length; i++) {
    const v = variants[i].videoBitrateBps;
    if (v === undefined) continue;
    if (best < 0 || Math.abs(v - bitrateBps) < Math.abs((variants[best].videoBitrateBps as number) - bitrateBps)) best = i;
  }
  if (best > 0) variants.unshift(...variants.splice(best, 1));
}

/**
 * The multivariant ("master") playlist: audio renditions, then one `EXT-X-STREAM-INF` per video track and
 * audio group, then (by default) audio-only variants. URIs are relative to `{manifestName}.ism/`.
 *
 * @example
 * #EXTM3U
 * #EXT-X-VERSION:7
 * #EXT-X-INDEPENDENT-SEGMENTS
 * #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio-mp4a.40.2",NAME="aac_eng_2_128",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="QualityLevels(128000)/Manifest(aac_eng_2_128,format=m3u8-cmaf)"
 * #EXT-X-STREAM-INF:BANDWIDTH=3912000,AVERAGE-BANDWIDTH=3528000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=25.000,AUDIO="audio-mp4a.40.2"
 * QualityLevels(3400000)/Manifest(video,format=m3u8-cmaf)
 */
export function hlsMasterPlaylist(p: Presentation, ctx: ManifestContext): string {
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${hlsVersion(ctx)}`, '#EXT-X-INDEPENDENT-SEGMENTS'];
  if (ctx.protection) lines.push(...sessionKeyLines(p, ctx));
  const groups = audioGroups(p);
  lines.push(...mediaLines(groups, ctx), ...subtitleLines(p, ctx));
  const variants = videoVariants(p, groups, ctx);
  const firstQuality = ctx.firstQualityBitrateBps ?? p.firstQualityBitrateBps;
  if (firstQuality !== undefined) putFirstQualityFirst(variants, firstQuality);
  // Without video the audio-only variants are all there is, whatever audio-only= says.
  if (variants.length === 0 || ctx.audioOnlyVariant !== false) variants.push(...audioOnlyVariants(groups, ctx));
  for (const v of variants) lines.push(`#EXT-X-STREAM-INF:${v.attributes}`, v.uri);
  lines.push(...iFrameStreamInfLines(p, ctx));
  lines.push('');
  return lines.join('\n');
}

/**
 * The target duration shared by every media playlist (RFC 8216 §6.2.4): the longest segment of any audio or
 * video track, rounded to the nearest second, which is what §4.3.3.1 bounds (`round(EXTINF) ≤ target`).
 * Rounding up instead would turn the 2.005 s AAC segments of every 2 s asset into a target of 3.
 */
function targetDurationSec(p: Presentation): number {
  let max = 0;
  for (const t of p.tracks) {
    if (t.kind === 'text') continue;
    const segments = t.segments;
    let maxTicks = 0;
    for (let i = 0; i < segments.length; i++) if (segments.durationTicks[i] > maxTicks) maxTicks = segments.durationTicks[i];
    const sec = Math.round(maxTicks / t.track.timescale);
    if (sec > max) max = sec;
  }
  // Live: a player keeps the first target it read (RFC 8216 §6.2.4: it must not change), so it may not depend on
  // which segments the DVR window happens to hold. The cutting target, rounded up, bounds every regular segment;
  // only a longer one (a late keyframe) raises it, as §4.3.3.1 requires.
  if (p.live) return Math.max(1, Math.ceil(p.targetSegmentSec), max);
  return Math.max(1, max);
}

/** `EXT-X-PROGRAM-DATE-TIME` of a segment starting at `startTicks`: ISO 8601 with milliseconds, UTC. */
function programDateTime(availabilityStartMs: number, startTicks: number, timescale: number): string {
  return new Date(availabilityStartMs + Math.round((startTicks * 1000) / timescale)).toISOString();
}

/** `EXT-X-PART` of one part: its duration (differences of rounded ms, as EXTINF), URI and independence. */
function partLine(part: PresentationPart, track: PresentationTrack, ctx: ManifestContext, extension: string): string {
  const timescale = track.track.timescale;
  const startMs = Math.round((part.startTicks * 1000) / timescale);
  const endMs = Math.round(((part.startTicks + part.durationTicks) * 1000) / timescale);
  const uri = `${partFragmentName(track, part.segmentStartTicks, part.partIndex, ctx)}${extension}`;
  return `#EXT-X-PART:DURATION=${formatMs(Math.max(1, endMs - startMs))},URI="${uri}"${part.independent ? ',INDEPENDENT=YES' : ''}`;
}

/** Milliseconds as a decimal with exactly three places, without going through floating point. */
function formatMs(ms: number): string {
  const frac = ms % 1000;
  return `${(ms - frac) / 1000}.${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}`;
}

/**
 * The media playlist of one track: every segment, `EXT-X-MAP` for CMAF. Segment URIs are relative to the
 * playlist's own URL, `{manifestName}.ism/QualityLevels({bitrate})/`, as in AMS: `Fragments(video=0,format=…)`.
 *
 * @example
 * #EXTM3U
 * #EXT-X-VERSION:7
 * #EXT-X-TARGETDURATION:2
 * #EXT-X-MEDIA-SEQUENCE:0
 * #EXT-X-PLAYLIST-TYPE:VOD
 * #EXT-X-INDEPENDENT-SEGMENTS
 * #EXT-X-MAP:URI="Fragments(video=i,format=m3u8-cmaf)"
 * #EXTINF:2.000,
 * Fragments(video=0,format=m3u8-cmaf)
 * …
 * #EXT-X-ENDLIST
 */
export function hlsMediaPlaylist(p: Presentation, track: PresentationTrack, ctx: ManifestContext): string {
  const version = hlsVersion(ctx);
  const segments = track.segments;
  const timescale = track.track.timescale;
  // Key tags follow EXT-X-MAP, so the init segment stays clear (it is: the encryptor only touches samples).
  const keyId = ctx.protection && track.kind !== 'text' ? ctx.protection.keyIdOf(track) : undefined;
  const keyLines = keyId && ctx.protection ? keyAttributeLists(ctx.protection, keyId, ctx) : undefined;
  const live = p.live;
  // LL-HLS: parts of the last segments and the open one, for clear CMAF only.
  const parts = live?.partTargetSec && ctx.format === 'm3u8-cmaf' && !keyLines && track.parts ? track.parts : undefined;
  const lines: string[] = new Array(14 + (keyLines?.length ?? 0) + 2 * segments.length + (parts?.length ?? 0) + (live?.discontinuities?.length ?? 0));
  let n = 0;
  lines[n++] = '#EXTM3U';
  lines[n++] = `#EXT-X-VERSION:${version}`;
  lines[n++] = `#EXT-X-TARGETDURATION:${targetDurationSec(p)}`;
  if (parts && live?.partTargetSec) {
    const partTargetMs = Math.round(live.partTargetSec * 1000);
    lines[n++] = `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${formatMs(Math.round(3 * live.partTargetSec * 1000))}`;
    lines[n++] = `#EXT-X-PART-INF:PART-TARGET=${formatMs(partTargetMs)}`;
  }
  // The first segment's index: 0 for a whole track, the first kept segment's for a filtered one (`applyFilters`
  // keeps indices), so sequence numbers, and AES-128 IVs derived from them, are those of the unfiltered playlist.
  lines[n++] = `#EXT-X-MEDIA-SEQUENCE:${segments.firstIndex}`;
  // Live: a discontinuity at the first listed segment or before it counts in the sequence; later ones are tagged.
  const discontinuities = live?.discontinuities ?? [];
  let nextDiscontinuity = 0;
  while (nextDiscontinuity < discontinuities.length && discontinuities[nextDiscontinuity] <= segments.firstIndex) nextDiscontinuity++;
  if (nextDiscontinuity > 0) lines[n++] = `#EXT-X-DISCONTINUITY-SEQUENCE:${nextDiscontinuity}`;
  /** `EXT-X-DISCONTINUITY` when segment `index` (ascending calls) starts after one: before its parts and EXTINF. */
  const discontinuityLine = (index: number) => {
    if (discontinuities[nextDiscontinuity] !== index) return;
    nextDiscontinuity++;
    lines[n++] = '#EXT-X-DISCONTINUITY';
  };
  // Live: no playlist type (EVENT would promise that no segment ever leaves, which the DVR window breaks).
  if (!live) lines[n++] = '#EXT-X-PLAYLIST-TYPE:VOD';
  if (track.kind !== 'text') lines[n++] = '#EXT-X-INDEPENDENT-SEGMENTS';
  // A file extension after the AMS-style name: ffmpeg's HLS reader refuses segment URLs without a known one
  // (allowed_segment_extensions); players ignore it and the origin accepts both forms.
  // A `wvtt` text track is served as WebVTT text segments (no initialization segment), `stpp` as fMP4.
  const webVtt = track.kind === 'text' && textTrackForm(ctx.format, track.track) === 'webvtt';
  const extension = webVtt ? '.vtt' : ctx.format === 'm3u8-cmaf' ? '.m4s' : '.ts';
  if (ctx.format === 'm3u8-cmaf' && !webVtt) lines[n++] = `#EXT-X-MAP:URI="${fragmentName(track, 'i', ctx)}.mp4"`;
  if (keyLines) for (const attrs of keyLines) lines[n++] = `#EXT-X-KEY:${attrs}`;
  // Every URI differs only in the start time: build the two halves once.
  const head = fragmentName(track, 0, ctx);
  const prefix = head.slice(0, head.indexOf('=') + 1);
  const suffix = `${head.slice(head.indexOf('=') + 2)}${extension}`;
  // Live: the first segment's wall-clock time (tick 0 is `availabilityStartMs`); players carry it forward over
  // the EXTINFs, and it lets hls.js/AVPlayer line renditions up and show the time of day.
  if (live && segments.length > 0) lines[n++] = `#EXT-X-PROGRAM-DATE-TIME:${programDateTime(live.availabilityStartMs, segments.startTicks[0], timescale)}`;
  let nextPart = 0;
  /** The EXT-X-PART lines of segment `index` (parts are ascending). */
  const partLines = (index: number) => {
    if (!parts) return;
    while (nextPart < parts.length && parts[nextPart].segmentIndex < index) nextPart++;
    for (; nextPart < parts.length && parts[nextPart].segmentIndex === index; nextPart++) lines[n++] = partLine(parts[nextPart], track, ctx, extension);
  };
  for (let i = 0; i < segments.length; i++) {
    discontinuityLine(segments.firstIndex + i);
    partLines(segments.firstIndex + i);
    const start = segments.startTicks[i];
    const startMs = Math.round((start * 1000) / timescale);
    const endMs = Math.round(((start + segments.durationTicks[i]) * 1000) / timescale);
    lines[n++] = `#EXTINF:${formatMs(Math.max(1, endMs - startMs))},`;
    lines[n++] = `${prefix}${start}${suffix}`;
  }
  if (parts && segments.length > 0) {
    // The open segment's parts so far, then the part that comes next (the open segment's, or the first of the
    // segment after the last listed one, which starts where that one ends).
    const open = segments.firstIndex + segments.length;
    // Its discontinuity too, when a part of it or the hint of its first part follows.
    if (!live?.isEnded || parts.some((part) => part.segmentIndex === open)) discontinuityLine(open);
    partLines(open);
    if (!live?.isEnded) {
      const last = parts.length > 0 ? parts[parts.length - 1] : undefined;
      // A track may have closed the open segment before the others (its last part `endsSegment`): then the next
      // part is the first of the segment after it.
      const hint =
        last && last.segmentIndex === open
          ? last.endsSegment
            ? partFragmentName(track, last.startTicks + last.durationTicks, 0, ctx)
            : partFragmentName(track, last.segmentStartTicks, last.partIndex + 1, ctx)
          : partFragmentName(track, segments.startTicks[segments.length - 1] + segments.durationTicks[segments.length - 1], 0, ctx);
      lines[n++] = `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${hint}${extension}"`;
    }
  }
  // A live playlist ends only once ingest has ended for good; until then players reload it.
  if (!live || live.isEnded) lines[n++] = '#EXT-X-ENDLIST';
  lines[n++] = '';
  lines.length = n;
  return lines.join('\n');
}
