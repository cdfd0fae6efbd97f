/**
 * What a manifest writer needs besides the presentation, and the URL grammar shared by the writers (which
 * produce child URLs) and the origin (which routes them back here). Keeping both directions in one file is what
 * guarantees that every URL a manifest names is one the origin accepts.
 *
 * Playback URLs (MKIO-API.md §17): manifests live at `/{locatorId}/{manifestName}.ism/manifest({options})`.
 * Everything a manifest names is relative to `/{locatorId}/{manifestName}.ism/`, AMS style (§17.4):
 *
 * | resource            | path below `{manifestName}.ism/`                                         |
 * |---------------------|---------------------------------------------------------------------------|
 * | HLS media playlist  | `QualityLevels(128000)/Manifest(aac_eng_2_128,format=m3u8-cmaf)`          |
 * | init segment        | `QualityLevels(3400000)/Fragments(video=i,format=m3u8-cmaf)`              |
 * | media segment       | `QualityLevels(3400000)/Fragments(video=180000,format=mpd-time-cmaf)`     |
 * | HLS I-frame playlist| `QualityLevels(3400000)/Manifest(video,format=m3u8-cmaf,type=keyframes)`  |
 * | one keyframe        | `QualityLevels(3400000)/Fragments(video=180000,format=m3u8-cmaf,type=keyframes)` |
 * | Smooth fragment     | `QualityLevels(3400000)/Fragments(video=180000)`                          |
 * | LL-HLS part         | `QualityLevels(3400000)/Fragments(video=180000,format=m3u8-cmaf,part=1)`  |
 *
 * Options the manifest was asked with (`filter=`, `encryption=`, `vbegin=`…) follow `format=` inside the
 * parentheses of every child URL, so a segment request carries everything needed to serve it statelessly.
 */
import { BadRequestError } from '../../../../shared/errors.js';
import { textTrackBitrateBps } from '../../model/presentation.js';
import type { PresentationTrack } from '../../model/presentation.js';

/** The packaging a manifest and its segments use; `smooth` is a playback URL without `format=`. */
export type ManifestFormat = 'm3u8-cmaf' | 'm3u8-aapl' | 'mpd-time-cmaf' | 'mpd-time-csf' | 'smooth';

/** Everything a manifest writer needs to know about the request, besides the presentation. */
export interface ManifestContext {
  format: ManifestFormat;
  /**
   * `key=value` options appended, in this order, after `format=` inside the parentheses of every child URL
   * (`['filter=f1', 'encryption=cbcs-aapl']`). Take them from `ManifestOptions.extraOptions`.
   */
  extraOptions: string[];
  /**
   * HLS only: also offer one audio-only variant stream per audio group, listed after every video variant.
   * Default `true`, as AMS does (`audio-only=false` turns it off, §17.3). hls.js drops audio-only variants
   * when video variants exist; AVPlayer uses them only when bandwidth cannot carry the lowest video variant.
   */
  audioOnlyVariant?: boolean;
  /**
   * HLS only: list the video variant whose bitrate is closest to this one first (asset filter
   * `firstQuality.bitrate`, §8). Without it, variants are listed by ascending BANDWIDTH.
   */
  firstQualityBitrateBps?: number;
  /**
   * How the presentation is encrypted and where players get keys and licences; absent for clear streams (the
   * writers then do no protection work at all). See `ManifestProtection`.
   */
  protection?: ManifestProtection;
  /**
   * DASH, live presentations only: an absolute URL answering the server's current time as ISO 8601 text
   * (`UTCTiming` `urn:mpeg:dash:utc:http-iso:2014`), so players compute the live edge on the server's clock.
   */
  utcTimingUrl?: string;
}

/** An encryption scheme as manifests signal it: HLS envelope, or Common Encryption in CTR or CBC-pattern mode. */
export type ProtectionScheme = 'aes-128' | 'cenc' | 'cbcs';

