/**
 * Stage 3 of the packager: asset and account filters (MK.IO §8, AMS "dynamic manifests") applied to a
 * presentation before any manifest is written. A pure function: presentation in, presentation out, nothing read.
 *
 * Semantics (see docs/MKIO-DIFFERENCES.md, "Filter semantics"):
 * - Tracks: the selections of one filter are ORed, the conditions of a selection ANDed; several filters apply in
 *   turn (a track must pass every filter that has `tracks`). Side-loaded WebVTT files are text tracks.
 * - Time: each filter's `presentationTimeRange` gives an interval of the media timeline (the decode times the
 *   segments are addressed by, `tfdt`, so 0 is the start of an ordinary VOD asset), the filters' intervals are
 *   intersected, and every segment overlapping it is kept, whole: the manifest starts and ends on segment
 *   boundaries, and the kept segments keep their start times and indices (same URLs, same cached bytes).
 * - For VOD, `liveBackoffDuration` moves the end back from the presentation's end (or `endTimestamp`), and
 *   `presentationWindowDuration` keeps that much before this end: a VOD asset is treated as a live archive
 *   whose live edge is its end. `forceEndTimestamp` changes nothing: every end of a VOD asset has been reached.
 * - `firstQuality`: the video track with the highest bitrate at or below the asked one, else the lowest above.
 */
import { BadRequestError } from '../../../shared/errors.js';
import type { FilterDefinition, FilterTimeRange, FilterTrackCondition } from '../../../shared/filter-definitions.js';
import { textTrackBitrateBps, type Presentation, type PresentationTrack, type SidecarTextTrack } from '../model/presentation.js';
import type { SegmentList } from '../model/segment.js';
import { languageTag } from '../mux/manifest/manifest-context.js';

/**
 * A filter that cannot be applied (`InvalidFilterDefinition`), or that leaves nothing to play (`FilterSelectsNoTracks`,
 * `FilterSelectsNoSegments`): HTTP 400 with the MK.IO error body, naming the filters.
 */
export class FilterError extends BadRequestError {}

/** What `applyFilters` returns: a presentation every manifest writer takes as is, plus what the filters asked for. */
export interface FilteredPresentation extends Presentation {
  // `firstQualityBitrateBps` (from Presentation): exactly the chosen video track's `bitrateBps`, read by the writers.
  /** Media time of the first kept segment, seconds (the earliest audio/video track start). */
  startSec: number;
  /** The interval the filters asked for (intersected, seconds); undefined when none has a time range. */
  requestedRange?: { startSec: number; endSec: number };
  /** Index range [first, end) of the kept segments in the unfiltered presentation. */
  segmentRange: { first: number; end: number };
}

/** `n / d` exactly, d > 0. */
interface Time {
  n: bigint;
  d: bigint;
}

function cmp(a: Time, b: Time): number {
  const x = a.n * b.d;
  const y = b.n * a.d;
  return x < y ? -1 : x > y ? 1 : 0;
}

function minus(a: Time, b: Time): Time {
  return { n: a.n * b.d - b.n * a.d, d: a.d * b.d };
}

function seconds(t: Time): number {
  return Number(t.n) / Number(t.d);
}

const defaultTimescale = 10_000_000;

function invalid(filter: FilterDefinition, what: string): FilterError {
  return new FilterError('InvalidFilterDefinition', `Filter '${filter.name}': ${what}`);
}

function ticks(filter: FilterDefinition, field: string, value: number | undefined, timescale: bigint): Time | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Number.isSafeInteger(value) || value < 0) throw invalid(filter, `presentationTimeRange.${field} must be a non-negative integer`);
  return { n: BigInt(value), d: timescale };
}

