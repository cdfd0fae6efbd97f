/**
 * Live encoding (encodingType Standard / Premium1080p): one ffmpeg process per encoder connection reads the
 * contribution stream (its FLV tags written back as an FLV byte stream on stdin) and writes the ladder as
 * separate FLV outputs on extra pipes (fd 3…): one H.264 rung each, keyframes forced at the same times in every
 * rung (every `keyFrameIntervalSec` of output time), plus one AAC rendition. Each output is read with
 * `FlvStreamReader` into its own track of the event's `LiveEventPipeline`, which cuts every rung at the same
 * keyframe times.
 *
 * Timeline: tags reach ffmpeg with their timestamps mapped onto the event's timeline (so a reconnect does not
 * run its clock backwards); ffmpeg's outputs are mapped again onto the pipeline's timeline, one offset for
 * every output of a process, so that a restarted ffmpeg (a crash) continues where the timeline ended.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../../../shared/log.js';
import type { FlvTag, IngestSink } from '../ingest/ingest-contracts.js';
import { FlvStreamReader } from '../ingest/flv-stream-reader.js';
import { TimestampMapper, readFlvTag, type TrackCodecConfig } from './flv-media.js';
import type { LiveEventPipeline } from './live-event-pipeline.js';

export interface LadderRung {
  width: number;
  height: number;
  bitrateBps: number;
}

/**
 * MK.IO's (AMS's) system presets for live encoding: `Default720p` (encodingType Standard) and `Default1080p`
 * (Premium1080p), highest rung first.
 */
export const liveLadders: Readonly<Record<'Default720p' | 'Default1080p', readonly LadderRung[]>> = {
  Default720p: [
    { width: 1280, height: 720, bitrateBps: 3_500_000 },
    { width: 960, height: 540, bitrateBps: 2_200_000 },
    { width: 704, height: 396, bitrateBps: 1_350_000 },
    { width: 512, height: 288, bitrateBps: 850_000 },
    { width: 384, height: 216, bitrateBps: 550_000 },
    { width: 340, height: 192, bitrateBps: 200_000 },
  ],
  Default1080p: [
    { width: 1920, height: 1080, bitrateBps: 5_500_000 },
    { width: 1280, height: 720, bitrateBps: 3_000_000 },
    { width: 960, height: 540, bitrateBps: 1_600_000 },
    { width: 640, height: 360, bitrateBps: 800_000 },
    { width: 480, height: 270, bitrateBps: 400_000 },
    { width: 320, height: 180, bitrateBps: 200_000 },
  ],
};

/** The rungs for a source of `sourceHeight`: never above it (the lowest rung is kept for a tiny source). */
export function ladderFor(rungs: readonly LadderRung[], sourceHeight: number, maxRungs = Infinity): LadderRung[] {
  let fit = rungs.filter((r) => r.height <= sourceHeight);
  if (fit.length === 0) fit = [rungs[rungs.length - 1]];
  return fit.slice(0, Math.max(1, maxRungs));
}

/** The rung's track name: AMS names every video rendition `video`; the bitrate keeps them apart in URLs. */
export const rungTrackName = (rung: LadderRung) => `video_${rung.bitrateBps}`;

export interface TranscodeLadderOptions {
  pipeline: LiveEventPipeline;
  presetName: 'Default720p' | 'Default1080p';
  keyFrameIntervalSec: number;
  log: Logger;
  /** x264 speed preset: `veryfast` by default, `ultrafast` on weak hosts and in tests. */
  x264Preset?: string;
  /** At most this many rungs (tests; weak hosts). */
  maxRungs?: number;
  audioBitrateBps?: number;
  ffmpegPath?: string;
  /** Restarts of a crashed ffmpeg allowed per connection before the connection is given up. */
  maxRestarts?: number;
}

/**
 * The ffmpeg arguments for one ladder: input FLV on stdin, rung i on fd 3 + i, then the audio (left out when
 * `audioBitrateBps` is undefined: a source without audio).
 */
