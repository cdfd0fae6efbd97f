import { NotFoundError } from '../../shared/errors.js';
import { textTrackBitrateBps, type PresentationTrack, type SidecarTextTrack, type TrackSegment } from '../packager/index.js';
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

/** `Last-Modified` of a presentation's manifests and segments: its newest media file. */
export function lastModified(p: BuiltPresentation): string {
  let latest = 0;
  for (const t of p.tracks) latest = Math.max(latest, p.files.get(t.sourceFile)?.lastModified.getTime() ?? 0);
  return new Date(latest).toUTCString();
}