/** The interval [lo, hi) of one filter; undefined bounds are open. */
function filterInterval(filter: FilterDefinition, range: FilterTimeRange, presentationEnd: Time): { lo?: Time; hi?: Time } {
  const scale = range.timescale ?? defaultTimescale;
  if (!Number.isSafeInteger(scale) || scale < 1) throw invalid(filter, 'presentationTimeRange.timescale must be a positive integer');
  const ts = BigInt(scale);
  let lo = ticks(filter, 'startTimestamp', range.startTimestamp, ts);
  let hi = ticks(filter, 'endTimestamp', range.endTimestamp, ts);
  if (lo && hi && cmp(lo, hi) >= 0) throw invalid(filter, 'startTimestamp must be before endTimestamp');
  const backoff = ticks(filter, 'liveBackoffDuration', range.liveBackoffDuration, ts);
  const window = ticks(filter, 'presentationWindowDuration', range.presentationWindowDuration, ts);
  if (backoff || window) {
    // The "live edge" of a VOD asset is its end (or endTimestamp when earlier); the backoff moves it back, the
    // window ends there.
    let edge = hi && cmp(hi, presentationEnd) < 0 ? hi : presentationEnd;
    if (backoff) edge = minus(edge, backoff);
    hi = edge;
    if (window) {
      const windowStart = minus(edge, window);
      if (!lo || cmp(windowStart, lo) > 0) lo = windowStart;
    }
  }
  return { lo, hi };
}

/** The reference track of segment times: the segmenter's (first video, else first audio, else first track). */
function referenceTrack(tracks: readonly PresentationTrack[]): PresentationTrack | undefined {
  return tracks.find((t) => t.kind === 'video') ?? tracks.find((t) => t.kind === 'audio') ?? tracks[0];
}

/** A track as the conditions see it: media tracks and side-loaded text files alike. */
interface Candidate {
  kind: 'video' | 'audio' | 'text';
  name: string;
  language: string;
  fourcc?: string;
  codecs?: string;
  bitrateBps: number;
}

/** Primary language subtag, lower case, ISO 639-2 codes mapped to ISO 639-1 where one exists (`eng` → `en`). */
function normalizedLanguage(code: string): { tag: string; primary: string } {
  const tag = languageTag(code) ?? code.trim().toLowerCase();
  const canonical = tag === '' ? 'und' : tag;
  const primary = canonical.split('-')[0];
  return { tag: canonical, primary: languageTag(primary) ?? primary };
}

function languageMatches(trackLanguage: string, value: string): boolean {
  const track = normalizedLanguage(trackLanguage);
  const asked = normalizedLanguage(value);
  if (track.tag === asked.tag) return true;
  // A track's language has no region (ISO 639-2 in `mdhd`): `en-US` asks for English, `en` for any English.
  return track.primary === asked.primary && (!track.tag.includes('-') || !asked.tag.includes('-'));
}

function parseBitrate(filter: FilterDefinition, value: string): [number, number] {
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(value);
  if (!m) throw invalid(filter, `Bitrate '${value}' is neither a number nor a range 'low-high' in bits per second`);
  const low = Number(m[1]);
  const high = m[2] === undefined ? low : Number(m[2]);
  if (high < low) throw invalid(filter, `Bitrate range '${value}' ends before it starts`);
  return [low, high];
}

function conditionHolds(filter: FilterDefinition, c: FilterTrackCondition, t: Candidate): boolean {
  const value = String(c.value ?? '').trim();
  const lower = value.toLowerCase();
  let equal: boolean;
  switch (c.property) {
    case 'Type':
      if (!['video', 'audio', 'text'].includes(lower)) throw invalid(filter, `Type '${value}' is not Video, Audio or Text`);
      equal = t.kind === lower;
      break;
    case 'Name':
      equal = t.name.toLowerCase() === lower;
      break;
    case 'Language':
      equal = languageMatches(t.language, value);
      break;
    case 'FourCC': {
      // The sample entry four-cc (`avc1`, `ec-3`) or the codecs string's first element (`avc1.64001f` → avc1).
      const fourccs = [t.fourcc, t.codecs?.split('.')[0]].filter((f): f is string => !!f).map((f) => f.toLowerCase());
      equal = fourccs.includes(lower);
      break;
    }
    case 'Bitrate': {
      const [low, high] = parseBitrate(filter, value);
      equal = t.bitrateBps >= low && t.bitrateBps <= high;
      break;
    }
    default:
      throw invalid(filter, `track property '${String(c.property)}' cannot be filtered on`);
  }
  if (c.operation === 'Equal') return equal;
  if (c.operation === 'NotEqual') return !equal;
  throw invalid(filter, `track operation '${String(c.operation)}' is neither Equal nor NotEqual`);
}

