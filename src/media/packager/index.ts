/**
 * The packager's API: everything outside `src/media/packager` imports it from here (model types may also be
 * imported from `model/` directly). A pure library, bytes in and bytes out: no HTTP, storage or database.
 *
 * A request flows through it in stages:
 * 1. parse: `readMp4Index` reads an MP4's `moov` (and `moof`s) through a ranged-read callback → `MediaIndex`;
 * 2. model: `segmentTracks` cuts tracks into segments aligned on the video keyframes → a `Presentation`;
 * 3. filters: `applyFilters(presentation, filters)` applies asset/account filters (track selection, time range
 *    trimmed to whole segments that keep their indices and URLs, firstQuality) → a `FilteredPresentation`, still a
 *    `Presentation` every writer takes as is; `FilterError` (400) when a filter is invalid or leaves nothing;
 * 4. mux: `outputFormat(format)` gives the row of the format table, whose manifest writer renders text and
 *    whose segment muxer plans a segment first (`{ size, parts }`, nothing read) and is written after the
 *    caller has read the planned source ranges;
 * 5. encrypt: `encryptedSegments(row.segments, encryption)` wraps a row's segment muxer so that its segments come
 *    out encrypted (CENC `cenc`/`cbcs` for fMP4, the HLS AES-128 envelope for fMP4 and MPEG-TS); its plans are
 *    finished by `seal` after the read.
 *
 * @example
 * const row = outputFormat('mpd-time-cmaf');
 * const mpd = row.manifests.manifest(presentation, createManifestContext('mpd-time-cmaf', options));
 * if (row.segments.container === 'fmp4') {
 *   const plan = row.segments.plan(track.track, segment); // { size, parts }: Content-Length before any read
 * }
 */
import type { ManifestFormat } from './mux/manifest/manifest-context.js';
import { outputFormats, type OutputFormat } from './output-formats.js';

/** The row of the format table for `format`: protocol, manifest writer, segment muxer, subtitles. */
export function outputFormat(format: ManifestFormat): OutputFormat {
  return outputFormats[format];
}

export {
  outputFormats,
  type Fmp4SegmentMuxer,
  type ManifestWriter,
  type OutputFormat,
  type StreamingProtocol,
  type TsSamplePlan,
  type TsSegmentMuxer,
  type WebVttSegmentWriter,
} from './output-formats.js';
export { textTrackForm, type TextTrackForm } from './mux/text/text-forms.js';

// Playback URL grammar (both directions live with the manifest writers).
export {
  createManifestContext,
  parseFragmentPath,
  parseManifestOptions,
  parseMediaPlaylistPath,
  type FragmentRequest,
  type ManifestContext,
  type ManifestEncryption,
  type ManifestFormat,
  type ManifestOptions,
  type ManifestProtection,
  type MediaPlaylistRequest,
  type ProtectionScheme,
} from './mux/manifest/manifest-context.js';

// URL time options (vbegin/vend, start/end) as filter definitions for the filter stage.
export { timeOptionFilters, urlTrimFilterName, urlWindowFilterName } from './mux/manifest/option-filters.js';

// HLS I-frame playlists: the keyframe a `type=keyframes` fragment URL names.
export { keyframeAt, trackKeyframes, type Keyframes } from './mux/manifest/hls-iframes.js';

// DRM system headers: PSSH boxes for init segments, and the headers manifests repeat.
export {
  commonPssh,
  guidBytes,
  playReadyGuidBytes,
  playReadyHeaderXml,
  playReadyObject,
  playReadyPssh,
  psshBox,
  systemIds,
  widevinePssh,
  widevinePsshData,
  type CommonEncryptionScheme,
  type PlayReadyHeaderOptions,
} from './encrypt/drm-headers.js';
export { initSegmentPsshBoxes, initSegmentPsshBoxList, protectionHeaders, type ProtectionHeaders } from './encrypt/protection-headers.js';

// Parse and model.
export { readMp4Index } from './parse/mp4/read-mp4-index.js';
export { segmentTracks } from './model/segmenter.js';
export { SegmentList, type TrackSegment } from './model/segment.js';
export {
  peakSegmentBitrateBps,
  textTrackBitrateBps,
  type LiveTimeline,
  type Presentation,
  type PresentationPart,
  type PresentationTrack,
  type SidecarTextTrack,
} from './model/presentation.js';
export type { MediaIndex, SampleRun, TrackIndex, TrackKind } from './model/media-index.js';

// Filters (stage 3).
export { applyFilters, FilterError, firstQualityTrack, type FilteredPresentation } from './filters/apply-filters.js';

// Segment plans: what a muxer produces before any media byte is read.
export { isSourceRange, type SegmentPart, type SegmentPlan, type SourceRange } from './mux/segment-plan.js';

// Encryption: a wrapper around a row's segment muxer.
export { checkEncryptable, encryptedSegments, type EncryptedFmp4Muxer } from './encrypt/encrypted-segments.js';
export type { EncryptedSegmentPlan } from './encrypt/protected-segment.js';
export {
  cbcsConstantIv,
  encryptionCacheTag,
  encryptionEtagTag,
  envelopeIv,
  isEncryptedTrack,
  keyIdHex,
  type EncryptionScheme,
  type TrackEncryption,
} from './encrypt/track-encryption.js';
