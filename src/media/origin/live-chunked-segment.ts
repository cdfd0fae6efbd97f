/**
 * Low-latency DASH (chunked CMAF): a request for the segment a LowLatency recording is writing — started (its
 * first part exists) but not closed — is answered at once with `200` and no length (HTTP/1.1 chunked transfer
 * coding), and each of the segment's parts is written as its own `moof`+`mdat` chunk as soon as the recording has
 * it: the same bytes as the part's LL-HLS URL (`…,part=k)`), built by the format's muxer and kept in the segment
 * cache like any part. The answer ends when the track closes the segment (its last part is written), when the
 * recording ends or stops playing live, when nothing new comes for three target durations, or when the client
 * goes away. The whole answer is never cached (its bytes are not the closed segment's: one `moof` per part rather
 * than one for the segment), and it carries no ETag.
 */
import type { FastifyReply } from 'fastify';
import type { OutputFormat, PresentationTrack } from '../packager/index.js';
import type { FragmentBuilder } from './fragment-builder.js';
import { fragmentEtag } from './fragment-builder.js';
import type { LivePlayback } from './live-source.js';
import { blockingLimitMs, untilUpdate } from './live-blocking.js';
import { liveSegmentVersion } from './live-playback.js';
import { findPart, partStart } from './presentation-lookup.js';
import type { SegmentBody } from './segment-body.js';

/** True when `track` is writing the segment starting at `startTicks`: it is not listed yet and its part 0 exists. */
export function isOpenSegment(track: PresentationTrack, startTicks: number): boolean {
  return !track.segments.startingAt(startTicks) && findPart(track, startTicks, 0) !== undefined;
}

export interface OpenSegmentRequest {
  playback: LivePlayback;
  /** Asks the live source anew (undefined once the recording stopped playing live). */
  again: () => LivePlayback | undefined;
  trackName: string;
  bitrate: number;
  segmentStartTicks: number;
  row: OutputFormat;
  fragments: FragmentBuilder;
  isHead: boolean;
}

/** Sends the open segment part by part (see the file comment); headers already set on the reply go with it. */
export async function sendOpenSegment(reply: FastifyReply, r: OpenSegmentRequest): Promise<FastifyReply> {
  const kind = r.playback.presentation.tracks.find((t) => t.bitrateBps === r.bitrate && t.name === r.trackName)?.kind ?? 'video';
  void reply.hijack();
  const res = reply.raw;
  const headers = reply.getHeaders() as Record<string, string>;
  res.writeHead(200, {
    ...headers,
    'content-type': r.row.segments.contentType(kind),
    // Each request sees a different amount of the segment: nothing in between may keep it.
    'cache-control': 'no-store',
  });
  if (r.isHead) {
    res.end();
    return reply;
  }
  const gone = new AbortController();
  const onClose = () => gone.abort();
  res.once('close', onClose);
  try {
    let playback = r.playback;
    let next = 0;
    let deadline = Date.now() + blockingLimitMs(playback);
    for (;;) {
      const p = playback.presentation;
      const track = p.tracks.find((t) => t.bitrateBps === r.bitrate && t.name === r.trackName);
      if (!track || gone.signal.aborted) break;
      const part = findPart(track, r.segmentStartTicks, next);
      if (part) {
        const start = partStart(r.segmentStartTicks, next);
        const key = r.fragments.key(playback.location, fragmentEtag(p, track, start, r.row, undefined, liveSegmentVersion(playback)), track);
        const body = r.fragments.cached(key) ?? (await r.fragments.build(key, playback.location, track, start, r.row, undefined));
        await writeBody(res, body);
        next++;
        deadline = Date.now() + blockingLimitMs(playback);
        if (part.endsSegment) break;
        continue;
      }
      // Closed (listed, or a later segment has parts) without part `next`, ended, or the source cannot say when it grows.
      if (!isStillOpen(track, r.segmentStartTicks) || p.live?.isEnded || !playback.nextUpdate) break;
      const left = deadline - Date.now();
      if (left <= 0) break;
      await untilUpdate(playback.nextUpdate(), left, gone.signal);
      const fresh = r.again();
      if (!fresh) break;
      playback = fresh;
    }
  } catch (err) {
    // The status line is gone: a cut-off body (no final chunk) is how the client learns it is incomplete.
    res.destroy(err instanceof Error ? err : undefined);
  } finally {
    res.off('close', onClose);
    if (!res.destroyed) res.end();
  }
  return reply;
}

/** The track has not moved past the segment: it is not listed and no later segment has a part yet. */
function isStillOpen(track: PresentationTrack, segmentStartTicks: number): boolean {
  if (track.segments.startingAt(segmentStartTicks)) return false;
  return !track.parts?.some((p) => p.segmentStartTicks > segmentStartTicks);
}

/** Writes one part's views and resolves once the socket took them (or went away), keeping its buffers until then. */
function writeBody(res: FastifyReply['raw'], body: SegmentBody): Promise<void> {
  body.retain();
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      res.off('close', finish);
      body.releaseRef();
      resolve();
    };
    res.once('close', finish);
    res.cork();
    const last = body.chunks.length - 1;
    body.chunks.forEach((chunk, i) => res.write(chunk, i === last ? () => finish() : undefined));
    res.uncork();
    if (last < 0) finish();
  });
}
