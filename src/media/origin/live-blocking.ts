/**
 * LL-HLS requests the origin holds until the recording has grown enough (draft-pantos-hls-rfc8216bis §6.2.5.2,
 * "Blocking Playlist Reload", and §6.2.6 on preload hints):
 * - a media playlist asked with `_HLS_msn=M` (and `_HLS_part=P`) is answered once segment M (or part P of
 *   segment M) is listed; M more than two segments past the last listed one is refused at once (400); after three
 *   target durations without it the answer is 503, as the spec asks. Without `_HLS_msn`, or for a recording that
 *   is not LowLatency or has ended, nothing waits (`_HLS_part` alone is a 400).
 * - a part (`…,part=k)`, what `EXT-X-PRELOAD-HINT` names before it exists) is held the same way until it is
 *   listed or its segment is known to have closed without it, then served or answered 404.
 * The recording says when it changes (`LivePlayback.nextUpdate`); each time the request looks again at a fresh
 * `LivePlayback`. Nothing here is cached: the answer is the ordinary live playlist or part of that moment.
 */
import { BadRequestError, UnavailableError } from '../../shared/errors.js';
import type { PresentationTrack } from '../packager/index.js';
import type { LivePlayback } from './live-source.js';
import type { PlaybackRequest } from './playback-path.js';
import { findPart } from './presentation-lookup.js';

/** What a blocking playlist request waits for. */
export interface BlockingReload {
  msn: number;
  part?: number;
}

/** The `_HLS_msn` / `_HLS_part` of a media playlist request, or undefined when it does not block. */
export function blockingReloadOf(query: unknown): BlockingReload | undefined {
  const q = (query ?? {}) as Record<string, unknown>;
  const msn = directive(q, '_HLS_msn');
  const part = directive(q, '_HLS_part');
  if (msn === undefined) {
    if (part !== undefined) throw new BadRequestError('InvalidBlockingRequest', '_HLS_part needs _HLS_msn');
    return undefined;
  }
  return part === undefined ? { msn } : { msn, part };
}

function directive(q: Record<string, unknown>, name: string): number | undefined {
  const value = q[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^(?:0|[1-9]\d{0,15})$/.test(value) || !Number.isSafeInteger(Number(value)))
    throw new BadRequestError('InvalidBlockingRequest', `${name} must be a whole number, not '${String(value).slice(0, 40)}'`);
  return Number(value);
}

/** How long a blocked request waits at most: three target durations (the playlists' `EXT-X-TARGETDURATION`). */
export function blockingLimitMs(playback: LivePlayback): number {
  return 3 * 1000 * Math.max(1, Math.ceil(playback.presentation.targetSegmentSec));
}

type Check = (track: PresentationTrack) => 'ready' | 'wait';

/**
 * Holds a LowLatency live request until it can be answered (see the file comment); returns the playback to
 * answer from. `again` asks the live source anew (undefined once the recording stopped playing live).
 */
export async function holdLiveRequest(
  playback: LivePlayback,
  request: PlaybackRequest,
  query: unknown,
  again: () => LivePlayback | undefined,
  signal: AbortSignal,
): Promise<LivePlayback> {
  const live = playback.presentation.live;
  if (request.kind !== 'media-playlist' && request.kind !== 'fragment') return playback;
  let check: Check | undefined;
  let onTimeout: 'unavailable' | 'answer' = 'answer';
  if (request.kind === 'media-playlist' && !request.request.keyframes) {
    const blocking = blockingReloadOf(query);
    if (!blocking || !live?.partTargetSec || request.request.format !== 'm3u8-cmaf') return playback;
    check = (track) => {
      const segments = track.segments;
      const last = segments.firstIndex + segments.length - 1;
      if (blocking.msn > last + 2)
        throw new BadRequestError('InvalidBlockingRequest', `_HLS_msn=${blocking.msn} is more than two segments past the last one (${last})`);
      if (last >= blocking.msn) return 'ready';
      const { part } = blocking;
      if (part !== undefined && track.parts?.some((p) => p.segmentIndex === blocking.msn && p.partIndex >= part)) return 'ready';
      return 'wait';
    };
    onTimeout = 'unavailable';
  } else if (request.kind === 'fragment' && request.request.part !== undefined && typeof request.request.start === 'number') {
    const start = request.request.start;
    const part = request.request.part;
    check = (track) => {
      if (findPart(track, start, part)) return 'ready';
      // Its segment ended with an earlier part.
      if (track.parts?.some((p) => p.segmentStartTicks === start && p.endsSegment && p.partIndex < part)) return 'ready';
      // The segment has closed (or is older): the part will never come.
      const s = track.segments;
      const end = s.length > 0 ? s.startTicks[s.length - 1] + s.durationTicks[s.length - 1] : 0;
      return end > start ? 'ready' : 'wait';
    };
  }
  if (!check) return playback;
  const { bitrate, trackName } = request.request;
  const deadline = Date.now() + blockingLimitMs(playback);
  let current = playback;
  for (;;) {
    const p = current.presentation;
    const track = p.tracks.find((t) => t.bitrateBps === bitrate && t.name === trackName);
    // An unknown track is the normal path's 404; an ended recording grows no more.
    if (!track || p.live?.isEnded || check(track) === 'ready' || !current.nextUpdate) return current;
    const left = deadline - Date.now();
    if (left <= 0 || signal.aborted) break;
    await untilUpdate(current.nextUpdate(), left, signal);
    current = again() ?? current;
  }
  if (onTimeout === 'unavailable' && !signal.aborted)
    throw new UnavailableError('BlockingReloadTimeout', 'The requested segment or part did not arrive within three target durations');
  return current;
}

/** Resolves at the update, after `ms`, or when the client goes away, whichever comes first. */
export function untilUpdate(update: Promise<void>, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    void update.then(done);
  });
}
