/**
 * A test-only RTMP publisher that speaks Enhanced RTMP (Veovera, v1) video, because Debian's ffmpeg 5.1 cannot
 * push H.265 over RTMP (enhanced FLV came in ffmpeg 6.1). Written to the public specs — Adobe's RTMP 1.0
 * (handshake §5.2, chunking §5.3, commands §7.2) and Enhanced RTMP v1 (ExVideoTagHeader) — and kept to what a
 * publishing encoder does: C0/C1 → S0/S1/S2 → C2, set chunk size, `connect`, `createStream`, `publish`, then
 * audio and video messages at their pace, then `deleteStream` and close. Not a general client: no
 * acknowledgements (the server's window is far larger than a test stream), no digest handshake.
 *
 * `mp4RtmpTags` turns an H.265 (`hvc1`) + AAC MP4, read with the packager's own MP4 parser, into the tags an
 * enhanced RTMP encoder sends: a SequenceStart with the `hvcC` record, CodedFrames (SI24 composition time) or
 * CodedFramesX (composition time 0) per sample, and the classic AAC sequence header and raw frames.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { promisify } from 'node:util';
import type { FlvTag } from '../../src/media/live/ingest/ingest-contracts.js';
import { decodeAmf0, encodeAmf0, type Amf0Object, type Amf0Value } from '../../src/media/live/ingest/rtmp/amf0.js';
import { ChunkStreamReader, encodeChunks, type RtmpMessage } from '../../src/media/live/ingest/rtmp/chunk-stream.js';
import type { TrackIndex } from '../../src/media/packager/index.js';
import { readEsds } from '../../src/media/packager/mux/ts/adts.js';
import { findSampleEntryChild } from '../../src/media/packager/mux/ts/sample-entry.js';
import { readIndex } from './live-pipeline.js';

const run = promisify(execFile);

/**
 * An H.265 (`hvc1`, libx265) + AAC MP4 made by ffmpeg: testsrc2 at 25 fps with a keyframe every `gopFrames`
 * frames and nowhere else (no scene cuts, closed GOPs: IDR pictures), B-frames (composition offsets), a 440 Hz
 * sine. `pixFmt` picks the chroma format (yuv420p by default).
 */
