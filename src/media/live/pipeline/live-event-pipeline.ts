/**
 * One running live event's media: encoder connections' FLV tags → tracks → fragmented MP4 spool files, the
 * growing index the origin serves live from, and the archive written into a live output's asset.
 *
 * Timeline: tick 0 is the first sample of the run, at wall-clock `availabilityStartMs`. Every connection
 * (a reconnect included) continues where the timeline ended; a timestamp jump within a connection does the
 * same. Either closes the open segment and records a discontinuity at the next one.
 *
 * Segments: the first video track is the reference. It is cut at its first keyframe at or after
 * `targetSegmentSec` since the segment start; every other track is cut at that same time (its first sample at or
 * after it, its first keyframe for another video track), so segment i of every track covers the same time.
 * Without video, audio is cut on a `targetSegmentSec` grid.
 *
 * LowLatency (`partTargetSec`): the open segment is also written in parts as its samples arrive, so that LL-HLS
 * players get them before the segment closes. The reference cuts a part as soon as it holds the most samples
 * that last at most `partTargetSec` (one more sample must have arrived: it gives the last one's duration);
 * every other track cuts its parts at the reference's part ends, as it does its segments. Each part is its own
 * `moof` + `mdat` in the spool and its samples join the track's sample table at once; the segment that closes
 * later is the run of its parts' samples (its last part is whatever remains before the cut, at most a part
 * target, so with 1 s GOPs at 25 fps and 0.5 s parts: 0.48 + 0.48 + 0.04 s).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Logger } from '../../../shared/log.js';
import { NotFoundError } from '../../../shared/errors.js';
import type { BlobInfo } from '../../../storage/blob-store.js';
import type { LiveTimeline, PresentationTrack, SegmentList } from '../../packager/index.js';
import type { AssetLocation, BuiltPresentation } from '../../origin/presentation-builder.js';
import type { LivePlayback } from '../../origin/live-source.js';
import type { FlvTag, IngestSink } from '../ingest/ingest-contracts.js';
import type { ArchiveTarget, LiveOutputPlan } from '../live-event-plan.js';
import { writeIsm, type IsmTrack } from '../../encode/plan/ism-writer.js';
import { TimestampMapper, readFlvTag, type FlvSample, type TrackCodecConfig } from './flv-media.js';
import { LiveTrack } from './live-track.js';
import { SpoolBlobStore, SpoolFile, readChunks, spoolMuxer } from './spool-writer.js';
import { decodeConfig, encodeConfig, journalLine, newestRun, readRunState, writeRunState, type RunState } from './run-journal.js';
import { cutSpoolTrack, readSpoolTrack } from './spool-layout.js';
import { SpoolRetention, type SpoolRetentionOptions } from './spool-trim.js';

export interface LiveEventPipelineOptions {
  eventId: string;
  /** One run of the event (Start → Stop); the spool folder is per run. */
  runId: string;
  /** Root folder of every event's spool. */
  spoolDir: string;
  /** Segment target (the event's keyFrameIntervalSec, 2 s by default). */
  targetSegmentSec: number;
  /** LowLatency events: write the open segment in parts of at most this long (LL-HLS); absent = whole segments. */
  partTargetSec?: number;
  log: Logger;
  /** Wall clock, ms since epoch (tests pin it). */
  now?: () => number;
  /** Spool trimming while the event runs (`spool-trim.ts`); defaults there. */
  spool?: SpoolRetentionOptions;
}

/** What segments a presentation or an archive holds. */
export interface LiveWindow {
  /** Wall-clock ms since epoch: only segments that start at or after it (an output's recording start); 0 = all. */
  fromMs: number;
  /** Only segments that start within the last `windowSec` of the timeline (the DVR window). */
  windowSec: number;
  /** True: the presentation carries `live` (dynamic manifests). False: a static snapshot of the same window. */
  live: boolean;
}

/** Ingest health over the last few seconds, for the event's status and logs. */
export interface LiveHealth {
  /** Bits per second received (all tracks) over the last `healthWindowMs`. */
  bitrateBps: number;
  /** Video frames per second received over the same span (first video track). */
  frameRate: number;
  /** Wall-clock time of the last sample received, ms since epoch; undefined before any. */
  lastFrameMs: number | undefined;
  /** Encoder connections attached so far. */
  connections: number;
  /** Whether an encoder is attached now. */
  isConnected: boolean;
  /** Segments visible to players. */
  segmentCount: number;
  /** Length of the visible timeline, seconds. */
  durationSec: number;
  isEnded: boolean;
  /** The last problem with the stream (an unsupported codec, a write failure), for the event's status. */
  lastError?: string;
}

export const healthWindowMs = 5000;

/** LowLatency: the presentation lists the parts of this many segments before the open one (LL-HLS keeps parts
 * of the last three target durations, and LowLatency segments are about one target long). */
const partSegments = 3;

interface TrackState {
  track: LiveTrack;
  file: Promise<SpoolFile>;
  /** Video: drop frames until a keyframe (stream start, after a discontinuity). */
  needKeyframe: boolean;
  /** The bitrate in URLs (`QualityLevels(…)`): fixed at the first segment so URLs stay stable while live. */
  urlBitrateBps?: number;
  /**
   * The track's first samples came after the first segment boundary: it has no segment 0 and cannot share the
   * other tracks' segment numbers, so it is left out of the presentation (and its samples are not kept).
   */
  late?: boolean;
  /** LowLatency, tracks other than the reference: the reference's part ends of the open segment handled so far. */
  partsCut: number;
  /** Appends to the track's journal (`{track}.idx`), one after another. */
  journal: Promise<void>;
}

/** The reference waits at most this many segment targets for a track that exists or is expected to start. */
const maxTrackWaitSegments = 3;

