/**
 * HLS I-frame playlists (RFC 8216 §4.3.3.6 `EXT-X-I-FRAMES-ONLY`, §4.3.4.3 `EXT-X-I-FRAME-STREAM-INF`) for trick
 * play (scrubbing thumbnails, fast forward) in `format=m3u8-cmaf` and `format=m3u8-aapl`.
 *
 * Design: each entry is a resource of its own holding exactly one keyframe, not a byte range of a normal segment.
 * `QualityLevels(b)/Fragments(video={dts},format=…,type=keyframes)` is that keyframe alone, packaged as the
 * format's segments are (CMAF: `styp` + a `moof` describing one sample + its `mdat`; TS: PAT, PMT and the
 * keyframe's PES), so every entry decodes on its own after the init segment (`EXT-X-MAP`) or, for TS, with no
 * other bytes at all. Byte ranges of the normal segments would not: a CMAF segment's `moof` describes every
 * sample of the segment, and a keyframe in the middle of a segment (GOPs shorter than segments) has no `moof` or
 * PAT/PMT of its own. RFC 8216 allows whole resources as I-frame segments (`EXT-X-BYTERANGE` is optional), and
 * AVPlayer, Shaka Player and ExoPlayer read them. The address is the keyframe's decode time in the track's
 * timescale, which is also the `start` of the segment when the keyframe begins one.
 *
 * - Media sequence numbers are keyframe numbers: the first entry's is its keyframe's ordinal among all the
 *   track's keyframes (`syncOrdinal`), whatever filter cut the playlist. Protected presentations carry the same
 *   key tags as their media playlists (hls-keys.ts); an AES-128 entry is encrypted with IV = its keyframe
 *   ordinal, which is its implicit IV (RFC 8216 §5.2), and CENC/CBCS entries encrypt the keyframe's sample as the
 *   segment holding it does (the same per-sample IV), so both fragments carry the same ciphertext.
 * - `EXTINF` of an entry is the time to the next keyframe (to the end of the track for the last one), from decode
 *   times, rounded to the millisecond on the boundaries as the media playlists do.
 * - `BANDWIDTH` is the largest (keyframe bytes + container overhead) / `EXTINF` of any entry, `AVERAGE-BANDWIDTH`
 *   the total over the duration, as RFC 8216 §4.3.4.3 defines them for the I-frame segments.
 */
import type { TrackIndex } from '../../model/media-index.js';
import type { Presentation, PresentationTrack } from '../../model/presentation.js';
import { keyAttributeLists } from './hls-keys.js';
import { iFramePlaylistUrl, fragmentName, keyframeFragmentName, type ManifestContext } from './manifest-context.js';

/** The keyframes of one track: decode time (ticks), duration to the next keyframe (ticks) and size (bytes). */
export interface Keyframes {
  count: number;
  dts: Float64Array;
  durations: Float64Array;
  sizes: Float64Array;
}

const keyframeCache = new WeakMap<PresentationTrack, Keyframes>();

/** Every sync sample of a video track, in decode order (cached per track object: presentations are immutable). */
export function trackKeyframes(track: PresentationTrack): Keyframes {
  const cached = keyframeCache.get(track);
  if (cached) return cached;
  const dts: number[] = [];
  const sizes: number[] = [];
  const { segments } = track;
  let end = 0;
  for (let i = 0; i < segments.length; i++) {
    const first = segments.firstSample[i];
    const count = segments.sampleCount[i];
    end = segments.startTicks[i] + segments.durationTicks[i];
    if (count === 0) continue;
    const run = track.track.samples.run(first, first + count);
    for (let j = 0; j < run.count; j++) {
      if (run.isSync[j] !== 1) continue;
      dts.push(run.dts[j]);
      sizes.push(run.sizes[j]);
    }
  }
  const out: Keyframes = { count: dts.length, dts: Float64Array.from(dts), durations: new Float64Array(dts.length), sizes: Float64Array.from(sizes) };
  for (let k = 0; k < dts.length; k++) out.durations[k] = (k + 1 < dts.length ? dts[k + 1] : end) - dts[k];
  keyframeCache.set(track, out);
  return out;
}

const syncSamples = new WeakMap<TrackIndex, Uint32Array>();