export async function makeHevcSource(file: string, options: { seconds: number; size?: string; gopFrames?: number; pixFmt?: string }): Promise<void> {
  const { seconds, size = '426x238', gopFrames = 50, pixFmt = 'yuv420p' } = options;
  await run('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25:duration=${seconds}`],
    ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`],
    ...['-c:v', 'libx265', '-preset', 'ultrafast', '-pix_fmt', pixFmt, '-tag:v', 'hvc1'],
    ...['-x265-params', `keyint=${gopFrames}:min-keyint=${gopFrames}:scenecut=0:open-gop=0:bframes=2:log-level=error`],
    ...['-c:a', 'aac', '-b:a', '96k', file],
  ]);
}

const handshakeBytes = 1536;
const chunkSize = 4096;
/** Chunk stream ids as common encoders use them: commands 3, audio 4, video 6; protocol control 2. */
const csid = { control: 2, command: 3, audio: 4, video: 6 };

/** Enhanced RTMP video header byte: IsExHeader | FrameType << 4 | PacketType. */
const exHeader = (frameType: number, packetType: number) => 0x80 | (frameType << 4) | packetType;

/** One sample of a track, read from the file. */
interface SampleBytes {
  dtsMs: number;
  ctsMs: number;
  isSync: boolean;
  data: Uint8Array;
}

function samplesOf(fd: number, track: TrackIndex): SampleBytes[] {
  const run = track.samples.run(0, track.samples.count);
  const out: SampleBytes[] = [];
  for (let i = 0; i < run.count; i++) {
    const data = Buffer.alloc(run.sizes[i]);
    fs.readSync(fd, data, 0, run.sizes[i], run.offsets[i]);
    const dtsMs = Math.round((run.dts[i] * 1000) / track.timescale);
    const ptsMs = Math.round(((run.dts[i] + run.ctsOffsets[i]) * 1000) / track.timescale);
    out.push({ dtsMs, ctsMs: ptsMs - dtsMs, isSync: run.isSync[i] === 1, data });
  }
  return out;
}

/** What `mp4RtmpTags` read: the tags in send order, and the source's video samples (to compare archives with). */
export interface RtmpSource {
  tags: FlvTag[];
  video: SampleBytes[];
  width: number;
  height: number;
  durationSec: number;
}

/** The enhanced RTMP tags of an `hvc1` + AAC MP4 file, in decode-time order (audio first on ties). */
export async function mp4RtmpTags(file: string): Promise<RtmpSource> {
  const index = await readIndex(file);
  const video = index.tracks.find((t) => t.kind === 'video');
  const audio = index.tracks.find((t) => t.kind === 'audio');
  if (!video || video.fourcc !== 'hvc1') throw new Error(`${file} has no hvc1 video track`);
  const fd = fs.openSync(file, 'r');
  try {
    const fourcc = Buffer.from('hvc1');
    const tags: FlvTag[] = [];
    const hvcC = findSampleEntryChild(video, 'hvcC');
    if (!hvcC) throw new Error(`${file}: no hvcC`);
    tags.push({ type: 9, timestampMs: 0, data: Buffer.concat([Uint8Array.from([exHeader(1, 0)]), fourcc, hvcC]) });
    const videoSamples = samplesOf(fd, video);
    const media: FlvTag[] = [];
    for (const s of videoSamples) {
      const frameType = s.isSync ? 1 : 2;
      const head =
        s.ctsMs === 0
          ? Buffer.concat([Uint8Array.from([exHeader(frameType, 3)]), fourcc]) // CodedFramesX
          : Buffer.concat([
              Uint8Array.from([exHeader(frameType, 1)]),
              fourcc,
              Uint8Array.from([(s.ctsMs >> 16) & 0xff, (s.ctsMs >> 8) & 0xff, s.ctsMs & 0xff]),
            ]);
      media.push({ type: 9, timestampMs: s.dtsMs, data: Buffer.concat([head, s.data]) });
    }
    if (audio) {
      tags.push({ type: 8, timestampMs: 0, data: Buffer.concat([Uint8Array.from([0xaf, 0]), readEsds(audio).decoderSpecificInfo!]) });
      for (const s of samplesOf(fd, audio)) media.push({ type: 8, timestampMs: s.dtsMs, data: Buffer.concat([Uint8Array.from([0xaf, 1]), s.data]) });
    }
    // Stable sort: by time, audio before video at the same time (as FLV muxers interleave).
    media.sort((a, b) => a.timestampMs - b.timestampMs || a.type - b.type);
    tags.push(...media);
    const last = videoSamples[videoSamples.length - 1];
    return {
      tags,
      video: videoSamples,
      width: video.video!.width,
      height: video.video!.height,
      durationSec: (last.dtsMs + 40) / 1000,
    };
  } finally {
    fs.closeSync(fd);
  }
}

/** Sends `tags` to `url` (`rtmp://host:port/app/stream` or `rtmps://…`, certificates not checked) as an encoder. */
export class EnhancedRtmpPublisher {
  readonly #socket: net.Socket;
  readonly #messages: RtmpMessage[] = [];
  #received = Buffer.alloc(0);
  #handshakeDone = false;
  #reader = new ChunkStreamReader((m) => this.#messages.push(m));
  #wake: (() => void) | undefined;
  #closed = false;
  #streamId = 0;

  private constructor(
    private readonly url: URL,
    socket: net.Socket,
  ) {
    this.#socket = socket;
    socket.on('data', (bytes: Buffer) => this.#onData(bytes));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#closed = true;
      this.#wake?.();
    });
  }

  /** Connects and publishes: resolves once the server answered `NetStream.Publish.Start`; rejects on a refusal. */
  static async publish(url: string): Promise<EnhancedRtmpPublisher> {
    const u = new URL(url);
    const port = Number(u.port) || (u.protocol === 'rtmps:' ? 443 : 1935);
    const socket = u.protocol === 'rtmps:' ? tls.connect({ host: u.hostname, port, rejectUnauthorized: false }) : net.connect({ host: u.hostname, port });
    const publisher = new EnhancedRtmpPublisher(u, socket);
    await publisher.#start();
    return publisher;
  }

  #onData(bytes: Buffer): void {
    if (this.#handshakeDone) this.#reader.push(bytes);
    else this.#received = Buffer.concat([this.#received, bytes]);
    this.#wake?.();
  }

  /** Waits until `test` finds something in what arrived; rejects when the server closed first. */
  async #until<T>(test: () => T | undefined, what: string): Promise<T> {
    for (;;) {
      const found = test();
      if (found !== undefined) return found;
      if (this.#closed) throw new Error(`the server closed the connection before ${what}`);
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #command(streamId: number, ...values: Amf0Value[]): void {
    this.#socket.write(encodeChunks({ csid: csid.command, typeId: 20, streamId, timestampMs: 0, payload: encodeAmf0(...values) }, chunkSize));
  }

  /** The reply (`_result` / `_error`) to transaction `id`. */
  async #reply(id: number, what: string): Promise<Amf0Value[]> {
    const reply = await this.#until(() => {
      for (const m of this.#messages) {
        if (m.typeId !== 20) continue;
        const values = decodeAmf0(m.payload);
        if ((values[0] === '_result' || values[0] === '_error') && values[1] === id) return values;
      }
      return undefined;
    }, what);
    if (reply[0] === '_error') throw new Error(`${what} refused: ${JSON.stringify(reply[3])}`);
    return reply;
  }

  async #start(): Promise<void> {
    // C0 (version 3) + C1 (time, zero, random), then C2 echoes S1 once S0+S1+S2 are in.
    const c1 = crypto.randomBytes(handshakeBytes);
    c1.fill(0, 0, 8);
    this.#socket.write(Buffer.concat([Uint8Array.from([3]), c1]));
    await this.#until(() => (this.#received.byteLength >= 1 + 2 * handshakeBytes ? true : undefined), 'the handshake');
    this.#socket.write(this.#received.subarray(1, 1 + handshakeBytes));
    this.#handshakeDone = true;
    const rest = this.#received.subarray(1 + 2 * handshakeBytes);
    if (rest.byteLength > 0) this.#reader.push(rest);

    const size = Buffer.alloc(4);
    size.writeUInt32BE(chunkSize);
    this.#socket.write(encodeChunks({ csid: csid.control, typeId: 1, streamId: 0, timestampMs: 0, payload: size }, 128));
    const [, app, ...keyParts] = this.url.pathname.split('/');
    const tcUrl = `${this.url.protocol}//${this.url.host}/${app}`;
    this.#command(0, 'connect', 1, { app, type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; reel-test)', tcUrl, fourCcList: ['hvc1'] });
    await this.#reply(1, 'connect');
    this.#command(0, 'createStream', 2, null);
    const created = await this.#reply(2, 'createStream');
    this.#streamId = Number(created[3]);
    this.#command(this.#streamId, 'publish', 3, null, keyParts.join('/'), 'live');
    await this.#until(() => {
      for (const m of this.#messages) {
        if (m.typeId !== 20) continue;
        const values = decodeAmf0(m.payload);
        if (values[0] !== 'onStatus') continue;
        const code = (values[3] as Amf0Object | undefined)?.code;
        if (code === 'NetStream.Publish.Start') return true;
        throw new Error(`publish refused: ${String(code)}`);
      }
      return undefined;
    }, 'NetStream.Publish.Start');
  }

  /** Sends one tag as an audio (8) or video (9) message. */
  send(tag: FlvTag): void {
    const id = tag.type === 9 ? csid.video : csid.audio;
    this.#socket.write(encodeChunks({ csid: id, typeId: tag.type, streamId: this.#streamId, timestampMs: tag.timestampMs, payload: tag.data }, chunkSize));
  }

  /** Sends `tags` paced by their timestamps at `rate` × real time (an encoder's pace), then returns. */
  async sendPaced(tags: readonly FlvTag[], rate = 1): Promise<void> {
    const start = performance.now();
    const first = tags[0]?.timestampMs ?? 0;
    for (const tag of tags) {
      if (this.#closed) throw new Error('the server closed the connection while publishing');
      const due = start + (tag.timestampMs - first) / rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      this.send(tag);
    }
  }

  /** `deleteStream`, then closes the connection once the socket has flushed. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#command(0, 'deleteStream', 4, null, this.#streamId);
      await new Promise<void>((resolve) => this.#socket.end(resolve));
    }
    this.#socket.destroy();
  }
}