interface Connection {
  id: number;
  mapper: TimestampMapper;
  detached: boolean;
  /** Kinds whose codec was refused on this connection (reported once). */
  refused: Set<string>;
  /** Drops the connection (the listener's kick), when the source gave one. */
  kick?: () => void;
}

/** Track names: AMS-style `video` and `audio` for the encoder's own tracks. */
const defaultTrackName = (kind: 'video' | 'audio') => kind;

/**
 * One run of a live event. Lifecycle, as the runtime drives it:
 * - sources: pass-through events give each admitted encoder connection `attach()` as its `IngestSink`; encoding
 *   events give it `new TranscodeLadder({ pipeline, … }).attach()` instead (the ladder feeds `pushSample`);
 * - outputs: `startOutput(plan)` per live output; the origin's `LiveSource.forAsset` answers with
 *   `outputPlayback(outputId)`, `forPreviewLocator` with `presentation({ fromMs: 0, windowSec, live: true })`;
 * - an output deleted while the event runs: `finishOutput(outputId, target)`;
 * - the event stops: `await end()`, `finishOutput` for each output, then `removeSpool()` (or `close()` to keep
 *   the files).
 * Everything runs on the event loop; `onTag` never blocks (segments are written in the background, and become
 * visible once written; `flushed()` waits for them).
 */
export class LiveEventPipeline {
  readonly eventId: string;
  readonly runId: string;
  /** `{spoolDir}/{eventId}/{runId}`. */
  readonly runDir: string;
  readonly targetSegmentSec: number;
  readonly partTargetSec: number | undefined;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #store: SpoolBlobStore;
  readonly #tracks: TrackState[] = [];
  /** Segment boundaries (start of segment k + 1 at index k) in the reference track's ticks. */
  readonly #boundaries: number[] = [];
  /** LowLatency: the reference's part ends (its ticks) by segment number, for the other tracks to follow. */
  readonly #partEnds = new Map<number, number[]>();
  /** Parts committed so far (every track): part of the presentation's version. */
  #partsCommitted = 0;
  /** Resolved at the next visible change (`nextUpdate`). */
  #waiters: Array<() => void> = [];
  #reference: TrackState | undefined;
  #availabilityStartMs: number | undefined;
  #publishedMs = 0;
  #visibleSegments = 0;
  #ended = false;
  #closed = false;
  #removed = false;
  #connections = 0;
  #current: Connection | undefined;
  #lastError: string | undefined;
  readonly #outputs = new Map<string, LiveOutputPlan>();
  /** Track names a source announced (the transcoder's outputs) before their first sample. */
  readonly #expected = new Set<string>();
  /** Recent samples for health: wall ms, bytes, is video. */
  #recent: { atMs: number; bytes: number; video: boolean }[] = [];
  #lastFrameMs: number | undefined;
  /** Pending writes, awaited by `flushed`. */
  readonly #writes = new Set<Promise<void>>();
  /** Each output's recording start (wall clock), kept in `run.json` so that an adopted run keeps it. */
  readonly #outputStarts = new Map<string, number>();
  /** `run.json` writes: one at a time, the newest state last. */
  #runSave: { running: Promise<void>; again: boolean } | undefined;
  /** What the spool keeps while the event runs; segments before its floor are never served. */
  readonly #retention: SpoolRetention;

  constructor(options: LiveEventPipelineOptions) {
    if (!(options.targetSegmentSec > 0)) throw new RangeError(`targetSegmentSec must be positive, got ${options.targetSegmentSec}`);
    this.eventId = options.eventId;
    this.runId = options.runId;
    this.runDir = path.join(options.spoolDir, options.eventId, options.runId);
    this.targetSegmentSec = options.targetSegmentSec;
    if (options.partTargetSec !== undefined && !(options.partTargetSec > 0 && options.partTargetSec <= options.targetSegmentSec))
      throw new RangeError(`partTargetSec must be positive and at most the segment target, got ${options.partTargetSec}`);
    this.partTargetSec = options.partTargetSec;
    this.#log = options.log.child({ component: 'live-pipeline', eventId: options.eventId, runId: options.runId });
    this.#now = options.now ?? Date.now;
    this.#store = new SpoolBlobStore(options.eventId, options.runId);
    this.#retention = new SpoolRetention(options.spool ?? {}, options.targetSegmentSec);
  }

  /**
   * Adopts the newest run in the event's spool folder (the server restarted while the event ran), or returns
   * undefined when there is none: its tracks, closed segments, timeline and outputs' recording starts come back
   * from `run.json`, the tracks' journals and their spool files, so the next encoder continues that run's
   * timeline and segment numbers and archives hold what came before the restart too. Spool bytes past the last
   * segment a journal names (a write a crash cut short, a segment only some tracks closed) are cut off.
   */
  static async adopt(options: Omit<LiveEventPipelineOptions, 'runId'>): Promise<LiveEventPipeline | undefined> {
    const runId = await newestRun(path.join(options.spoolDir, options.eventId));
    if (!runId) return undefined;
    const pipeline = new LiveEventPipeline({ ...options, runId });
    const state = await readRunState(pipeline.runDir);
    if (!state || state.runId !== runId) return undefined;
    await pipeline.#restore(state);
    return pipeline;
  }