export function ladderArgs(rungs: readonly LadderRung[], keyFrameIntervalSec: number, x264Preset: string, audioBitrateBps: number | undefined): string[] {
  const split = `[0:v]split=${rungs.length}${rungs.map((_, i) => `[s${i}]`).join('')}`;
  const scales = rungs.map((r, i) => `[s${i}]scale=-2:${r.height}[v${i}]`);
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'flv', '-i', 'pipe:0', '-filter_complex', [split, ...scales].join(';')];
  rungs.forEach((r, i) => {
    args.push(
      ...['-map', `[v${i}]`, '-an', '-c:v', 'libx264', '-preset', x264Preset, '-profile:v', 'high', '-pix_fmt', 'yuv420p'],
      ...['-b:v', String(r.bitrateBps), '-maxrate', String(r.bitrateBps), '-bufsize', String(2 * r.bitrateBps)],
      // Keyframes at the same output times in every rung, and nowhere else: the segments of all rungs align.
      ...['-force_key_frames', `expr:gte(t,n_forced*${keyFrameIntervalSec})`, '-sc_threshold', '0', '-g', '9999'],
      // Each packet leaves at once: pipes would otherwise hold 32 KiB, seconds of a low rung or of the audio.
      ...['-flush_packets', '1', '-flvflags', 'no_duration_filesize', '-f', 'flv', `pipe:${3 + i}`],
    );
  });
  if (audioBitrateBps === undefined) return args;
  args.push(
    ...['-map', '0:a', '-vn', '-c:a', 'aac', '-b:a', String(audioBitrateBps), '-ar', '48000', '-ac', '2'],
    ...['-flush_packets', '1', '-flvflags', 'no_duration_filesize', '-f', 'flv', `pipe:${3 + rungs.length}`],
  );
  return args;
}

interface Run {
  child: ChildProcess;
  stdin: Writable;
  exited: Promise<number | null>;
  /** All outputs read to their end. */
  drained: Promise<void>;
}

/**
 * Transcodes one event's contribution stream into the ladder, into the event's pipeline. `attach()` gives the
 * ingest sink of an encoder connection (each connection runs its own ffmpeg); `close()` stops everything.
 */
export class TranscodeLadder {
  readonly #o: Required<TranscodeLadderOptions>;
  readonly #log: Logger;
  #current: LadderConnection | undefined;
  readonly #connections = new Set<LadderConnection>();