/** Whether a track passes one filter: no selection at all passes everything. */
function passes(filter: FilterDefinition, t: Candidate): boolean {
  const selections = filter.tracks;
  if (!selections || selections.length === 0) return true;
  return selections.some((s) => (s.trackSelections ?? []).every((c) => conditionHolds(filter, c, t)));
}

function mediaCandidate(t: PresentationTrack): Candidate {
  return { kind: t.kind, name: t.name, language: t.language, fourcc: t.track.fourcc, codecs: t.track.codecs, bitrateBps: t.bitrateBps };
}

function sidecarCandidate(t: SidecarTextTrack): Candidate {
  return { kind: 'text', name: t.name, language: t.language, fourcc: 'wvtt', codecs: 'wvtt', bitrateBps: textTrackBitrateBps };
}

/** `firstQuality`: the highest video bitrate at or below `bitrate`, else the lowest above it (AMS: "closest"). */
export function firstQualityTrack(tracks: readonly PresentationTrack[], bitrate: number): PresentationTrack | undefined {
  let below: PresentationTrack | undefined;
  let above: PresentationTrack | undefined;
  for (const t of tracks) {
    if (t.kind !== 'video') continue;
    if (t.bitrateBps <= bitrate) {
      if (!below || t.bitrateBps > below.bitrateBps) below = t;
    } else if (!above || t.bitrateBps < above.bitrateBps) above = t;
  }
  return below ?? above;
}

function names(filters: readonly FilterDefinition[]): string {
  return filters.map((f) => `'${f.name}'`).join(', ');
}

/**
 * Applies `filters` in turn to `presentation`. Tracks keep their `SegmentList` memory (kept segments are
 * `subarray` views with their original indices and start times); the input is not modified.
 *
 * @throws FilterError (400) `InvalidFilterDefinition` for a value that cannot be applied, `FilterSelectsNoTracks` when no
 *   audio or video track is left, `FilterSelectsNoSegments` when the time range holds no segment.
 */