  async #restore(state: RunState): Promise<void> {
    const disks = await Promise.all(state.tracks.map((t) => readSpoolTrack(this.runDir, t.name)));
    // Segment i covers the same time in every track: keep the segments every served track closed, from the
    // first one every served track still has (their oldest chunks may have been deleted at different segments).
    let count = Infinity;
    let floor = 0;
    state.tracks.forEach((t, i) => {
      if (t.late) return;
      const segments = disks[i].segments;
      count = Math.min(count, segments.length > 0 ? segments[segments.length - 1].index + 1 : 0);
      floor = Math.max(floor, segments[0]?.index ?? 0);
    });
    if (!Number.isFinite(count) || count <= floor) count = floor = 0;
    for (const [i, t] of state.tracks.entries()) {
      const track = new LiveTrack(t.name, decodeConfig(t.config), i + 1);
      const segments = t.late || count === 0 ? [] : disks[i].segments.filter((s) => s.index < count);
      if (segments.length > 0) track.skipSegmentsTo(segments[0].index, segments[0].startTicks);
      for (const segment of segments) track.restoreSegment(segment);
      // Bytes past the last segment kept (a write a crash cut short, a segment only some tracks closed) and
      // chunks no journal names are cut off, journals too: the next segment's line follows the last one kept.
      const kept = await cutSpoolTrack(this.runDir, t.name, disks[i], t.late ? 0 : count);
      const file = SpoolFile.reopen(this.runDir, track, `"${this.runId}:${t.name}"`, this.#retention.chunkOptions, kept.chunks, kept.lastChunkStartTicks).then(
        (f) => {
          this.#store.add(f);
          return f;
        },
      );
      await file;
      // The next samples come from another connection: a new segment, after a discontinuity, from a keyframe.
      track.markDiscontinuity();
      this.#tracks.push({
        track,
        file,
        needKeyframe: track.kind === 'video',
        partsCut: 0,
        journal: Promise.resolve(),
        ...(t.urlBitrateBps !== undefined ? { urlBitrateBps: t.urlBitrateBps } : {}),
        ...(t.late ? { late: true } : {}),
      });
    }
    this.#retention.restored(floor);
    this.#reference = this.#tracks.find((t) => t.track.name === state.reference) ?? this.#tracks[0];
    const rt = this.#reference?.track;
    if (rt) {
      const all = rt.segments();
      for (let k = 0; k < all.length; k++) this.#boundaries.push(all.startTicks[k] + all.durationTicks[k]);
    }
    this.#availabilityStartMs = state.availabilityStartMs;
    for (const [outputId, fromMs] of Object.entries(state.outputs)) this.#outputStarts.set(outputId, fromMs);
    this.#visibleSegments = count;
    this.#publishedMs = this.#now();
    this.#log.info({ segments: this.#visibleSegments, tracks: this.#tracks.length }, 'run adopted from its spool');
  }

  /** Where the origin reads the spool: container = event id, prefix = run id, files `{trackName}.mp4`. */
  get location(): AssetLocation {
    return { accountId: 'live-spool', store: this.#store, container: this.eventId, prefix: this.runId };
  }

  /** Wall-clock time of tick 0 (the first sample), or undefined before any sample. */
  get availabilityStartMs(): number | undefined {
    return this.#availabilityStartMs;
  }

  get isEnded(): boolean {
    return this.#ended;
  }

  /**
   * Segment numbers that start after a discontinuity (an encoder reconnect, a timestamp jump, a transcoder
   * restart), ascending: live HLS writes `EXT-X-DISCONTINUITY` before them (DASH keeps one period: the
   * timeline and the codec configuration stay continuous).
   */
  get discontinuities(): readonly number[] {
    return this.#reference?.track.discontinuities ?? [];
  }

  /** Tracks by name, in creation order (for the ladder and tests). */
  get tracks(): readonly LiveTrack[] {
    return this.#tracks.map((t) => t.track);
  }

  /**
   * An encoder connection: its tags feed the pipeline until `onEnd`. A later `attach` (a reconnect) continues
   * the same timeline; attaching while another connection is live detaches that one (its later tags are ignored).
   * `kick` drops the connection: called when it brings a codec configuration other than the track's (see
   * `#onTag`).
   */
  attach(kick?: () => void): IngestSink {
    if (this.#current && !this.#current.detached) this.#detach(this.#current);
    const conn: Connection = {
      id: ++this.#connections,
      mapper: new TimestampMapper(
        () => this.#timelineEndMs(),
        (raw, previous) => {
          this.#log.warn({ rawMs: raw, previousRawMs: previous }, 'encoder timestamps jumped: the timeline continues at its end');
          this.#closeOpenSegments(true);
        },
      ),
      detached: false,
      refused: new Set(),
      ...(kick ? { kick } : {}),
    };
    if (this.#connections > 1) this.#closeOpenSegments(true);
    this.#current = conn;
    this.#log.info({ connection: conn.id }, 'encoder attached');
    return {
      onTag: (tag) => {
        if (conn.detached || this.#ended) return;
        this.#onTag(conn, tag);
      },
      onEnd: (reason) => {
        if (conn.detached) return;
        this.#log.info({ connection: conn.id, reason }, 'encoder detached');
        this.#detach(conn);
      },
    };
  }

  /**
   * Feeds samples of another source straight into a named track (the transcoder's rungs): `config` creates the
   * track on first use; times are already on this pipeline's timeline (ms). `nominalBitrateBps` (the rung's)
   * is the track's bitrate in URLs and manifests; without it the first segment's measured bitrate is used.
   */
  pushSample(name: string, config: TrackCodecConfig, sample: FlvSample, timelineMs: number, nominalBitrateBps?: number): void {
    if (this.#ended) return;
    const state = this.#trackFor(name, config);
    state.urlBitrateBps ??= nominalBitrateBps;
    this.#push(state, sample, timelineMs);
  }

  /**
   * Closes the open segments and starts the next ones after a discontinuity: for sources other than `attach`
   * (the transcoder restarting), whose next samples continue at `timelineEndMs`.
   */
  markDiscontinuity(): void {
    this.#closeOpenSegments(true);
  }

  /** A problem another source found with the stream (the transcoder refusing a codec): the health's `lastError`. */
  reportProblem(message: string): void {
    this.#lastError = message;
  }

  /**
   * Track names whose first samples are on their way (the transcoder's outputs): the first segment is not cut
   * before each has started (or `maxTrackWaitSegments` targets have passed), so every track has segment 0.
   */
  expectTracks(names: readonly string[]): void {
    for (const name of names) this.#expected.add(name);
  }

  /** Where the timeline ends now (ms): the next source continues here. */
  get timelineEndMs(): number {
    return this.#timelineEndMs();
  }

  #detach(conn: Connection, closeSegments = true): void {
    conn.detached = true;
    if (this.#current === conn) this.#current = undefined;
    // The encoder may never come back: what it sent so far becomes visible now.
    if (closeSegments) this.#closeOpenSegments(true);
  }

  #onTag(conn: Connection, tag: FlvTag): void {
    let media;
    try {
      media = readFlvTag(tag);
    } catch (err) {
      const kind = tag.type === 9 ? 'video' : 'audio';
      if (!conn.refused.has(kind)) {
        conn.refused.add(kind);
        this.#lastError = (err as Error).message;
        this.#log.warn({ err, connection: conn.id }, `${kind} of the stream is ignored`);
      }
      return;
    }
    if (!media) return;
    if ('config' in media) {
      const name = defaultTrackName(media.config.kind);
      const existing = this.#tracks.find((t) => t.track.name === name);
      if (existing && !sameBytes(existing.track.config.sampleEntry, media.config.sampleEntry)) {
        this.#refuseConfig(conn, existing.track);
        return;
      }
      this.#trackFor(name, media.config);
      return;
    }
    const sample = media.sample;
    const state = this.#tracks.find((t) => t.track.name === defaultTrackName(sample.kind));
    if (!state) return; // a frame before its sequence header cannot be decoded
    this.#push(state, sample, conn.mapper.map(sample.kind, sample.dtsMs));
  }

  /**
   * A connection whose codec configuration (SPS/PPS, resolution, audio config) differs from the track's: the
   * init segment is written once per run and players decode every segment with it, so its media would not play.
   * The connection is dropped (its tags ignored from here, the listener told to close it) and the reason kept for
   * the event's health; an encoder reconnecting with the run's configuration continues the timeline.
   */
  #refuseConfig(conn: Connection, track: LiveTrack): void {
    this.#lastError = `the encoder reconnected with another ${track.kind} configuration than the run's (resolution, profile or codec settings); it was disconnected: reconnect with the first configuration, or stop and start the event to change it`;
    this.#log.warn({ connection: conn.id, track: track.name }, 'encoder refused: codec configuration changed during the run');
    this.#detach(conn, false);
    conn.kick?.();
  }

  /** The track called `name`, created with `config` (and its spool file) on first use. */
  #trackFor(name: string, config: TrackCodecConfig): TrackState {
    const existing = this.#tracks.find((t) => t.track.name === name);
    if (existing) {
      if (!sameBytes(existing.track.config.sampleEntry, config.sampleEntry)) {
        // The init segment is written once per run: a new configuration (another resolution) cannot be signalled.
        this.#lastError = `the ${config.kind} configuration changed during the run; players keep the first one`;
        this.#log.warn({ track: name }, this.#lastError);
      }
      return existing;
    }
    const track = new LiveTrack(name, config, this.#tracks.length + 1);
    const file = SpoolFile.create(this.runDir, track, `"${this.runId}:${name}"`, this.#retention.chunkOptions).then((f) => {
      this.#store.add(f);
      return f;
    });
    file.catch((err: unknown) => this.#fail('the spool file could not be created', err));
    const state: TrackState = { track, file, needKeyframe: config.kind === 'video', partsCut: 0, journal: Promise.resolve() };
    this.#tracks.push(state);
    if (!this.#reference || (this.#reference.track.kind !== 'video' && config.kind === 'video' && this.#boundaries.length === 0)) this.#reference = state;
    this.#saveRun();
    return state;
  }

  #push(state: TrackState, sample: FlvSample, timelineMs: number): void {
    const track = state.track;
    if (state.late) return;
    if (state.needKeyframe) {
      if (!sample.isSync) return;
      state.needKeyframe = false;
    }
    const now = this.#now();
    if (this.#availabilityStartMs === undefined) {
      this.#availabilityStartMs = now - timelineMs;
      this.#saveRun();
    }
    this.#lastFrameMs = now;
    this.#recent.push({ atMs: now, bytes: sample.data.byteLength, video: track.kind === 'video' && state === this.#firstVideo() });
    if (this.#recent.length > 4096 || this.#recent[0].atMs < now - healthWindowMs) this.#recent = this.#recent.filter((r) => r.atMs >= now - healthWindowMs);

    let dtsTicks: number;
    if (track.kind === 'audio') {
      // AAC frames are 1024 samples: count them instead of trusting millisecond timestamps, and follow the
      // timestamps only across a real gap (more than 100 ms ahead).
      const atTs = Math.round((timelineMs * track.timescale) / 1000);
      const last = track.lastDtsTicks;
      const next = last === undefined ? atTs : last + 1024;
      dtsTicks = atTs > next + track.timescale / 10 ? atTs : next;
    } else {
      dtsTicks = Math.round(timelineMs * 90);
    }
    // Copied: the listener's buffers are not ours to keep while the segment is open.
    track.push({ dtsTicks, ctsTicks: Math.round(sample.ctsMs * (track.timescale / 1000)), isSync: sample.isSync, data: Uint8Array.from(sample.data) });
    this.#cut();
  }

  #firstVideo(): TrackState | undefined {
    return this.#tracks.find((t) => t.track.kind === 'video');
  }

  /**
   * Closes every segment that can be closed. `close`: the reference also closes its open segment whatever its
   * length and the others follow to the same time; at a `discontinuity` their samples past that time are
   * dropped (the next connection's media starts there, in step with the reference), at the `end` they go into
   * the last segment.
   */
  #cut(close?: 'discontinuity' | 'end'): void {
    const ref = this.#reference;
    if (!ref) return;
    const rt = ref.track;
    const target = Math.round(this.targetSegmentSec * rt.timescale);
    const parts = this.partTargetSec !== undefined;
    for (;;) {
      const start = rt.openStartTicks;
      if (start === undefined) break;
      if (!close && this.#waitingForTracks(start, target)) break;
      let at: number;
      if (rt.kind === 'video') at = rt.cutAt(start + target, true);
      else {
        const grid = (Math.floor(start / target) + 1) * target;
        at = rt.cutAt(grid, false);
      }
      if (at < 0 || (at === 0 && !rt.hasOpenParts)) break;
      const boundary = rt.pendingDtsAt(at);
      // The samples before the cut go out as parts first; the segment closes with what remains of them.
      if (parts) at -= this.#cutReferenceParts(ref, at);
      this.#boundaries.push(boundary);
      this.#write(ref, rt.take(at, parts));
    }
    if (parts && !close) this.#cutReferenceParts(ref, rt.pendingCount - 1);
    if (close && (rt.pendingCount > 0 || rt.hasOpenParts)) {
      if (parts) this.#cutReferenceParts(ref, rt.pendingCount - 1, true);
      const segment = rt.take(rt.pendingCount, parts);
      const c = segment.closes!;
      this.#boundaries.push(c.startTicks + c.durationTicks);
      this.#write(ref, segment);
    }
    for (const state of this.#tracks) {
      if (state === ref || state.late) continue;
      const t = state.track;
      for (;;) {
        if (parts) this.#cutFollowerParts(state, rt);
        if (t.takenSegments >= this.#boundaries.length || (t.pendingCount === 0 && !t.hasOpenParts)) break;
        const boundary = Math.ceil((this.#boundaries[t.takenSegments] * t.timescale) / rt.timescale);
        const isLast = close !== undefined && t.takenSegments === this.#boundaries.length - 1;
        let at = t.cutAt(boundary, t.kind === 'video');
        if (isLast) {
          if (close === 'discontinuity' && at >= 0) {
            const dropped = t.dropPendingFrom(at);
            this.#log.debug({ track: t.name, dropped }, 'samples past the discontinuity dropped');
          }
          at = t.pendingCount;
        }
        if (at === 0 && t.takenSegments === 0 && !t.hasOpenParts) {
          state.late = true;
          t.dropPendingFrom(0);
          this.#lastError = `track ${t.name} started after the first segment and is left out`;
          this.#saveRun();
          this.#log.warn({ track: t.name }, this.#lastError);
          break;
        }
        if (at < 0 || (at === 0 && !t.hasOpenParts)) break;
        this.#write(state, t.take(at, parts));
        state.partsCut = 0;
      }
    }
    if (parts) {
      let oldest = Infinity;
      for (const state of this.#tracks) if (!state.late) oldest = Math.min(oldest, state.track.takenSegments);
      for (const k of this.#partEnds.keys()) if (k < oldest) this.#partEnds.delete(k);
    }
  }

  /**
   * Cuts the reference's open segment into parts while a part can end at or before pending sample `limit` (the
   * segment's cut, or the newest sample): each the most samples lasting at most `partTargetSec` (at least one).
   * `atEnd`: the segment closes after the newest sample (a discontinuity, the end), whose end then counts too.
   * Returns how many pending samples the parts took.
   */
  #cutReferenceParts(ref: TrackState, limit: number, atEnd = false): number {
    const rt = ref.track;
    const partTicks = Math.round(this.partTargetSec! * rt.timescale);
    let taken = 0;
    for (;;) {
      const start = rt.pendingStartTicks;
      const last = Math.min(limit - taken, rt.pendingCount - 1);
      if (start === undefined || last < 1) break;
      let end = -1;
      for (let i = 1; i <= last; i++) {
        const d = rt.pendingDtsAt(i) - start;
        if (d >= partTicks) {
          end = d === partTicks ? i : Math.max(1, i - 1);
          break;
        }
      }
      if (end < 0 && atEnd && last === rt.pendingCount - 1 && rt.endTicks - start > partTicks) end = last;
      if (end < 0) break;
      const segment = rt.takenSegments;
      let ends = this.#partEnds.get(segment);
      if (!ends) this.#partEnds.set(segment, (ends = []));
      ends.push(rt.pendingDtsAt(end));
      this.#write(ref, rt.takePart(end));
      taken += end;
    }
    return taken;
  }

  /** Cuts another track's open segment at the reference's part ends that its samples have reached. */
  #cutFollowerParts(state: TrackState, rt: LiveTrack): void {
    const t = state.track;
    const ends = this.#partEnds.get(t.takenSegments);
    if (!ends) return;
    while (state.partsCut < ends.length) {
      const at = t.cutAt(Math.ceil((ends[state.partsCut] * t.timescale) / rt.timescale), false);
      if (at < 0 || at >= t.pendingCount) break;
      state.partsCut++;
      // Nothing of this track before that end (its last part reached it): no part.
      if (at > 0) this.#write(state, t.takePart(at));
    }
  }

  /** True while the first segment should wait for a track that has not sent a sample yet. */
  #waitingForTracks(start: number, target: number): boolean {
    if (this.#boundaries.length > 0) return false;
    const missing =
      [...this.#expected].some((name) => !this.#tracks.some((t) => t.track.name === name)) ||
      this.#tracks.some((t) => !t.late && t.track.lastDtsTicks === undefined);
    if (!missing) return false;
    const rt = this.#reference!.track;
    return (rt.lastDtsTicks ?? start) - start <= maxTrackWaitSegments * target;
  }

  /** The tracks players get: every track but the late ones, once it has started. */
  #servedTracks(): TrackState[] {
    return this.#tracks.filter((t) => !t.late && t.track.lastDtsTicks !== undefined);
  }

  /** Closes the open segments now (a discontinuity or the end); the next samples start a new segment. */
  #closeOpenSegments(discontinuity: boolean): void {
    this.#cut(discontinuity ? 'discontinuity' : 'end');
    if (discontinuity) {
      for (const t of this.#tracks) {
        t.track.markDiscontinuity();
        if (t.track.kind === 'video') t.needKeyframe = true;
      }
    }
  }

  #write(state: TrackState, segment: ReturnType<LiveTrack['take']>): void {
    const p = state.file
      .then((f) => f.appendSegment(state.track, segment))
      .then(
        () => this.#committed(state, segment),
        (err: unknown) => this.#fail(`segment ${segment.index} of track ${state.track.name} could not be written`, err),
      );
    this.#writes.add(p);
    void p.finally(() => this.#writes.delete(p));
  }

  #committed(state: TrackState, segment: ReturnType<LiveTrack['take']>): void {
    if (segment.closes) {
      if (state.urlBitrateBps === undefined) {
        state.urlBitrateBps = Math.max(1000, Math.round(state.track.index.bitrateBps / 1000) * 1000);
        this.#saveRun();
      }
      this.#journal(state, segment.index);
    }
    if (segment.part) this.#partsCommitted++;
    const visible = Math.min(...this.#servedTracks().map((t) => t.track.segmentList.length));
    if (visible > this.#visibleSegments) {
      this.#visibleSegments = visible;
      this.#publishedMs = this.#now();
      this.#trim();
    }
    this.#notify();
  }

  /**
   * Deletes the spool chunks that no window needs any more (`SpoolRetention`): older than every live output's
   * window and the preview's, plus a margin; their samples leave the tracks' tables too. Nothing is trimmed while
   * an output's window is not known (an adopted run whose outputs the runtime has not started again).
   */
  #trim(): void {
    const rt = this.#reference?.track;
    const n = this.#visibleSegments;
    if (!rt || n === 0) return;
    for (const outputId of this.#outputStarts.keys()) if (!this.#outputs.has(outputId)) return;
    const windows = [...this.#outputs.values()].map((o) => o.archiveWindowSec);
    const keepFrom = this.#retention.keepFrom(rt.segments(), n, rt.timescale, windows);
    if (keepFrom === undefined) return;
    for (const state of this.#tracks) {
      if (state.late || state.track.segmentList.length <= keepFrom) continue;
      state.track.forgetBefore(keepFrom);
      const { start } = state.track.segmentList.fileRange(keepFrom);
      const p = state.file
        .then((f) => f.dropBefore(start))
        .then(
          (bytes) => {
            if (bytes > 0) this.#log.debug({ track: state.track.name, bytes, keepFrom }, 'spool chunks deleted');
          },
          (err: unknown) => this.#fail(`old spool chunks of track ${state.track.name} could not be deleted`, err),
        );
      this.#writes.add(p);
      void p.finally(() => this.#writes.delete(p));
    }
  }

  /** Appends closed segment `index` of the track (committed: its bytes are in the spool) to its journal. */
  #journal(state: TrackState, index: number): void {
    const t = state.track;
    const segments = t.segments();
    const { start, end } = t.segmentList.fileRange(index);
    const first = segments.firstSample[index];
    const line = journalLine({
      index,
      startTicks: segments.startTicks[index],
      durationTicks: segments.durationTicks[index],
      fileStart: start,
      fileEnd: end,
      discontinuity: t.discontinuities.includes(index),
      samples: t.table.run(first, first + segments.sampleCount[index]),
    });
    const p = (state.journal = state.journal
      .then(() => state.file)
      .then((f) => f.appendJournal(start, line))
      .catch((err: unknown) => {
        this.#fail(`the journal of track ${t.name} could not be written`, err);
      }));
    this.#writes.add(p);
    void p.finally(() => this.#writes.delete(p));
  }

  /** What `run.json` holds now. */
  #runState(): RunState {
    return {
      runId: this.runId,
      ...(this.#availabilityStartMs !== undefined ? { availabilityStartMs: this.#availabilityStartMs } : {}),
      targetSegmentSec: this.targetSegmentSec,
      ...(this.partTargetSec !== undefined ? { partTargetSec: this.partTargetSec } : {}),
      ...(this.#reference ? { reference: this.#reference.track.name } : {}),
      tracks: this.#tracks.map((t) => ({
        name: t.track.name,
        config: encodeConfig(t.track.config),
        ...(t.urlBitrateBps !== undefined ? { urlBitrateBps: t.urlBitrateBps } : {}),
        ...(t.late ? { late: true } : {}),
      })),
      outputs: Object.fromEntries(this.#outputStarts),
    };
  }

  /** Rewrites `run.json` (after the write in progress, if any, with the state of then). */
  #saveRun(): void {
    if (this.#removed) return;
    if (this.#runSave) {
      this.#runSave.again = true;
      return;
    }
    const save: { running: Promise<void>; again: boolean } = { running: Promise.resolve(), again: false };
    this.#runSave = save;
    save.running = (async () => {
      do {
        save.again = false;
        await writeRunState(this.runDir, this.#runState()).catch((err: unknown) => this.#fail('the run state could not be written', err));
      } while (save.again);
      this.#runSave = undefined;
    })();
    this.#writes.add(save.running);
    void save.running.finally(() => this.#writes.delete(save.running));
  }

  #notify(): void {
    const waiters = this.#waiters;
    if (waiters.length === 0) return;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * Resolves at the next change players can see: a part or segment written (whether or not it is visible yet),
   * or the end. LL-HLS blocking requests await it and look again.
   */
  nextUpdate(): Promise<void> {
    if (this.#ended && this.#writes.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #fail(what: string, err: unknown): void {
    this.#lastError = `${what}: ${(err as Error).message}`;
    this.#log.error({ err }, what);
  }

  /** Where the timeline ends now, ms: the reference track's end (taken segments and open samples alike). */
  #timelineEndMs(): number {
    const ref = this.#reference?.track;
    return ref ? Math.ceil((ref.endTicks * 1000) / ref.timescale) : 0;
  }

  /** Resolves once every segment closed so far is written (and visible). */
  async flushed(): Promise<void> {
    while (this.#writes.size > 0) await Promise.allSettled([...this.#writes]);
  }

  /**
   * The presentation the origin serves: tracks over the spool files, segments sliced to `window` (indices and
   * start times those of the whole run). Tracks appear once each has a segment; `etag` changes with every
   * segment added and at the end. Throws `NotFoundError` before the first segment is visible.
   */
  presentation(window: LiveWindow): LivePlayback {
    const n = this.#visibleSegments;
    const ref = this.#reference;
    if (n === 0 || !ref || this.#availabilityStartMs === undefined) throw new NotFoundError('LiveStreamNotStarted', 'The live stream has no media yet');
    const { from, to } = this.#range(window);
    const files = new Map<string, BlobInfo>();
    const tracks: PresentationTrack[] = [];
    for (const state of this.#tracks) {
      const t = state.track;
      if (state.late || t.segmentList.length < n) continue;
      const name = `${t.name}.mp4`;
      const spool = this.#store.fileInfo(name);
      if (spool) files.set(name, spool);
      const segments: SegmentList = t.segments().slice(0, n).slice(from, to);
      tracks.push({
        name: t.name,
        kind: t.kind,
        bitrateBps: state.urlBitrateBps ?? Math.max(1, t.index.bitrateBps),
        language: t.index.language,
        sourceFile: name,
        track: t.index,
        segments,
        peakBitrateBps: state.urlBitrateBps,
        // Parts of the last 3 listed segments and of the open one (segment n), which LL-HLS lists after them.
        ...(this.partTargetSec !== undefined
          ? { parts: t.parts.filter((p) => p.segmentIndex >= Math.max(from, n - partSegments) && p.segmentIndex <= n) }
          : {}),
      });
    }
    const rt = ref.track;
    const all = rt.segments();
    const endTicks = all.startTicks[n - 1] + all.durationTicks[n - 1];
    const discontinuities = window.live ? this.#discontinuitiesUpTo(n) : [];
    const live: LiveTimeline | undefined = window.live
      ? {
          availabilityStartMs: this.#availabilityStartMs,
          windowSec: window.windowSec,
          publishedMs: this.#publishedMs,
          isEnded: this.#ended && this.#writes.size === 0,
          ...(this.partTargetSec !== undefined ? { partTargetSec: this.partTargetSec } : {}),
          ...(discontinuities.length > 0 ? { discontinuities } : {}),
        }
      : undefined;
    const presentation: BuiltPresentation = {
      durationSec: endTicks / rt.timescale,
      targetSegmentSec: this.targetSegmentSec,
      tracks,
      files,
      etag: `"live-${this.runId}-${n}${this.partTargetSec !== undefined ? `p${this.#partsCommitted}` : ''}${this.#ended ? '-end' : ''}-${from}"`,
      ...(live ? { live } : {}),
    };
    return { presentation, location: this.location, nextUpdate: () => this.nextUpdate() };
  }

  /**
   * The discontinuities of segments 0…`n` (the visible ones and the one after them, whose parts LL-HLS lists):
   * that one's is known before it is taken (its first part may already be listed).
   */
  #discontinuitiesUpTo(n: number): number[] {
    const rt = this.#reference!.track;
    const out = rt.discontinuities.filter((d) => d <= n);
    if (rt.takenSegments === n && rt.openAfterDiscontinuity && out[out.length - 1] !== n) out.push(n);
    return out;
  }

  /** Segment numbers [from, to) of `window` among the visible ones (shared by every track). */
  #range(window: LiveWindow): { from: number; to: number } {
    const n = this.#visibleSegments;
    const rt = this.#reference!.track;
    const all = rt.segments();
    const ts = rt.timescale;
    const fromTicks = Math.max(0, ((window.fromMs - (this.#availabilityStartMs ?? 0)) * ts) / 1000);
    const endTicks = all.startTicks[n - 1] + all.durationTicks[n - 1];
    const windowTicks = endTicks - window.windowSec * ts;
    // Segments below the trim floor may be in deleted chunks: never listed (no window reaches them).
    let from = Math.min(n, this.#retention.floor);
    while (from < n && (all.startTicks[from] < fromTicks - ts / 1000 || all.startTicks[from] < windowTicks)) from++;
    return { from, to: n };
  }

  /**
   * Starts recording for an output (its archive holds what follows `plan.createdMs`, or the whole run).
   * `fromMs`: the wall-clock start of its recording, kept with the run; returns the one to use, which is the
   * start kept before a restart when this run was adopted.
   */
  startOutput(plan: LiveOutputPlan, fromMs = plan.createdMs): number {
    this.#outputs.set(plan.outputId, plan);
    const kept = this.#outputStarts.get(plan.outputId);
    if (kept !== undefined) return kept;
    this.#outputStarts.set(plan.outputId, fromMs);
    this.#saveRun();
    return fromMs;
  }

  /** The live playback of an output's asset: its recording within its DVR window. */
  outputPlayback(outputId: string): LivePlayback {
    const plan = this.#outputs.get(outputId);
    if (!plan) throw new NotFoundError('NotFound', `Live output '${outputId}' is not recording`);
    return this.presentation({ fromMs: plan.createdMs, windowSec: plan.archiveWindowSec, live: true });
  }

  /**
   * Writes the output's archive into its asset and stops recording for it: per track
   * `{manifestName}_{trackName}.mp4` (fragmented MP4: the init segment, then the spool's segments within the
   * output's window, their `tfdt` rebased so the archive starts at 0), and `{manifestName}.ism` naming them, with
   * `availabilityStartTime` (wall clock of the archive's start) in its head. Segments still open are not
   * included: call `end()` first when the event stops.
   */
  async finishOutput(outputId: string, target: ArchiveTarget): Promise<void> {
    const plan = this.#outputs.get(outputId);
    if (!plan) throw new NotFoundError('NotFound', `Live output '${outputId}' is not recording`);
    await this.flushed();
    const n = this.#visibleSegments;
    const blob = (name: string) => (target.prefix ? `${target.prefix}/${name}` : name);
    const ism: IsmTrack[] = [];
    let startMs = this.#availabilityStartMs ?? this.#now();
    if (n > 0 && this.#reference) {
      const { from, to } = this.#range({ fromMs: plan.createdMs, windowSec: plan.archiveWindowSec, live: false });
      const rt = this.#reference.track;
      if (from < to) startMs = (this.#availabilityStartMs ?? 0) + (rt.segments().startTicks[from] * 1000) / rt.timescale;
      for (const state of this.#tracks) {
        if (from >= to) break;
        if (state.late || state.track.segmentList.length < n) continue;
        const t = state.track;
        const file = await state.file;
        const name = `${plan.manifestName}_${t.name}.mp4`;
        await target.store.write(target.container, blob(name), Readable.from(archiveChunks(t, file, from, to)), { contentType: 'video/mp4' });
        ism.push({
          kind: t.kind,
          src: name,
          bitrateBps: state.urlBitrateBps ?? Math.max(1, t.index.bitrateBps),
          trackId: t.index.trackId,
          trackName: t.name,
        });
      }
    }
    const xml = writeIsm(ism, { availabilityStartTime: new Date(startMs).toISOString() });
    await target.store.write(target.container, blob(`${plan.manifestName}.ism`), Readable.from([Buffer.from(xml)]), { contentType: 'application/xml' });
    this.#outputs.delete(outputId);
    this.#outputStarts.delete(outputId);
    this.#saveRun();
    this.#log.info({ outputId, assetId: plan.assetId, tracks: ism.length }, 'live archive written');
  }

  /** Ingest health over the last `healthWindowMs`. */
  health(): LiveHealth {
    const now = this.#now();
    const recent = this.#recent.filter((r) => r.atMs >= now - healthWindowMs);
    let bytes = 0;
    let frames = 0;
    for (const r of recent) {
      bytes += r.bytes;
      if (r.video) frames++;
    }
    const ref = this.#reference?.track;
    const n = this.#visibleSegments;
    const all = ref?.segments();
    // A stream younger than the window is measured over its own age (at least a second), not diluted by the rest.
    const startedMs = this.#availabilityStartMs ?? now;
    const spanMs = Math.max(1000, Math.min(healthWindowMs, now - startedMs));
    return {
      bitrateBps: Math.round((bytes * 8 * 1000) / spanMs),
      frameRate: Math.round((frames * 1000 * 100) / spanMs) / 100,
      lastFrameMs: this.#lastFrameMs,
      connections: this.#connections,
      isConnected: this.#current !== undefined,
      segmentCount: n,
      durationSec: ref && all && n > 0 ? (all.startTicks[n - 1] + all.durationTicks[n - 1]) / ref.timescale : 0,
      isEnded: this.#ended,
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
    };
  }

  /** Ingest is over for good (the event stops): the open segments close, the presentation ends. */
  async end(): Promise<void> {
    if (this.#current) this.#detach(this.#current, false);
    if (!this.#ended) this.#closeOpenSegments(false);
    this.#ended = true;
    await this.flushed();
    this.#publishedMs = this.#now();
    this.#notify();
  }

  /** Closes the spool files (after `end`); the files stay until `removeSpool`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#ended) await this.end();
    await this.flushed();
    for (const t of this.#tracks) {
      const file = await t.file.catch(() => undefined);
      await file?.close();
    }
  }

  /**
   * Deletes the event's spool folder (after `close`, once every archive is written, when the event stops): this
   * run's, and the runs an earlier process left behind and did not adopt (an event started again after a Stop),
   * which nothing reads again.
   */
  async removeSpool(): Promise<void> {
    await this.close();
    this.#removed = true;
    await fsp.rm(path.dirname(this.runDir), { recursive: true, force: true });
  }
}

/** Init segment, then each segment's rebuilt `moof` + `mdat` header and its payload read from the spool. */
async function* archiveChunks(track: LiveTrack, file: SpoolFile, from: number, to: number): AsyncGenerator<Uint8Array> {
  yield spoolMuxer.init(track.index);
  const segments = track.segments();
  const base = segments.startTicks[from];
  for (let i = from; i < to; i++) {
    const segment = segments.at(i);
    const plan = spoolMuxer.plan(track.index, { ...segment, index: i - from, startTicks: segment.startTicks - base });
    for (const part of plan.parts) {
      if (part instanceof Uint8Array) yield part;
      else yield* readChunks(file, part.offset, part.offset + part.length);
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
