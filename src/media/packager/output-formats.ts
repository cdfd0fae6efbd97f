/**
 * The table from output format (the `format=` of a playback URL, MKIO-API.md §17.2; Smooth when there is none)
 * to what packages it: the streaming-policy protocol it needs, its segment muxer, its manifest writer and how
 * it serves side-loaded subtitles. A new format is one row. A stage that changes every format (an `encrypt/`
 * wrapper around a row's muxer and writer, a `filters/` step on the presentation before them) composes with
 * the row it is given instead of adding branches where formats are used.
 */
import type { SampleRun, TrackIndex, TrackKind } from './model/media-index.js';
import type { Presentation, PresentationTrack } from './model/presentation.js';
import type { TrackSegment } from './model/segment.js';
import type { SegmentPlan, SourceRange } from './mux/segment-plan.js';
import { buildInitSegment, type InitSegmentOptions } from './mux/fmp4/init-segment.js';
import { planMediaSegment, type MediaSegmentOptions } from './mux/fmp4/media-segment.js';
import { planTextSegment, ttmlDocumentsToMerge, writeMergedTtmlSegment } from './mux/fmp4/text-segment.js';
import { planWvttSamples, writeWebVttSegment } from './mux/text/wvtt-webvtt.js';
import { muxTsSegment, TS_TIMESTAMP_OFFSET_90K } from './mux/ts/ts-muxer.js';
import { hlsMasterPlaylist, hlsMediaPlaylist, hlsTextPlaylist } from './mux/manifest/hls.js';
import { hlsIFramePlaylist } from './mux/manifest/hls-iframes.js';
import { dashMpd, presentationStart } from './mux/manifest/dash.js';
import { smoothManifest } from './mux/manifest/smooth.js';
import type { ManifestContext, ManifestFormat } from './mux/manifest/manifest-context.js';
import { webVttFromSec, webVttWithTimestampMap } from './mux/text/webvtt.js';

/** The streaming-policy protocol a format belongs to (the keys of a policy's `enabledProtocols`). */
export type StreamingProtocol = 'hls' | 'dash' | 'smoothStreaming';

/** Writes a format's manifests; text out, so the caller can cache, compress and validate it. */
export interface ManifestWriter {
  /** Content-Type of every manifest it writes. */
  readonly contentType: string;
  /** The presentation's manifest (`…/manifest(format=…)`): HLS multivariant playlist, DASH MPD or Smooth manifest. */
  manifest(p: Presentation, ctx: ManifestContext): string;
  /** HLS only: one track's media playlist (`QualityLevels(b)/Manifest(name,format=…)`). */
  readonly mediaPlaylist?: (p: Presentation, track: PresentationTrack, ctx: ManifestContext) => string;
  /** HLS only: a video track's I-frame playlist (`…,type=keyframes)`), undefined when it has none. */
  readonly iFramePlaylist?: (p: Presentation, track: PresentationTrack, ctx: ManifestContext) => string | undefined;
  /** HLS only: the media playlist of a side-loaded subtitle track. */
  readonly textPlaylist?: (p: Presentation, name: string, ctx: ManifestContext) => string;
}

/**
 * fMP4 segments (CMAF, or ISO BMFF for `mpd-time-csf`), in two passes: `plan` gives the final size and the
 * parts (built boxes, source ranges) before any media byte is read; the caller reads the ranges and sends the
 * parts in order, samples verbatim.
 */
export interface Fmp4SegmentMuxer {
  readonly container: 'fmp4';
  /** Tells this format's bytes apart from another's for the same track and time (ETags, cache keys). */
  readonly variant: 'cmaf' | 'csf';
  /** Content-Type of a segment of a track of `kind`. */
  contentType(kind: TrackKind): string;
  /** The `ftyp` + `moov` initialization segment of a track. */
  init(track: TrackIndex): Uint8Array;
  /** A media segment as sizes and source ranges, nothing read yet. */
  plan(track: TrackIndex, segment: TrackSegment): SegmentPlan;
  /**
   * The one kind of fMP4 segment that needs its source bytes first: an `stpp` segment that several TTML documents
   * overlap is one merged document (text-segment.ts). `documents` names what to read (undefined: `plan` serves the
   * segment), `write` builds the segment from those bytes.
   */
  readonly mergedText: {
    documents(track: TrackIndex, segment: TrackSegment): SourceRange[] | undefined;
    write(track: TrackIndex, segment: TrackSegment, documents: Uint8Array[]): Uint8Array[];
  };
}

/** The samples an MPEG-TS segment converts: their fields and, in the same order, the byte ranges to read. */
export interface TsSamplePlan {
  run: SampleRun;
  ranges: SourceRange[];
}

/**
 * MPEG-TS segments (`m3u8-aapl`): samples are converted (Annex B, ADTS, PES), so their bytes are read first
 * (`plan`), then the segment is written from them (`write`). There is no initialization segment.
 */
export interface TsSegmentMuxer {
  readonly container: 'ts';
  /** Tells this format's bytes apart from another's for the same track and time (ETags, cache keys). */
  readonly variant: 'ts';
  /** Content-Type of a segment of a track of any kind. */
  contentType(kind: TrackKind): string;
  /** The samples of `segment` to read. */
  plan(track: TrackIndex, segment: TrackSegment): TsSamplePlan;
  /** The segment, from the bytes of the planned samples (one buffer per range, same order). */
  write(track: TrackIndex, segment: TrackSegment, plan: TsSamplePlan, samples: Uint8Array[]): Uint8Array[];
}