export function applyFilters<P extends Presentation>(presentation: P, filters: readonly FilterDefinition[]): P & FilteredPresentation {
  // Tracks.
  let tracks = presentation.tracks.filter((t) => filters.every((f) => passes(f, mediaCandidate(t))));
  const textTracks = presentation.textTracks?.filter((t) => filters.every((f) => passes(f, sidecarCandidate(t))));
  if (!tracks.some((t) => t.kind !== 'text') && presentation.tracks.length > 0) {
    throw new FilterError('FilterSelectsNoTracks', `The filters ${names(filters)} leave no audio or video track of this asset to stream`);
  }

  // Time: one index range for every track, from the reference track's segment times.
  const ref = referenceTrack(presentation.tracks);
  const count = ref ? Math.min(...presentation.tracks.map((t) => t.segments.length)) : 0;
  let first = 0;
  let end = count;
  let requestedRange: FilteredPresentation['requestedRange'];
  const ranges = filters.filter((f) => f.presentationTimeRange);
  if (ref && count > 0 && ranges.length > 0) {
    const ts = BigInt(ref.track.timescale);
    const s = ref.segments;
    const at = (ticksValue: number): Time => ({ n: BigInt(ticksValue), d: ts });
    const presentationStart = at(s.startTicks[0]);
    const presentationEnd = at(s.startTicks[count - 1] + s.durationTicks[count - 1]);
    let lo: Time | undefined;
    let hi: Time | undefined;
    for (const f of ranges) {
      const r = filterInterval(f, f.presentationTimeRange as FilterTimeRange, presentationEnd);
      if (r.lo && (!lo || cmp(r.lo, lo) > 0)) lo = r.lo;
      if (r.hi && (!hi || cmp(r.hi, hi) < 0)) hi = r.hi;
    }
    requestedRange = { startSec: seconds(lo ?? presentationStart), endSec: seconds(hi ?? presentationEnd) };
    // First segment ending after lo, first segment starting at or after hi (both monotonic: binary search).
    if (lo) {
      const bound = lo;
      first = lowerBound(count, (i) => cmp(at(s.startTicks[i] + s.durationTicks[i]), bound) > 0);
    }
    if (hi) {
      const bound = hi;
      end = lowerBound(count, (i) => cmp(at(s.startTicks[i]), bound) >= 0);
    }
    if (first >= end) {
      throw new FilterError(
        'FilterSelectsNoSegments',
        `The time range of the filters ${names(filters)} (${requestedRange.startSec.toFixed(3)} s to ${requestedRange.endSec.toFixed(3)} s) holds no part of this asset`,
      );
    }
  }
  const trimmed = first > 0 || end < count;
  if (trimmed) tracks = tracks.map((t) => withSegments(t, t.segments.slice(first, end)));

  // firstQuality: its track first among the video tracks (DASH and Smooth list in presentation order).
  let firstQualityBitrateBps: number | undefined;
  for (const f of filters) if (f.firstQuality && Number.isFinite(f.firstQuality.bitrate)) firstQualityBitrateBps = f.firstQuality.bitrate;
  if (firstQualityBitrateBps !== undefined) {
    const chosen = firstQualityTrack(tracks, firstQualityBitrateBps);
    firstQualityBitrateBps = chosen?.bitrateBps;
    if (chosen) {
      const at = tracks.findIndex((t) => t.kind === 'video');
      tracks = [...tracks.slice(0, at), chosen, ...tracks.slice(at).filter((t) => t !== chosen)];
    }
  }

  const av = tracks.filter((t) => t.kind !== 'text' && t.segments.length > 0);
  let startSec = 0;
  let durationSec = presentation.durationSec;
  if (av.length > 0) {
    startSec = Math.min(...av.map((t) => t.segments.startTicks[0] / t.track.timescale));
    if (trimmed) {
      const endSec = Math.max(
        ...av.map((t) => (t.segments.startTicks[t.segments.length - 1] + t.segments.durationTicks[t.segments.length - 1]) / t.track.timescale),
      );
      durationSec = endSec - startSec;
    }
  }

  // Whatever else the caller's presentation carries (the origin's files and ETag) comes along.
  const out: P & FilteredPresentation = { ...presentation, durationSec, tracks, startSec, segmentRange: { first, end } };
  if (presentation.textTracks) out.textTracks = textTracks;
  if (firstQualityBitrateBps !== undefined) out.firstQualityBitrateBps = firstQualityBitrateBps;
  if (requestedRange) out.requestedRange = requestedRange;
  return out;
}

/**
 * A copy of `t` with other segments. Property descriptors are copied, not values, so a lazily measured
 * `peakBitrateBps` getter stays lazy (and measures the whole track: a clip's BANDWIDTH stays the asset's, an upper
 * bound of the clip's).
 */
function withSegments(t: PresentationTrack, segments: SegmentList): PresentationTrack {
  const copy = Object.create(Object.getPrototypeOf(t) as object | null, Object.getOwnPropertyDescriptors(t)) as PresentationTrack;
  Object.defineProperty(copy, 'segments', { value: segments, writable: true, enumerable: true, configurable: true });
  return copy;
}

/** The smallest i in [0, n) with `pred(i)` true (pred monotonic false…true), n when none. */
function lowerBound(n: number, pred: (i: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