/**
 * What the manifest writers signal for an encrypted presentation. Each DRM block is present when the locator's
 * content key policy offers that DRM; the caller expands the policy's URL templates (`{ContentKeyId}`,
 * `{AlternativeMediaId}`) and gives every URL absolute. Build one per locator and reuse it: the DRM headers
 * derived from it are cached per object (`protectionHeaders`).
 *
 * What each writer emits:
 * - DASH (`cenc`/`cbcs`): per encrypted AdaptationSet (or Representation, when a set mixes keys) an
 *   `mp4protection` descriptor with `cenc:default_KID`, then ClearKey (`dashif:Laurl`, W3C common `cenc:pssh`),
 *   Widevine (`cenc:pssh`) and PlayReady (`cenc:pssh`, `mspr:pro`) as configured.
 * - HLS: `EXT-X-KEY` after `EXT-X-MAP` in each encrypted media playlist; `aes-128` names `keyUrl` (IV = media
 *   sequence number, which starts at 0 and is the segment's index); `cenc` is `SAMPLE-AES-CTR` and `cbcs`
 *   `SAMPLE-AES` with one line per DRM (FairPlay, Widevine, PlayReady, and ClearKey as `identity` + `keyUrl`).
 *   The multivariant playlist repeats the SAMPLE-AES* lines as `EXT-X-SESSION-KEY`.
 * - Smooth (`cenc` only): one PlayReady `ProtectionHeader`.
 */
export interface ManifestProtection {
  scheme: ProtectionScheme;
  /**
   * The key id (lower-case GUID) that encrypts `track`, or undefined when the track is clear (a policy's
   * `clearTracks`). Called with each track of the presentation; keep it cheap.
   */
  keyIdOf(track: PresentationTrack): string | undefined;
  /**
   * URL of the raw 16-byte key of `keyId`: the HLS AES-128 key, and the HLS `identity` key through which Shaka
   * Player feeds CENC/CBCS keys to the ClearKey CDM. Required for `aes-128`.
   */
  keyUrl?(keyId: string): string;
  /** W3C ClearKey: the JSON licence server (DASH `dashif:Laurl`). In HLS, ClearKey needs `keyUrl` instead. */
  clearKey?: { licenseUrl: string };
  /** Widevine: the licence URL when the policy has a template (else players are configured with one). */
  widevine?: { licenseUrl?: string; contentId?: string };
  /** PlayReady: `LA_URL` and the policy's `playReadyCustomAttributes`. */
  playReady?: { licenseUrl?: string; customAttributes?: string };
  /**
   * FairPlay (`cbcs`, HLS only): the `skd://` URI of a key. `certificateUrl` (the application certificate) has no
   * place in a playlist; it is carried for the caller's own use (`listPaths`' `drm` section, players).
   */
  fairPlay?: { keyUri(keyId: string): string; certificateUrl?: string };
}

/** Encryption schemes a playback URL may ask for (§17.3). */
export type ManifestEncryption = 'cenc' | 'cbc' | 'cbcs' | 'cbcs-aapl' | 'piff';

/** The options of a playback URL, parsed and validated. */
export interface ManifestOptions {
  /** `smooth` when the URL has no `format=`. */
  format: ManifestFormat;
  /** Filter names from `filter=a;b`, in URL order (empty when absent). */
  filters: string[];
  encryption?: ManifestEncryption;
  /** `audio-only=true|false`; undefined when the URL does not say. */
  audioOnly?: boolean;
  /** `vbegin=`/`vend=` (VOD trim, ISO 8601 durations), in seconds. */
  vbeginSec?: number;
  vendSec?: number;
  /** `start=`/`end=` (live window, ISO 8601 instants), in milliseconds since the epoch. */
  startMs?: number;
  endMs?: number;
  /**
   * The options to carry into child URLs, canonical (`filter`, `encryption`, `vbegin`, `vend`, `start`, `end`,
   * each as given in the URL). `format` and `audio-only` are not carried: the former is set per child, the
   * latter only matters to the HLS multivariant playlist.
   */
  extraOptions: string[];
}

