/**
 * How each output format serves a text track stored inside an MP4 (`stpp` TTML/IMSC1, `wvtt` WebVTT; side-loaded
 * `.vtt` files are `SidecarTextTrack`s and go their own way). The manifest writers list a text track only where
 * this gives a form, and the origin serves its fragments in that form, so the two cannot disagree.
 * - DASH (both formats): fMP4 text segments, `mimeType="application/mp4"` (DASH-IF IOP §6.4.5, CMAF §9).
 * - HLS CMAF: `stpp` as fMP4 subtitle segments (IMSC1 text in HLS, Apple HLS authoring specification; a track that
 *   declares the IMSC1 image profile is left out); `wvtt` as
 *   WebVTT text segments converted from the samples, since HLS carries WebVTT only as text (RFC 8216 §3.5).
 * - HLS TS: `wvtt` as WebVTT text segments; `stpp` is left out (TS playlists have no fMP4 segments and Reel does
 *   not convert TTML to WebVTT).
 * - Smooth: none (AMS Smooth text streams are a different, TTML-in-PIFF format; not offered).
 */
import type { TrackIndex } from '../../model/media-index.js';
import type { ManifestFormat } from '../manifest/manifest-context.js';

export type TextTrackForm = 'fmp4' | 'webvtt';

export function textTrackForm(format: ManifestFormat, track: Pick<TrackIndex, 'fourcc' | 'codecs'>): TextTrackForm | undefined {
  if (format === 'smooth') return undefined;
  if (format === 'm3u8-cmaf' || format === 'm3u8-aapl') {
    if (track.fourcc === 'wvtt') return 'webvtt';
    // HLS names IMSC1 text only (`stpp.ttml.im1t`): a track declaring the image profile is not offered there.
    return format === 'm3u8-cmaf' && track.fourcc === 'stpp' && track.codecs !== 'stpp.ttml.im1i' ? 'fmp4' : undefined;
  }
  return track.fourcc === 'wvtt' || track.fourcc === 'stpp' ? 'fmp4' : undefined;
}
