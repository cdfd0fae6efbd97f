import { NotFoundError } from '../../shared/errors.js';
import { SingleFlight } from '../../shared/lru.js';
import { BufferPool } from '../../shared/buffer-pool.js';
import type { OutputFormat, PresentationTrack } from '../packager/index.js';
import type { AssetLocation, BuiltPresentation } from './presentation-builder.js';
import { findSegment } from './presentation-lookup.js';
import { readPlan, readSourceRanges } from './read-plan.js';
import { SegmentBody } from './segment-body.js';
import { SegmentCache } from './segment-cache.js';

/**
 * Builds init, media and MPEG-TS segments with the format's muxer and keeps popular ones. An fMP4 segment is
 * planned first, then only its source ranges are read into pooled buffers and sent as views of them; a TS
 * segment reads its samples and converts them. Concurrent misses of one segment build it once.
 */
export class FragmentBuilder {
  private readonly segments: SegmentCache;
  private readonly flights = new SingleFlight<string, SegmentBody>();
  // Idle buffers kept for the next misses; segments in flight are on top of this.
  private readonly pool = new BufferPool({ maxPooledBytes: 32 * 1024 * 1024 });
  // Local reads run on libuv's 4 threads: more segments reading at once only hold buffers while they queue.
  private readonly localReads = new Gate(8);

  constructor(segmentCacheBytes: number) {
    this.segments = new SegmentCache(segmentCacheBytes);
  }

  /** The segment's cache key: its storage folder, its strong ETag (presentation version, format, time) and track. */
  key(loc: AssetLocation, etag: string, track: PresentationTrack): string {
    return `${loc.accountId}/${loc.container}/${loc.prefix}|${etag}|${track.name}`;
  }

  /** A cached segment, without waiting. */
  cached(key: string): SegmentBody | undefined {
    return this.segments.get(key);
  }

  /** Builds a segment that was not cached (once however many requests miss it together) and offers it to the cache. */
  build(
    key: string,
    loc: AssetLocation,
    track: PresentationTrack,
    start: number | 'init',
    row: OutputFormat,
    sourceEtag: string | undefined,
  ): Promise<SegmentBody> {
    return this.flights.run(key, async () => {
      const value = await this.make(loc, track, start, row, sourceEtag);
      this.segments.offer(key, value);
      return value;
    });
  }

  private async make(loc: AssetLocation, track: PresentationTrack, start: number | 'init', row: OutputFormat, etag: string | undefined): Promise<SegmentBody> {
    const blob = loc.prefix ? `${loc.prefix}/${track.sourceFile}` : track.sourceFile;
    const muxer = row.segments;
    const contentType = muxer.contentType(track.kind);
    if (muxer.container === 'ts') {
      if (start === 'init') throw new NotFoundError('NotFound', 'MPEG-TS segments have no init segment');
      const segment = findSegment(track, start);
      const plan = muxer.plan(track.track, segment);
      const samples = await readSourceRanges(loc, blob, plan.ranges, etag);
      const [ts] = muxer.write(track.track, segment, plan, samples);
      return new SegmentBody([ts], ts.byteLength, contentType);
    }
    if (start === 'init') {
      const init = muxer.init(track.track);
      return new SegmentBody([init], init.byteLength, contentType);
    }
    const plan = muxer.plan(track.track, findSegment(track, start));
    // Only local files are read on libuv's threads; remote reads wait on the network, not on this process.
    if (!loc.store.localPath) return readPlan(loc, blob, plan, contentType, this.pool, etag);
    await this.localReads.enter();
    try {
      return await readPlan(loc, blob, plan, contentType, this.pool, etag);
    } finally {
      this.localReads.leave();
    }
  }
}

/** At most `limit` holders at a time; the others wait in arrival order. */
class Gate {
  #inside = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  enter(): Promise<void> | undefined {
    if (this.#inside < this.limit) {
      this.#inside++;
      return undefined;
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  leave(): void {
    const next = this.#waiting.shift();
    if (next)
      next(); // the slot passes straight to the next holder
    else this.#inside--;
  }
}

/** A segment's strong ETag: the presentation version, the rendition, the start and the format's bytes. */
export function fragmentEtag(presentation: BuiltPresentation, track: PresentationTrack, start: number | 'init', row: OutputFormat): string {
  return `"${presentation.etag.slice(1, -1)}-${track.bitrateBps}-${start}-${row.segments.variant}"`;
}