/** A segment request: `QualityLevels({bitrate})/Fragments({trackName}={start}|i[,options])`. */
export interface FragmentRequest {
  bitrate: number;
  trackName: string;
  /** `TrackSegment.startTicks` in the track's timescale, or `init` for `=i`. */
  start: number | 'init';
  format: ManifestFormat;
  options: ManifestOptions;
  /**
   * `type=keyframes`: the one keyframe of a video track whose decode time is `start`, alone in a fragment of its
   * own (an HLS I-frame playlist entry, see hls-iframes.ts). Never with `start` = `init`.
   */
  keyframes?: boolean;
  /**
   * `part=k` (LL-HLS, `format=m3u8-cmaf` only): part `k` (from 0) of the segment that starts at `start`, which
   * may still be open (Reel's own grammar; AMS had no low-latency HLS). Never with `init` or `type=keyframes`.
   */
  part?: number;
}

/** An HLS media playlist request: `QualityLevels({bitrate})/Manifest({trackName},format=…[,options])`. */
export interface MediaPlaylistRequest {
  bitrate: number;
  trackName: string;
  format: ManifestFormat;
  options: ManifestOptions;
  /** `type=keyframes` (AMS, MKIO-API.md §17.4): the track's I-frame playlist (`EXT-X-I-FRAMES-ONLY`). */
  keyframes?: boolean;
}

const formatAliases: Record<string, ManifestFormat> = {
  'm3u8-cmaf': 'm3u8-cmaf',
  'm3u8-aapl': 'm3u8-aapl',
  'm3u8-aapl-v4': 'm3u8-aapl',
  'mpd-time-cmaf': 'mpd-time-cmaf',
  'mpd-time-csf': 'mpd-time-csf',
};

const encryptions: readonly ManifestEncryption[] = ['cenc', 'cbc', 'cbcs', 'cbcs-aapl', 'piff'];

/** Filter names as MK.IO allows them (§8). */
const filterNamePattern = /^[A-Za-z0-9._~-]{1,260}$/;
const isoDurationPattern = /^P(?:(\d{1,9})D)?(?:T(?:(\d{1,9})H)?(?:(\d{1,9})M)?(?:(\d{1,9}(?:\.\d{1,7})?)S)?)?$/;
const isoInstantPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;
/** Longest duration accepted in `vbegin`/`vend`: 100 years, far beyond any asset, far below float trouble. */
const maxDurationSec = 100 * 366 * 86400;
const maxOptionsLength = 1024;

function badOptions(text: string, why: string): BadRequestError {
  return new BadRequestError('InvalidManifestOptions', `Invalid manifest options '${text.slice(0, 200)}': ${why}`);
}

function badPath(path: string, why: string): BadRequestError {
  return new BadRequestError('InvalidPlaybackPath', `Invalid playback path '${path.slice(0, 200)}': ${why}`);
}

function parseIsoDuration(value: string): number | undefined {
  const m = isoDurationPattern.exec(value);
  if (!m || value === 'P' || value.endsWith('T')) return undefined;
  const sec = Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  return sec <= maxDurationSec ? sec : undefined;
}

/** Date.parse rolls 2024-02-30 over to March; a playback URL with such a date is a mistake, not a wish. */
function isCalendarDate(value: string): boolean {
  const [y, m, d] = value.slice(0, 10).split('-').map(Number);
  const hh = Number(value.slice(11, 13));
  const mm = Number(value.slice(14, 16));
  return m >= 1 && m <= 12 && d >= 1 && d <= new Date(Date.UTC(y, m, 0)).getUTCDate() && hh <= 23 && mm <= 59;
}

