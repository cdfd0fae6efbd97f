import { NotFoundError } from '../../shared/errors.js';
import { keyframeAt, textTrackBitrateBps, type PresentationPart, type PresentationTrack, type SidecarTextTrack, type TrackSegment } from '../packager/index.js';
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
 * A fragment start as the origin addresses segments: a segment's start time, `init`, `k{dts}` for the one
 * keyframe decoded at `dts` (an HLS I-frame playlist entry, `…,type=keyframes)`), or `p{start}_{k}` for part `k`
 * of the segment starting at `start` (LL-HLS, `…,part=k)`).
 */
export type FragmentStart = number | 'init' | `k${number}` | `p${number}_${number}`;

/** The `FragmentStart` of part `part` of the segment starting at `segmentStartTicks`. */
export function partStart(segmentStartTicks: number, part: number): `p${number}_${number}` {
  return `p${segmentStartTicks}_${part}`;
}

/** Part `part` of the segment starting at `segmentStartTicks` (LowLatency live), if the track lists it. */
export function findPart(track: PresentationTrack, segmentStartTicks: number, part: number): PresentationPart | undefined {
  return track.parts?.find((p) => p.segmentStartTicks === segmentStartTicks && p.partIndex === part);
}

/** The one keyframe of a video track decoded at `dts`, as a one-sample segment; 404 when there is none. */
export function findKeyframe(track: PresentationTrack, dts: number): TrackSegment {
  const k = keyframeAt(track, dts);
  if (!k) throw new NotFoundError('FragmentNotFound', `No keyframe of '${track.name}' is decoded at ${dts}`);
  // Numbered by keyframe: its I-frame playlist sequence number, hence its AES-128 IV (hls-iframes.ts).
  return { index: k.ordinal, firstSample: k.sample, sampleCount: 1, startTicks: dts, durationTicks: k.durationTicks };
}

/** The segment a fragment start names (`init` excluded): a whole segment, one keyframe, or one part. */
export function findFragment(track: PresentationTrack, start: Exclude<FragmentStart, 'init'>): TrackSegment {
  if (typeof start === 'number') return findSegment(track, start);
  if (start.startsWith('k')) return findKeyframe(track, Number(start.slice(1)));
  const [segmentStart, k] = start.slice(1).split('_').map(Number);
  const part = findPart(track, segmentStart, k);
  if (!part) throw new NotFoundError('FragmentNotFound', `No part ${k} of the segment of '${track.name}' starting at ${segmentStart}`);
  return {
    index: part.segmentIndex,
    firstSample: part.firstSample,
    sampleCount: part.sampleCount,
    startTicks: part.startTicks,
    durationTicks: part.durationTicks,
  };
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