/**
 * WebVTT text segments of a `wvtt` track (HLS, see `textTrackForm`): the samples' bytes are read first (`plan`,
 * one range per sample), then converted to a WebVTT file (`write`).
 */
export interface WebVttSegmentWriter {
  readonly contentType: string;
  plan(track: TrackIndex, segment: TrackSegment): SourceRange[];
  write(track: TrackIndex, segment: TrackSegment, samples: Uint8Array[]): string;
}

/** How one output format is packaged. */
export interface OutputFormat {
  readonly format: ManifestFormat;
  readonly protocol: StreamingProtocol;
  readonly manifests: ManifestWriter;
  readonly segments: Fmp4SegmentMuxer | TsSegmentMuxer;
  /**
   * A side-loaded WebVTT file as this format serves it in `presentation` (HLS adds its timestamp map; DASH moves
   * the cues to its Period, which starts at a clip's start).
   */
  subtitles(vtt: string, presentation: Presentation): string;
  /** HLS: how `wvtt` tracks inside MP4s become WebVTT segments (their cues on the same timestamp map as `subtitles`). */
  readonly webVttSegments?: WebVttSegmentWriter;
}

function fmp4Segments(variant: 'cmaf' | 'csf'): Fmp4SegmentMuxer {
  // Options fixed per row, so a segment request allocates none.
  const initOptions: InitSegmentOptions = { brands: variant === 'csf' ? 'iso' : 'cmaf' };
  const segmentOptions: MediaSegmentOptions = { styp: variant !== 'csf' };
  return {
    container: 'fmp4',
    variant,
    contentType: (kind) => (kind === 'audio' ? 'audio/mp4' : kind === 'text' ? 'application/mp4' : 'video/mp4'),
    init: (track) => buildInitSegment(track, initOptions),
    plan: (track, segment) =>
      track.kind === 'text'
        ? planTextSegment(track, segment, segment.index + 1, segmentOptions)
        : planMediaSegment(track, segment, segment.index + 1, segmentOptions),
    mergedText: {
      documents: ttmlDocumentsToMerge,
      write: (track, segment, documents) => writeMergedTtmlSegment(track, segment, segment.index + 1, segmentOptions, documents),
    },
  };
}

const tsSegments: TsSegmentMuxer = {
  container: 'ts',
  variant: 'ts',
  contentType: () => 'video/mp2t',
  plan(track, segment) {
    const run = track.samples.run(segment.firstSample, segment.firstSample + segment.sampleCount);
    const ranges: SourceRange[] = [];
    for (let j = 0; j < run.count; j++) ranges.push({ offset: run.offsets[j], length: run.sizes[j] });
    return { run, ranges };
  },
  write: (track, segment, plan, samples) => muxTsSegment({ track, segment, samples, run: plan.run }),
};

const cmafSegments = fmp4Segments('cmaf');

const hls = (contentType: string): ManifestWriter => ({
  contentType,
  manifest: hlsMasterPlaylist,
  mediaPlaylist: hlsMediaPlaylist,
  iFramePlaylist: hlsIFramePlaylist,
  textPlaylist: hlsTextPlaylist,
});
const dash: ManifestWriter = { contentType: 'application/dash+xml', manifest: dashMpd };
const smooth: ManifestWriter = { contentType: 'text/xml; charset=utf-8', manifest: smoothManifest };
const asIs = (vtt: string) => vtt;
/** DASH: cue times become Period times (the Period of a time-filtered clip starts at the clip's first media time). */
const inPeriod = (vtt: string, p: Presentation): string => {
  if (p.live) return vtt;
  const start = presentationStart(p);
  return webVttFromSec(vtt, start.ticks / start.timescale);
};

const webVttSegments = (mpegTs90k: number): WebVttSegmentWriter => ({
  contentType: 'text/vtt; charset=utf-8',
  plan: planWvttSamples,
  write: (track, segment, samples) => writeWebVttSegment(track, segment, samples, mpegTs90k),
});

/** Every output format the origin serves, by its `format=` value. */
export const outputFormats: Readonly<Record<ManifestFormat, OutputFormat>> = {
  'm3u8-cmaf': {
    format: 'm3u8-cmaf',
    protocol: 'hls',
    manifests: hls('application/vnd.apple.mpegurl'),
    segments: cmafSegments,
    subtitles: (vtt) => webVttWithTimestampMap(vtt, 0),
    webVttSegments: webVttSegments(0),
  },
  'm3u8-aapl': {
    format: 'm3u8-aapl',
    protocol: 'hls',
    manifests: hls('application/vnd.apple.mpegurl'),
    segments: tsSegments,
    subtitles: (vtt) => webVttWithTimestampMap(vtt, TS_TIMESTAMP_OFFSET_90K),
    webVttSegments: webVttSegments(TS_TIMESTAMP_OFFSET_90K),
  },
  'mpd-time-cmaf': { format: 'mpd-time-cmaf', protocol: 'dash', manifests: dash, segments: cmafSegments, subtitles: inPeriod },
  'mpd-time-csf': { format: 'mpd-time-csf', protocol: 'dash', manifests: dash, segments: fmp4Segments('csf'), subtitles: inPeriod },
  smooth: { format: 'smooth', protocol: 'smoothStreaming', manifests: smooth, segments: cmafSegments, subtitles: asIs },
};