/**
 * Parses the text inside `manifest(…)` (or after the track part of a segment URL): comma-separated `key=value`
 * pairs, keys case-insensitive. Throws `BadRequestError` (`InvalidManifestOptions`, 400) on anything malformed,
 * duplicated, unknown or unsupported, naming the culprit; `''` is Smooth with no options.
 *
 * @example parseManifestOptions('format=m3u8-cmaf,filter=a;b')
 *   // { format: 'm3u8-cmaf', filters: ['a', 'b'], extraOptions: ['filter=a;b'] }
 */
export function parseManifestOptions(text: string): ManifestOptions {
  const out: ManifestOptions = { format: 'smooth', filters: [], extraOptions: [] };
  if (text.length > maxOptionsLength) throw badOptions(text, 'too long');
  if (text === '') return out;
  const seen = new Set<string>();
  const raw = new Map<string, string>();
  for (const pair of text.split(',')) {
    const m = /^([A-Za-z][A-Za-z0-9-]{0,31})=([^,=()\s]+)$/.exec(pair);
    if (!m) throw badOptions(text, `malformed option '${pair.slice(0, 100)}' (expected key=value)`);
    const key = m[1].toLowerCase();
    const value = m[2];
    if (seen.has(key)) throw badOptions(text, `option '${key}' is given twice`);
    seen.add(key);
    switch (key) {
      case 'format': {
        const lower = value.toLowerCase();
        if (lower === 'm3u8-aapl-v3') {
          throw badOptions(text, 'format=m3u8-aapl-v3 (HLS v3 with muxed audio) is not supported; use m3u8-aapl or m3u8-cmaf');
        }
        const format = formatAliases[lower];
        if (!format) throw badOptions(text, `unknown format '${value}' (use m3u8-cmaf, m3u8-aapl, mpd-time-cmaf or mpd-time-csf)`);
        out.format = format;
        break;
      }
      case 'filter': {
        const names = value.split(';');
        for (const name of names) {
          if (!filterNamePattern.test(name)) throw badOptions(text, `invalid filter name '${name.slice(0, 100)}'`);
        }
        out.filters = names;
        raw.set(key, value);
        break;
      }
      case 'encryption': {
        const lower = value.toLowerCase() as ManifestEncryption;
        if (!encryptions.includes(lower)) throw badOptions(text, `unknown encryption '${value}' (use ${encryptions.join(', ')})`);
        out.encryption = lower;
        raw.set(key, lower);
        break;
      }
      case 'audio-only': {
        const lower = value.toLowerCase();
        if (lower !== 'true' && lower !== 'false') throw badOptions(text, `audio-only must be true or false, not '${value}'`);
        out.audioOnly = lower === 'true';
        break;
      }
      case 'vbegin':
      case 'vend': {
        const sec = parseIsoDuration(value);
        if (sec === undefined) throw badOptions(text, `${key} must be an ISO 8601 duration such as PT1M30S, not '${value}'`);
        if (key === 'vbegin') out.vbeginSec = sec;
        else out.vendSec = sec;
        raw.set(key, value);
        break;
      }
      case 'start':
      case 'end': {
        const ms = isoInstantPattern.test(value) && isCalendarDate(value) ? Date.parse(value) : Number.NaN;
        if (!Number.isFinite(ms)) throw badOptions(text, `${key} must be an ISO 8601 UTC instant such as 2024-01-01T00:00:00Z, not '${value}'`);
        if (key === 'start') out.startMs = ms;
        else out.endMs = ms;
        raw.set(key, value);
        break;
      }
      default:
        throw badOptions(text, `unknown option '${m[1]}'`);
    }
  }
  if (out.vbeginSec !== undefined && out.vendSec !== undefined && out.vendSec <= out.vbeginSec) {
    throw badOptions(text, 'vend must be after vbegin');
  }
  if (out.startMs !== undefined && out.endMs !== undefined && out.endMs <= out.startMs) {
    throw badOptions(text, 'end must be after start');
  }
  for (const key of ['filter', 'encryption', 'vbegin', 'vend', 'start', 'end']) {
    const value = raw.get(key);
    if (value !== undefined) out.extraOptions.push(`${key}=${value}`);
  }
  return out;
}

