import { NotFoundError } from '../../shared/errors.js';
import { SingleFlight } from '../../shared/lru.js';
import { BufferPool } from '../../shared/buffer-pool.js';
import {
  encryptedSegments,
  encryptionCacheTag,
  encryptionEtagTag,
  isEncryptedTrack,
  textTrackForm,
  type OutputFormat,
  type PresentationTrack,
  type TrackEncryption,
} from '../packager/index.js';
import type { AssetLocation, BuiltPresentation } from './presentation-builder.js';
import { findFragment, type FragmentStart } from './presentation-lookup.js';
import { readPlan, readSealedPlan, readSourceRanges } from './read-plan.js';
import { SegmentBody } from './segment-body.js';
import { SegmentCache } from './segment-cache.js';

/**
 * Builds init, media and MPEG-TS segments with the format's muxer and keeps popular ones. An fMP4 segment is
 * planned first, then only its source ranges are read into pooled buffers and sent as views of them; a TS
 * segment reads its samples and converts them. Concurrent misses of one segment build it once.
 *
 * Encryption (optional, clear by default) is the packager's stage around the row's muxer: an encrypted fMP4
 * segment is read the same way and its samples are encrypted in the pooled buffers before they are sent
 * (`readSealedPlan`); an MPEG-TS segment is encrypted once muxed. Text tracks stay clear. Cache keys and ETags
 * of encrypted segments carry the scheme, the key id and a hash of the key and PSSH (see `segmentEncryption`).
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

  /**
   * The segment's cache key: its storage folder, its strong ETag (presentation version, format, time) and
   * track, and for an encrypted segment a tag that also hashes the key (the ETag carries no key material).
   */
  key(loc: AssetLocation, etag: string, track: PresentationTrack, encryption?: TrackEncryption): string {
    const base = `${loc.accountId}/${loc.container}/${loc.prefix}|${etag}|${track.name}`;
    const enc = segmentEncryption(track, encryption);
    return enc ? `${base}|${encryptionCacheTag(enc)}` : base;
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
    start: FragmentStart,
    row: OutputFormat,
    sourceEtag: string | undefined,
    encryption?: TrackEncryption,
  ): Promise<SegmentBody> {
    return this.flights.run(key, async () => {
      const value = await this.make(loc, track, start, row, sourceEtag, segmentEncryption(track, encryption));
      this.segments.offer(key, value);
      return value;
    });
  }

  private async make(
    loc: AssetLocation,
    track: PresentationTrack,
    start: FragmentStart,
    row: OutputFormat,
    etag: string | undefined,
    encryption: TrackEncryption | undefined,
  ): Promise<SegmentBody> {
    const blob = loc.prefix ? `${loc.prefix}/${track.sourceFile}` : track.sourceFile;
    const muxer = row.segments;
    const contentType = muxer.contentType(track.kind);
    if (track.kind === 'text') {
      // A text track inside an MP4: fMP4 text segments (below), or WebVTT text converted from `wvtt` (HLS).
      const form = textTrackForm(row.format, track.track);
      if (!form || (form === 'fmp4' && muxer.container !== 'fmp4'))
        throw new NotFoundError('FragmentNotFound', `Text track '${track.name}' (${track.track.fourcc}) is not offered in format '${row.format}'`);
      if (form === 'webvtt') {
        const writer = row.webVttSegments;
        if (!writer || start === 'init') throw new NotFoundError('FragmentNotFound', `WebVTT subtitles '${track.name}' have no initialization segment`);
        const segment = findFragment(track, start);
        const samples = await readSourceRanges(loc, blob, writer.plan(track.track, segment), etag);
        const text = Buffer.from(writer.write(track.track, segment, samples), 'utf8');
        return new SegmentBody([text], text.byteLength, writer.contentType);
      }
      if (muxer.container === 'fmp4' && start !== 'init') {
        // An stpp segment overlapping several TTML documents is one merged document: read them first.
        const segment = findFragment(track, start);
        const documents = muxer.mergedText.documents(track.track, segment);
        if (documents) {
          const chunks = muxer.mergedText.write(track.track, segment, await readSourceRanges(loc, blob, documents, etag));
          let size = 0;
          for (const chunk of chunks) size += chunk.byteLength;
          return new SegmentBody(chunks, size, contentType);
        }
      }
    }
    if (muxer.container === 'ts') {
      if (start === 'init') throw new NotFoundError('NotFound', 'MPEG-TS segments have no init segment');
      const ts = encryption ? encryptedSegments(muxer, encryption) : muxer;
      const segment = findFragment(track, start);
      const plan = ts.plan(track.track, segment);
      const samples = await readSourceRanges(loc, blob, plan.ranges, etag);
      const chunks = ts.write(track.track, segment, plan, samples);
      let size = 0;
      for (const chunk of chunks) size += chunk.byteLength;
      return new SegmentBody(chunks, size, contentType);
    }
    if (start === 'init') {
      const init = encryption ? encryptedSegments(muxer, encryption).init(track.track) : muxer.init(track.track);
      return new SegmentBody([init], init.byteLength, contentType);
    }
    const segment = findFragment(track, start);
    let read: () => Promise<SegmentBody>;
    if (encryption) {
      const plan = encryptedSegments(muxer, encryption).plan(track.track, segment);
      read = () => readSealedPlan(loc, blob, plan, contentType, this.pool, etag);
    } else {
      const plan = muxer.plan(track.track, segment);
      read = () => readPlan(loc, blob, plan, contentType, this.pool, etag);
    }
    // Only local files are read on libuv's threads; remote reads wait on the network, not on this process.
    if (!loc.store.localPath) return read();
    await this.localReads.enter();
    try {
      return await read();
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

/**
 * A segment's strong ETag: the presentation version, the rendition, the start and the format's bytes, and for
 * an encrypted segment the scheme, key id and a hash of its PSSH and IV tag (never of the key). `version` (a
 * quoted tag, default the presentation's ETag) is what else names the bytes: a live segment passes one that
 * stays the same while its presentation grows (`liveSegmentVersion`).
 */
export function fragmentEtag(
  presentation: BuiltPresentation,
  track: PresentationTrack,
  start: FragmentStart,
  row: OutputFormat,
  encryption?: TrackEncryption,
  version: string = presentation.etag,
): string {
  const enc = segmentEncryption(track, encryption);
  const tag = enc ? `-${encryptionEtagTag(enc)}` : '';
  // A `wvtt` track's HLS segments are WebVTT text, not the fMP4 that DASH serves for the same variant.
  const variant = track.kind === 'text' && textTrackForm(row.format, track.track) === 'webvtt' ? `${row.segments.variant}-vtt` : row.segments.variant;
  return `"${version.slice(1, -1)}-${track.bitrateBps}-${start}-${variant}${tag}"`;
}

const withTags = new WeakMap<TrackEncryption, WeakMap<PresentationTrack, TrackEncryption>>();

/**
 * The encryption a segment of `track` gets: none for text tracks; otherwise `encryption` with the track's
 * source file and id as its IV tag when it has none, so renditions under one key never share `cenc` IVs.
 * The same object for the same pair, so its cache and ETag tags are hashed once.
 */
export function segmentEncryption(track: PresentationTrack, encryption: TrackEncryption | undefined): TrackEncryption | undefined {
  if (!isEncryptedTrack(track.track, encryption)) return undefined;
  if (encryption.trackTag !== undefined) return encryption;
  let byTrack = withTags.get(encryption);
  if (!byTrack) withTags.set(encryption, (byTrack = new WeakMap()));
  let tagged = byTrack.get(track);
  if (!tagged) byTrack.set(track, (tagged = { ...encryption, trackTag: `${track.sourceFile}#${track.track.trackId}` }));
  return tagged;
}
