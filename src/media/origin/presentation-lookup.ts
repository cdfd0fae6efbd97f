import { NotFoundError } from '../../shared/errors.js';
import { keyframeAt, textTrackBitrateBps, type PresentationTrack, type SidecarTextTrack, type TrackSegment } from '../packager/index.js';
import type { BuiltPresentation } from './presentation-builder.js';

/** The side-loaded subtitle track a `QualityLevels(b)/…(name…)` URL names, if it names one. */
export function findTextTrack(p: BuiltPresentation, bitrate: number, name: string): SidecarTextTrack | undefined {
  return bitrate === textTrackBitrateBps ? p.textTracks?.find((t) => t.name === name) : undefined;
}

/** The track a `QualityLevels(b)/…(name…)` URL names; 404 when there is none. */
export function findTrack(p: BuiltPresentation, bitrate: number, name: string): PresentationTrack {
  const track = p.tracks.find((t) => t.bitrateBps === bitrate && t.name === name);
  if (!track) throw new NotFoundError('NotFound', `Track '${name}' at ${bitrate} bps not found`);
  return track;
}

/** Segments are addressed by their exact start time; anything else is not a segment of this track. */
export function findSegment(track: PresentationTrack, start: number): TrackSegment {
  const segment = track.segments.startingAt(start);
  if (!segment) throw new NotFoundError('FragmentNotFound', `No fragment of '${track.name}' starts at ${start}`);
  return segment;
}

/**
 * A fragment start as the origin addresses segments: a segment's start time, `init`, or `k{dts}` for the one
 * keyframe decoded at `dts` (an HLS I-frame playlist entry, `…,type=keyframes)`).
 */
export type FragmentStart = number | 'init' | `k${number}`;

/** The one keyframe of a video track decoded at `dts`, as a one-sample segment; 404 when there is none. */
export function findKeyframe(track: PresentationTrack, dts: number): TrackSegment {
  const k = keyframeAt(track, dts);
  if (!k) throw new NotFoundError('FragmentNotFound', `No keyframe of '${track.name}' is decoded at ${dts}`);
  return { index: k.segmentIndex, firstSample: k.sample, sampleCount: 1, startTicks: dts, durationTicks: k.durationTicks };
}

/** The segment a fragment start names (`init` excluded): a whole segment or one keyframe. */
export function findFragment(track: PresentationTrack, start: number | `k${number}`): TrackSegment {
  return typeof start === 'number' ? findSegment(track, start) : findKeyframe(track, Number(start.slice(1)));
}

/**
 * `Last-Modified` of a presentation's manifests and segments: its newest media file; for a live presentation,
 * when it last gained a segment.
 */
export function lastModified(p: BuiltPresentation): string {
  if (p.live) return new Date(p.live.publishedMs).toUTCString();
  let latest = 0;
  for (const t of p.tracks) latest = Math.max(latest, p.files.get(t.sourceFile)?.lastModified.getTime() ?? 0);
  return new Date(latest).toUTCString();
}