/** The context for writing a manifest of `format` that was asked for with `options`. */
export function createManifestContext(format: ManifestFormat, options?: ManifestOptions): ManifestContext {
  const ctx: ManifestContext = { format, extraOptions: options ? [...options.extraOptions] : [] };
  if (options?.audioOnly !== undefined) ctx.audioOnlyVariant = options.audioOnly;
  return ctx;
}

/**
 * A track name as it appears in a URL. The presentation builder already limits names to `[A-Za-z0-9_.-]`; any
 * other character is percent-encoded (including `( ) , = $`, which would break the grammar or a DASH
 * template), and the router's single percent-decoding restores it.
 */
export function encodeTrackName(name: string): string {
  return /^[A-Za-z0-9_.~-]+$/.test(name) ? name : encodeURIComponent(name).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `,format=…,filter=…` (or `,filter=…` for Smooth, or `''`): what follows the track part inside the parentheses. */
function optionTail(ctx: ManifestContext): string {
  let tail = ctx.format === 'smooth' ? '' : `,format=${ctx.format}`;
  for (let i = 0; i < ctx.extraOptions.length; i++) tail += `,${ctx.extraOptions[i]}`;
  return tail;
}

/**
 * The last path segment of a fragment URL, `Fragments(video=180000,format=m3u8-cmaf)`: what an HLS media
 * playlist names, since it is itself served from `QualityLevels({bitrate})/`.
 */
export function fragmentName(track: PresentationTrack, start: number | 'i', ctx: ManifestContext): string {
  return `Fragments(${encodeTrackName(track.name)}=${start}${optionTail(ctx)})`;
}

/**
 * What an LL-HLS media playlist names for part `part` of the segment starting at `segmentStartTicks`:
 * `Fragments(video=180000,format=m3u8-cmaf,part=1)`, `part` right after `format` (as `type=keyframes`).
 */
export function partFragmentName(track: PresentationTrack, segmentStartTicks: number, part: number, ctx: ManifestContext): string {
  const tail = optionTail(ctx);
  const format = `,format=${ctx.format}`;
  const options = tail.startsWith(format) ? `${format},part=${part}${tail.slice(format.length)}` : `${tail},part=${part}`;
  return `Fragments(${encodeTrackName(track.name)}=${segmentStartTicks}${options})`;
}

/** A fragment URL relative to `{manifestName}.ism/`: `QualityLevels(3400000)/Fragments(video=0,format=m3u8-cmaf)`. */
export function fragmentUrl(track: PresentationTrack, start: number | 'i', ctx: ManifestContext): string {
  return `QualityLevels(${track.bitrateBps})/${fragmentName(track, start, ctx)}`;
}

/** The URLs of a side-loaded subtitle file: its HLS playlist and the file itself, relative to `{manifestName}.ism/`. */
export function textTrackUrls(name: string, ctx: ManifestContext): { playlist: string; file: string } {
  const level = `QualityLevels(${textTrackBitrateBps})`;
  return {
    playlist: `${level}/Manifest(${encodeURIComponent(name)}${optionTail(ctx)})`,
    file: `${level}/Fragments(${encodeURIComponent(name)}=0${optionTail(ctx)}).vtt`,
  };
}

/** An HLS media playlist URL relative to `{manifestName}.ism/`: `QualityLevels(128000)/Manifest(aac_eng_2_128,format=m3u8-cmaf)`. */
export function mediaPlaylistUrl(track: PresentationTrack, ctx: ManifestContext): string {
  return `QualityLevels(${track.bitrateBps})/Manifest(${encodeTrackName(track.name)}${optionTail(ctx)})`;
}

/**
 * The I-frame playlist URL of a video track relative to `{manifestName}.ism/`, AMS style (§17.4):
 * `QualityLevels(3400000)/Manifest(video,format=m3u8-cmaf,type=keyframes)`.
 */
export function iFramePlaylistUrl(track: PresentationTrack, ctx: ManifestContext): string {
  return `QualityLevels(${track.bitrateBps})/Manifest(${encodeTrackName(track.name)}${keyframesTail(ctx)})`;
}

/**
 * What an I-frame playlist names for the keyframe decoded at `dtsTicks`, relative to the playlist:
 * `Fragments(video=180000,format=m3u8-cmaf,type=keyframes)`.
 */
export function keyframeFragmentName(track: PresentationTrack, dtsTicks: number, ctx: ManifestContext): string {
  return `Fragments(${encodeTrackName(track.name)}=${dtsTicks}${keyframesTail(ctx)})`;
}

/** `,format=…,type=keyframes,filter=…`: `type` right after `format`, as AMS writes it. */
function keyframesTail(ctx: ManifestContext): string {
  const tail = optionTail(ctx);
  const format = `,format=${ctx.format}`;
  return tail.startsWith(format) ? `${format},type=keyframes${tail.slice(format.length)}` : `${tail},type=keyframes`;
}

/**
 * DASH `SegmentTemplate@initialization`: `QualityLevels($Bandwidth$)/Fragments(video=i,format=mpd-time-cmaf)`.
 * `$Bandwidth$` resolves to `Representation@bandwidth`, which the MPD sets to `PresentationTrack.bitrateBps`.
 */
export function dashInitializationTemplate(track: PresentationTrack, ctx: ManifestContext): string {
  return `QualityLevels($Bandwidth$)/Fragments(${encodeTrackName(track.name)}=i${optionTail(ctx)})`;
}

/** DASH `SegmentTemplate@media`: `QualityLevels($Bandwidth$)/Fragments(video=$Time$,format=mpd-time-cmaf)`. */
export function dashMediaTemplate(track: PresentationTrack, ctx: ManifestContext): string {
  return `QualityLevels($Bandwidth$)/Fragments(${encodeTrackName(track.name)}=$Time$${optionTail(ctx)})`;
}

/** Smooth `StreamIndex@Url`: `QualityLevels({bitrate})/Fragments(video={start time})`. */
export function smoothUrlTemplate(trackName: string, ctx: ManifestContext): string {
  return `QualityLevels({bitrate})/Fragments(${encodeTrackName(trackName)}={start time}${optionTail(ctx)})`;
}

/** A decimal integer in canonical form (no sign, no leading zeros) within 0…2^53−1, or undefined. */
function parseCanonicalInteger(text: string): number | undefined {
  if (!/^(?:0|[1-9]\d{0,15})$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

const qualityLevelsPattern = /^QualityLevels\(([^()/]*)\)\/(.*)$/i;

/** Splits `QualityLevels(b)/Rest` into a validated bitrate and `Rest`; undefined when not of that shape. */
function splitQualityLevels(path: string): { bitrate: number; rest: string } | undefined {
  const m = qualityLevelsPattern.exec(path.startsWith('/') ? path.slice(1) : path);
  if (!m) return undefined;
  const bitrate = parseCanonicalInteger(m[1]);
  if (bitrate === undefined || bitrate === 0) throw badPath(path, `bitrate '${m[1].slice(0, 40)}' must be a positive whole number below 2^53`);
  return { bitrate, rest: m[2] };
}

/**
 * Takes `type=keyframes` (the only `type` AMS child URLs carry, §17.4) out of the options text of a media playlist
 * or fragment URL; it names a different resource rather than a way of packaging it, so it is not a manifest
 * option (`manifest(type=keyframes)` stays an unknown option).
 */
function takeKeyframesOption(path: string, text: string): { text: string; keyframes: boolean } {
  const pairs = text === '' ? [] : text.split(',');
  const at = pairs.findIndex((p) => /^type=/i.test(p));
  if (at < 0) return { text, keyframes: false };
  if (pairs[at].slice(5).toLowerCase() !== 'keyframes') throw badPath(path, `type must be 'keyframes', not '${pairs[at].slice(5, 45)}'`);
  pairs.splice(at, 1);
  if (pairs.some((p) => /^type=/i.test(p))) throw badPath(path, "option 'type' is given twice");
  return { text: pairs.join(','), keyframes: true };
}

/** Takes `part=k` (an LL-HLS part, see `FragmentRequest.part`) out of a fragment URL's options text. */
function takePartOption(path: string, text: string): { text: string; part?: number } {
  const pairs = text === '' ? [] : text.split(',');
  const at = pairs.findIndex((p) => /^part=/i.test(p));
  if (at < 0) return { text };
  const part = parseCanonicalInteger(pairs[at].slice(5));
  if (part === undefined || part > 1_000_000) throw badPath(path, `part must be a whole number from 0, not '${pairs[at].slice(5, 45)}'`);
  pairs.splice(at, 1);
  if (pairs.some((p) => /^part=/i.test(p))) throw badPath(path, "option 'part' is given twice");
  return { text: pairs.join(','), part };
}

/**
 * Parses a fragment path relative to `{manifestName}.ism/`, as the router hands it over (percent-decoded
 * once): `QualityLevels(3400000)/Fragments(video=180000,format=m3u8-cmaf,filter=f1)` →
 * `{ bitrate: 3400000, trackName: 'video', start: 180000, format: 'm3u8-cmaf', options }`.
 * Returns undefined when the path is not a fragment path at all; throws `BadRequestError` (400,
 * `InvalidPlaybackPath` or `InvalidManifestOptions`) when it is one but malformed: a bitrate or start that is
 * not a canonical whole number in 0…2^53−1 (bitrate > 0), an empty track name, bad options.
 */
export function parseFragmentPath(path: string): FragmentRequest | undefined {
  const ql = splitQualityLevels(path);
  if (!ql || !/^Fragments\(/i.test(ql.rest)) return undefined;
  // HLS playlists add a file extension (.mp4/.m4s/.ts/.vtt) for ffmpeg's sake; it carries no meaning.
  const m = /^Fragments\(([^,()=/]+)=([^,()=/]*)(?:,([^()/]*))?\)(?:\.(?:m4s|mp4|ts|vtt))?$/i.exec(ql.rest);
  if (!m) throw badPath(path, 'expected Fragments({trackName}={start}|i[,options])');
  let start: number | 'init';
  if (m[2] === 'i') start = 'init';
  else {
    const ticks = parseCanonicalInteger(m[2]);
    if (ticks === undefined) throw badPath(path, `fragment start '${m[2].slice(0, 40)}' must be 'i' or a whole number of ticks below 2^53`);
    start = ticks;
  }
  const { text: withoutPart, part } = takePartOption(path, m[3] ?? '');
  const { text, keyframes } = takeKeyframesOption(path, withoutPart);
  const options = parseManifestOptions(text);
  if (part !== undefined) {
    if (keyframes) throw badPath(path, 'a part is not a keyframe fragment (part and type=keyframes cannot go together)');
    if (start === 'init') throw badPath(path, 'a part is addressed by its segment start, not i');
    if (options.format !== 'm3u8-cmaf') throw badPath(path, 'parts (LL-HLS) need format=m3u8-cmaf');
    return { bitrate: ql.bitrate, trackName: m[1], start, format: options.format, options, part };
  }
  if (!keyframes) return { bitrate: ql.bitrate, trackName: m[1], start, format: options.format, options };
  if (start === 'init') throw badPath(path, 'a keyframe fragment is addressed by its decode time, not i');
  if (options.format !== 'm3u8-cmaf' && options.format !== 'm3u8-aapl') throw badPath(path, 'keyframe fragments need format=m3u8-cmaf or format=m3u8-aapl');
  return { bitrate: ql.bitrate, trackName: m[1], start, format: options.format, options, keyframes };
}

/**
 * Parses an HLS media playlist path relative to `{manifestName}.ism/`:
 * `QualityLevels(128000)/Manifest(aac_eng_2_128,format=m3u8-cmaf)`. Undefined when not of that shape; throws
 * `BadRequestError` when malformed or when its format is not an HLS one.
 */
export function parseMediaPlaylistPath(path: string): MediaPlaylistRequest | undefined {
  const ql = splitQualityLevels(path);
  if (!ql || !/^Manifest\(/i.test(ql.rest)) return undefined;
  const m = /^Manifest\(([^,()=/]+)(?:,([^()/]*))?\)(?:\.m3u8)?$/i.exec(ql.rest);
  if (!m) throw badPath(path, 'expected Manifest({trackName},format=m3u8-cmaf|m3u8-aapl[,options])');
  const { text, keyframes } = takeKeyframesOption(path, m[2] ?? '');
  const options = parseManifestOptions(text);
  if (options.format !== 'm3u8-cmaf' && options.format !== 'm3u8-aapl') {
    throw badPath(path, 'a media playlist needs format=m3u8-cmaf or format=m3u8-aapl');
  }
  const request: MediaPlaylistRequest = { bitrate: ql.bitrate, trackName: m[1], format: options.format, options };
  if (keyframes) request.keyframes = true;
  return request;
}

/** Escapes text for an XML attribute value in double quotes (or element content). */
export function escapeXml(text: string): string {
  return /[&<>"']/.test(text) ? text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;') : text;
}

/**
 * ISO 639-2 (as `mdhd` and `.ism` carry it) → the shortest BCP 47 tag (RFC 5646 §2.2.1 prefers the ISO 639-1
 * code), as HLS `LANGUAGE` and DASH `@lang` require. Unknown codes pass through; `und` and empty give undefined.
 */
export function languageTag(language: string): string | undefined {
  const code = language.trim().toLowerCase();
  if (code === '' || code === 'und' || code === 'mis' || code === 'zxx') return undefined;
  if (!/^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$/.test(code)) return undefined;
  return iso639Part1[code] ?? code;
}

const iso639Part1: Record<string, string> = {
  ara: 'ar',
  bul: 'bg',
  cat: 'ca',
  ces: 'cs',
  cze: 'cs',
  chi: 'zh',
  zho: 'zh',
  dan: 'da',
  deu: 'de',
  ger: 'de',
  ell: 'el',
  gre: 'el',
  eng: 'en',
  spa: 'es',
  est: 'et',
  eus: 'eu',
  baq: 'eu',
  fas: 'fa',
  per: 'fa',
  fin: 'fi',
  fra: 'fr',
  fre: 'fr',
  gle: 'ga',
  glg: 'gl',
  heb: 'he',
  hin: 'hi',
  hrv: 'hr',
  hun: 'hu',
  hye: 'hy',
  arm: 'hy',
  ind: 'id',
  isl: 'is',
  ice: 'is',
  ita: 'it',
  jpn: 'ja',
  kat: 'ka',
  geo: 'ka',
  kor: 'ko',
  lit: 'lt',
  lav: 'lv',
  mkd: 'mk',
  mac: 'mk',
  msa: 'ms',
  may: 'ms',
  mlt: 'mt',
  nld: 'nl',
  dut: 'nl',
  nor: 'no',
  nob: 'nb',
  nno: 'nn',
  pol: 'pl',
  por: 'pt',
  ron: 'ro',
  rum: 'ro',
  rus: 'ru',
  slk: 'sk',
  slo: 'sk',
  slv: 'sl',
  sqi: 'sq',
  alb: 'sq',
  srp: 'sr',
  swe: 'sv',
  swa: 'sw',
  tam: 'ta',
  tel: 'te',
  tha: 'th',
  tur: 'tr',
  ukr: 'uk',
  urd: 'ur',
  vie: 'vi',
  cym: 'cy',
  wel: 'cy',
  ben: 'bn',
  fil: 'fil',
  tgl: 'tl',
  afr: 'af',
  zul: 'zu',
};