  constructor(options: TranscodeLadderOptions) {
    this.#o = {
      x264Preset: 'veryfast',
      audioBitrateBps: 96_000,
      ffmpegPath: 'ffmpeg',
      maxRestarts: 5,
      maxRungs: Infinity,
      ...options,
    };
    this.#log = options.log.child({ component: 'live-transcoder', eventId: options.pipeline.eventId });
  }

  /** An encoder connection: its tags go to a new ffmpeg; a previous connection's ffmpeg is finished first. */
  attach(): IngestSink {
    const previous = this.#current;
    // The previous connection's ffmpeg gets the end of its input; its last frames land before the new ones.
    void previous?.finish();
    const conn = new LadderConnection(this.#o, this.#log);
    this.#current = conn;
    this.#connections.add(conn);
    return {
      onTag: (tag) => conn.onTag(tag),
      onEnd: (reason) => {
        this.#log.info({ reason }, 'encoder detached from the transcoder');
        // As in pass-through (the encoder may never come back), its last frames become visible once ffmpeg has
        // drained them, not only when the event stops or another encoder connects.
        void conn.finish().then(() => {
          if (this.#current === conn && this.#o.pipeline.tracks.length > 0) this.#o.pipeline.markDiscontinuity();
        });
      },
    };
  }

  /** The ffmpeg of the current connection, while one runs (operations tools; tests kill it to check restarts). */
  get currentProcess(): ChildProcess | undefined {
    return this.#current?.process;
  }

  /** Resolves when every connection's ffmpeg has exited and its outputs are in the pipeline. */
  async close(): Promise<void> {
    await Promise.all([...this.#connections].map((c) => c.finish()));
  }
}

/**
 * Whether a video tag body is classic FLV H.264 (codec id 7, no enhanced RTMP header): what the transcoder's
 * ffmpeg (5.1, which predates enhanced FLV) reads from the FLV it is fed.
 */
const isLegacyH264 = (body: Uint8Array) => (body[0] & 0x80) === 0 && (body[0] & 0x0f) === 7;

/**
 * The classic FLV form (codec id 7) of an enhanced RTMP `avc1` video body, which ffmpeg 5.1 reads; undefined for
 * packets that carry nothing to decode (SequenceEnd, Metadata…), null for anything else (H.265, AV1, ModEx or
 * multitrack packets): the transcoder cannot take it.
 */
function legacyAvcBody(body: Uint8Array): Uint8Array | undefined | null {
  if ((body[0] & 0x80) === 0 || body.byteLength < 5) return null;
  if (String.fromCharCode(body[1], body[2], body[3], body[4]) !== 'avc1') return null;
  const frameType = (body[0] >> 4) & 0x07;
  const packetType = body[0] & 0x0f;
  const legacy = (avcPacketType: number, cts: ArrayLike<number>, payload: Uint8Array) => {
    const out = new Uint8Array(5 + payload.byteLength);
    out[0] = (frameType << 4) | 7;
    out[1] = avcPacketType;
    out.set(cts, 2);
    out.set(payload, 5);
    return out;
  };
  if (packetType === 0) return legacy(0, [0, 0, 0], body.subarray(5)); // SequenceStart: the AVCDecoderConfigurationRecord
  if (packetType === 1) return body.byteLength < 8 ? undefined : legacy(1, body.subarray(5, 8), body.subarray(8)); // CodedFrames
  if (packetType === 3) return legacy(1, [0, 0, 0], body.subarray(5)); // CodedFramesX
  return packetType === 2 || packetType === 4 || packetType === 5 ? undefined : null;
}

/** FLV header (flags: audio 4 | video 1) and PreviousTagSize0. */
const flvHeader = (hasAudio: boolean) => Uint8Array.from([0x46, 0x4c, 0x56, 1, hasAudio ? 5 : 1, 0, 0, 0, 9, 0, 0, 0, 0]);

/** How long ffmpeg may take to drain after its input ended. */
const finishTimeoutMs = 15_000;
/** A source whose audio header has not come after this much video is transcoded without audio. */
const audioWaitMs = 2000;
/** ffmpeg input queued beyond this (the host cannot keep up): frames are dropped up to the next keyframe. */
const maxQueuedInputBytes = 32 * 1024 * 1024;

class LadderConnection {
  readonly #mapper: TimestampMapper;
  #run: Run | undefined;
  #rungs: LadderRung[] | undefined;
  /** The latest sequence headers, re-sent to a restarted ffmpeg. */
  #videoHeader: FlvTag | undefined;
  #audioHeader: FlvTag | undefined;
  /** Tags that came before ffmpeg could be started (it needs the video size first). */
  readonly #early: FlvTag[] = [];
  #needKeyframe = false;
  #lastMappedMs = 0;
  /** Whether the running ladder has an audio output (decided when ffmpeg first starts). */
  #hasAudio: boolean | undefined;
  #restarts = 0;
  #finishing: Promise<void> | undefined;
  #failed = false;

  constructor(
    private readonly o: Required<TranscodeLadderOptions>,
    private readonly log: Logger,
  ) {
    this.#mapper = new TimestampMapper(() => o.pipeline.timelineEndMs);
  }

  onTag(received: FlvTag): void {
    if (this.#finishing || this.#failed) return;
    if (received.type === 18) return;
    const isVideo = received.type === 9;
    let tag = received;
    /** A body made here (not a view of the connection's buffers): sent as it is, without another copy. */
    let own: Uint8Array | undefined;
    if (isVideo && received.data.byteLength > 0 && !isLegacyH264(received.data)) {
      const converted = legacyAvcBody(received.data);
      if (converted === null) {
        this.#refuse(received.data);
        return;
      }
      if (converted === undefined) return; // nothing ffmpeg needs (end of sequence, metadata)
      own = converted;
      tag = { ...received, data: own };
    }
    if (tag.data.byteLength >= 2 && tag.data[1] === 0) {
      // A sequence header: the video one tells the source size the ladder is chosen for.
      if (isVideo) {
        this.#videoHeader = { ...tag, data: own ?? Uint8Array.from(tag.data) };
        if (!this.#rungs) {
          let config: TrackCodecConfig | undefined;
          try {
            const media = readFlvTag(tag);
            config = media && 'config' in media ? media.config : undefined;
          } catch (err) {
            this.log.warn({ err }, 'the contribution stream cannot be transcoded');
            this.#failed = true;
            return;
          }
          this.#rungs = ladderFor(liveLadders[this.o.presetName], config?.video?.height ?? 720, this.o.maxRungs);
          this.log.info({ rungs: this.#rungs.map(rungTrackName) }, 'transcoding ladder chosen');
        }
      } else this.#audioHeader = { ...tag, data: Uint8Array.from(tag.data) };
    }
    // Times on the event's timeline: ffmpeg's input clock never runs backwards across reconnects.
    const mapped: FlvTag = {
      type: tag.type,
      timestampMs: this.#mapper.map(isVideo ? 'video' : 'audio', tag.timestampMs),
      data: own ?? Uint8Array.from(tag.data),
    };
    this.#lastMappedMs = mapped.timestampMs;
    if (!this.#rungs || (this.#hasAudio === undefined && !this.#audioHeader && !this.#waitedForAudio(mapped))) {
      this.#early.push(mapped);
      return;
    }
    this.#hasAudio ??= this.#audioHeader !== undefined;
    if (!isVideo && !this.#hasAudio) return;
    if (!this.#run) {
      this.#start();
      for (const early of this.#early.splice(0)) this.#send(early);
    }
    if (this.#needKeyframe && isVideo) {
      if (tag.data[1] === 1 && tag.data[0] >> 4 !== 1) return;
      this.#needKeyframe = false;
    }
    this.#send(mapped);
  }

  /**
   * Video ffmpeg 5.1 cannot read from FLV (H.265 over enhanced RTMP, other codecs; enhanced `avc1` is rewritten
   * into classic FLV instead): the connection is not
   * transcoded, and the event's health says why.
   */
  #refuse(body: Uint8Array): void {
    this.#failed = true;
    const codec =
      (body[0] & 0x80) !== 0 && body.byteLength >= 5
        ? `'${String.fromCharCode(body[1], body[2], body[3], body[4])}' (enhanced RTMP)`
        : `with FLV codec id ${body[0] & 0x0f}`;
    const message = `video ${codec} cannot be transcoded: live encoding takes H.264 (FLV codec id 7) only; send H.264 or use a pass-through event for H.265`;
    this.log.warn({ codec }, message);
    this.o.pipeline.reportProblem(message);
  }

  /** True once video has come for `audioWaitMs` without an audio header. */
  #waitedForAudio(tag: FlvTag): boolean {
    const firstVideo = this.#early.find((t) => t.type === 9);
    return firstVideo !== undefined && tag.timestampMs - firstVideo.timestampMs >= audioWaitMs;
  }

  #send(tag: FlvTag): void {
    const run = this.#run;
    if (!run || run.stdin.destroyed) return;
    if (run.stdin.writableLength > maxQueuedInputBytes && tag.data[1] !== 0) {
      if (!this.#needKeyframe) this.log.warn('the transcoder cannot keep up: frames dropped up to the next keyframe');
      this.#needKeyframe = true;
      return;
    }
    const size = tag.data.byteLength;
    const head = Buffer.alloc(11);
    head[0] = tag.type;
    head.writeUIntBE(size, 1, 3);
    head.writeUIntBE(tag.timestampMs & 0xffffff, 4, 3);
    head[7] = (tag.timestampMs >>> 24) & 0xff;
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(11 + size);
    // Writes are queued by the stream; ffmpeg reads faster than real time, so the queue stays short.
    run.stdin.write(head);
    run.stdin.write(tag.data);
    run.stdin.write(tail);
  }

  #start(): void {
    const rungs = this.#rungs!;
    // A new process (a reconnect, a restart) starts new segments after a discontinuity.
    if (this.o.pipeline.tracks.length > 0) this.o.pipeline.markDiscontinuity();
    const hasAudio = this.#hasAudio === true;
    const args = ladderArgs(rungs, this.o.keyFrameIntervalSec, this.o.x264Preset, hasAudio ? this.o.audioBitrateBps : undefined);
    const outputCount = rungs.length + (hasAudio ? 1 : 0);
    const child = spawn(this.o.ffmpegPath, args, { stdio: ['pipe', 'ignore', 'pipe', ...Array.from({ length: outputCount }, () => 'pipe' as const)] });
    const stdin = child.stdin!;
    stdin.on('error', () => undefined); // EPIPE when ffmpeg dies: the exit handler restarts it
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    const exited = new Promise<number | null>((resolve) => {
      child.once('error', (err) => {
        this.log.error({ err }, 'ffmpeg could not be started');
        resolve(-1);
      });
      child.once('close', (code) => resolve(code));
    });
    // One mapping for every output of this process: the rungs and the audio stay in step.
    const outputs = new TimestampMapper(() => this.o.pipeline.timelineEndMs);
    const names = [...rungs.map(rungTrackName), ...(hasAudio ? ['audio'] : [])];
    this.o.pipeline.expectTracks(names);
    const bitrates = [...rungs.map((r) => r.bitrateBps), this.o.audioBitrateBps];
    const drained = Promise.all(
      names.map(
        (name, i) =>
          new Promise<void>((resolve) => {
            const stream = child.stdio[3 + i] as Readable;
            let config: TrackCodecConfig | undefined;
            const reader = new FlvStreamReader((tag) => {
              const media = readFlvTag(tag);
              if (!media) return;
              if ('config' in media) {
                config = media.config;
                return;
              }
              if (!config) return;
              this.o.pipeline.pushSample(name, config, media.sample, outputs.map(name, media.sample.dtsMs), bitrates[i]);
            });
            stream.on('data', (chunk: Buffer) => {
              try {
                reader.push(chunk);
              } catch (err) {
                this.log.error({ err, output: name }, 'transcoder output unreadable');
                stream.destroy();
              }
            });
            stream.once('close', () => resolve());
          }),
      ),
    ).then(() => undefined);
    const run: Run = { child, stdin, exited, drained };
    this.#run = run;
    void exited.then(async (code) => {
      await drained;
      if (this.#run !== run) return;
      if (this.#finishing) return;
      // ffmpeg died while the encoder is still sending: the timeline closes here and continues with a new process.
      this.log.error({ code, stderr: stderr.trim() }, 'transcoder exited unexpectedly');
      this.#run = undefined;
      if (++this.#restarts > this.o.maxRestarts) {
        this.#failed = true;
        this.log.error({ restarts: this.#restarts }, 'transcoder keeps failing: giving up on this connection');
        return;
      }
      this.#needKeyframe = true;
      this.#start();
      if (this.#videoHeader) this.#send({ ...this.#videoHeader, timestampMs: this.#lastMappedMs });
      if (this.#audioHeader) this.#send({ ...this.#audioHeader, timestampMs: this.#lastMappedMs });
    });
    stdin.write(flvHeader(hasAudio));
  }

  /** Ends ffmpeg's input and resolves once it has exited and its outputs are read. */
  finish(): Promise<void> {
    this.#finishing ??= (async () => {
      const run = this.#run;
      if (!run) return;
      run.stdin.end();
      // ffmpeg drains its encoders in well under this; one that hangs must not hold the event's stop forever.
      const kill = setTimeout(() => {
        this.log.warn('the transcoder did not finish after its input ended: killed');
        run.child.kill('SIGKILL');
      }, finishTimeoutMs);
      kill.unref();
      await run.exited;
      clearTimeout(kill);
      await run.drained;
    })();
    return this.#finishing;
  }

  /** The running ffmpeg. */
  get process(): ChildProcess | undefined {
    return this.#run?.child;
  }
}