/**
 * The ordinal of sync sample `sample` among all the sync samples of the whole track (not of a filtered view):
 * the keyframe's media sequence number in I-frame playlists and its AES-128 IV. The track's sync sample numbers
 * are listed once per track index (a few ms for a 2-hour track).
 */
export function syncOrdinal(track: TrackIndex, sample: number): number {
  let list = syncSamples.get(track);
  if (!list) {
    const numbers: number[] = [];
    const run = track.samples.run(0, track.samples.count);
    for (let j = 0; j < run.count; j++) if (run.isSync[j] === 1) numbers.push(j);
    syncSamples.set(track, (list = Uint32Array.from(numbers)));
  }
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid] < sample) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The sample index, duration and keyframe ordinal of the keyframe of `track` decoded at `dtsTicks`, or undefined. */
export function keyframeAt(
  track: PresentationTrack,
  dtsTicks: number,
): { sample: number; durationTicks: number; segmentIndex: number; ordinal: number } | undefined {
  if (track.kind !== 'video') return undefined;
  const { segments } = track;
  // The segment holding dtsTicks: the last one starting at or before it.
  let lo = 0;
  let hi = segments.length - 1;
  let at = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (segments.startTicks[mid] <= dtsTicks) {
      at = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (at < 0 || segments.sampleCount[at] === 0) return undefined;
  const first = segments.firstSample[at];
  const run = track.track.samples.run(first, first + segments.sampleCount[at]);
  for (let j = 0; j < run.count; j++) {
    if (run.dts[j] > dtsTicks) return undefined;
    if (run.dts[j] === dtsTicks)
      return run.isSync[j] === 1
        ? { sample: first + j, durationTicks: run.durations[j], segmentIndex: at, ordinal: syncOrdinal(track.track, first + j) }
        : undefined;
  }
  return undefined;
}

/** Bytes an entry adds around its keyframe: CMAF `styp`+`moof`+`mdat` header, TS packet headers, PAT/PMT, PES. */
function entryBytes(sampleBytes: number, ctx: ManifestContext): number {
  return ctx.format === 'm3u8-cmaf' ? sampleBytes + 160 : Math.ceil((sampleBytes + 64) / 184) * 188 + 2 * 188;
}

/**
 * Whether a presentation asked for with `ctx` gets I-frame playlists at all. A live one does not: its keyframe
 * list would have to follow the DVR window on every reload (media sequence of keyframes, not segments), and
 * players scrub live streams by their media playlists. Protected ones do, in the schemes their media playlists
 * can carry (MPEG-TS: AES-128 only).
 */
function offersIFrames(p: Presentation, ctx: ManifestContext): boolean {
  if (p.live) return false;
  if (ctx.format === 'm3u8-aapl') return !ctx.protection || ctx.protection.scheme === 'aes-128';
  return ctx.format === 'm3u8-cmaf';
}

/**
 * The `EXT-X-I-FRAME-STREAM-INF` lines of the multivariant playlist: one per video track with keyframes, in
 * presentation order.
 *
 * @example #EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=412000,AVERAGE-BANDWIDTH=120000,CODECS="avc1.64001f",RESOLUTION=1280x720,URI="QualityLevels(3400000)/Manifest(video,format=m3u8-cmaf,type=keyframes)"
 */
export function iFrameStreamInfLines(p: Presentation, ctx: ManifestContext): string[] {
  if (!offersIFrames(p, ctx)) return [];
  const lines: string[] = [];
  for (const t of p.tracks) {
    if (t.kind !== 'video') continue;
    const k = trackKeyframes(t);
    if (k.count === 0) continue;
    const timescale = t.track.timescale;
    let peak = 0;
    let bytes = 0;
    let ticks = 0;
    for (let i = 0; i < k.count; i++) {
      const size = entryBytes(k.sizes[i], ctx);
      bytes += size;
      ticks += k.durations[i];
      if (k.durations[i] > 0) peak = Math.max(peak, (size * 8 * timescale) / k.durations[i]);
    }
    const average = ticks > 0 ? Math.ceil((bytes * 8 * timescale) / ticks) : 0;
    const bandwidth = Math.max(1, Math.ceil(peak), average);
    const video = t.track.video;
    let attrs = `BANDWIDTH=${bandwidth},AVERAGE-BANDWIDTH=${Math.max(1, average)},CODECS="${t.track.codecs.replace(/["\r\n]/g, '')}"`;
    if (video && video.width > 0 && video.height > 0) attrs += `,RESOLUTION=${video.width}x${video.height}`;
    lines.push(`#EXT-X-I-FRAME-STREAM-INF:${attrs},URI="${iFramePlaylistUrl(t, ctx)}"`);
  }
  return lines;
}

/** Milliseconds as a decimal with exactly three places. */
function formatMs(ms: number): string {
  const frac = ms % 1000;
  return `${(ms - frac) / 1000}.${String(frac).padStart(3, '0')}`;
}

/** The longest segment of any audio or video track, rounded, as every media playlist of the presentation declares it. */
function presentationTargetSec(p: Presentation): number {
  let max = 0;
  for (const t of p.tracks) {
    if (t.kind === 'text') continue;
    for (let i = 0; i < t.segments.length; i++) max = Math.max(max, Math.round(t.segments.durationTicks[i] / t.track.timescale));
  }
  return Math.max(1, max);
}

/**
 * The I-frame playlist of one video track (`…/Manifest(video,format=…,type=keyframes)`): every keyframe, each a
 * one-keyframe fragment (see the file comment). Undefined when the track has no I-frame playlist (not video, live,
 * a scheme the format cannot carry, or not an HLS format), which the origin answers with 404.
 *
 * @example
 * #EXTM3U
 * #EXT-X-VERSION:7
 * #EXT-X-TARGETDURATION:2
 * #EXT-X-MEDIA-SEQUENCE:0
 * #EXT-X-PLAYLIST-TYPE:VOD
 * #EXT-X-I-FRAMES-ONLY
 * #EXT-X-MAP:URI="Fragments(video=i,format=m3u8-cmaf).mp4"
 * #EXTINF:2.000,
 * Fragments(video=0,format=m3u8-cmaf,type=keyframes).m4s
 * …
 * #EXT-X-ENDLIST
 */
export function hlsIFramePlaylist(p: Presentation, track: PresentationTrack, ctx: ManifestContext): string | undefined {
  if (!offersIFrames(p, ctx) || track.kind !== 'video') return undefined;
  const k = trackKeyframes(track);
  const timescale = track.track.timescale;
  const cmaf = ctx.format === 'm3u8-cmaf';
  const extension = cmaf ? '.m4s' : '.ts';
  const entries: string[] = [];
  let target = presentationTargetSec(p);
  for (let i = 0; i < k.count; i++) {
    const startMs = Math.round((k.dts[i] * 1000) / timescale);
    const endMs = Math.round(((k.dts[i] + k.durations[i]) * 1000) / timescale);
    const ms = Math.max(1, endMs - startMs);
    target = Math.max(target, Math.round(ms / 1000));
    entries.push(`#EXTINF:${formatMs(ms)},`, `${keyframeFragmentName(track, k.dts[i], ctx)}${extension}`);
  }
  const keyId = ctx.protection?.keyIdOf(track);
  const firstSample = k.count > 0 ? keyframeAt(track, k.dts[0])?.sample : undefined;
  const lines = [
    '#EXTM3U',
    // EXT-X-I-FRAMES-ONLY needs version 4; with EXT-X-MAP, 5 (RFC 8216 §7). Same versions as the media playlists.
    `#EXT-X-VERSION:${cmaf ? 7 : 4}`,
    `#EXT-X-TARGETDURATION:${target}`,
    `#EXT-X-MEDIA-SEQUENCE:${firstSample === undefined ? 0 : syncOrdinal(track.track, firstSample)}`,
    '#EXT-X-PLAYLIST-TYPE:VOD',
    '#EXT-X-I-FRAMES-ONLY',
  ];
  if (cmaf) lines.push(`#EXT-X-MAP:URI="${fragmentName(track, 'i', ctx)}.mp4"`);
  // After EXT-X-MAP, as in the media playlists: the init segment stays clear.
  if (keyId && ctx.protection) for (const attrs of keyAttributeLists(ctx.protection, keyId, ctx)) lines.push(`#EXT-X-KEY:${attrs}`);
  lines.push(...entries, '#EXT-X-ENDLIST', '');
  return lines.join('\n');
}
