import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../../shared/log.js';
import { MediaError } from '../../../shared/errors.js';
import { readMp4Index } from '../../packager/index.js';
import { FlvStreamReader } from '../ingest/flv-stream-reader.js';
import type { FlvTag } from '../ingest/ingest-contracts.js';
import { TimestampMapper, readFlvTag, type FlvSample, type TrackCodecConfig } from './flv-media.js';
import { LiveEventPipeline } from './live-event-pipeline.js';

function ffmpegFlv(args: string[]): Buffer {
  return execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...args, '-f', 'flv', 'pipe:1'], { maxBuffer: 64 << 20 });
}

function tagsOf(flv: Buffer): FlvTag[] {
  const tags: FlvTag[] = [];
  new FlvStreamReader((t) => tags.push({ ...t, data: Uint8Array.from(t.data) })).push(flv);
  return tags;
}

describe('flv-media', () => {
  let dir: string;
  let flv: Buffer;
  before(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'flv-media-'));
    // A size that is not a multiple of 16 (SPS cropping), High profile with B-frames, stereo AAC at 44.1 kHz.
    flv = ffmpegFlv([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=426x238:rate=30:duration=2'],
      ...['-f', 'lavfi', '-i', 'sine=sample_rate=44100:duration=2', '-ac', '2'],
      ...['-c:v', 'libx264', '-profile:v', 'high', '-preset', 'veryfast', '-bf', '3', '-g', '30', '-c:a', 'aac'],
    ]);
  });
  after(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('builds sample entries the packager reads back with the stream’s codec, size and audio layout', async () => {
    const configs = tagsOf(flv)
      .map(readFlvTag)
      .filter((m): m is { config: TrackCodecConfig } => m !== undefined && 'config' in m)
      .map((m) => m.config);
    const video = configs.find((c) => c.kind === 'video')!;
    const audio = configs.find((c) => c.kind === 'audio')!;
    assert.deepEqual(video.video, { width: 426, height: 238 });
    assert.match(video.codecs, /^avc1\.64/);
    assert.deepEqual(audio.audio, { channels: 2, sampleRate: 44100, aacObjectType: 2 });

    // Through the pipeline's spool, then the packager's MP4 reader.
    const pipeline = new LiveEventPipeline({ eventId: 'e', runId: 'r', spoolDir: dir, targetSegmentSec: 1, log: createLogger('silent') });
    const sink = pipeline.attach();
    for (const tag of tagsOf(flv)) sink.onTag(tag);
    await pipeline.end();
    for (const [name, check] of [
      [
        'video.mp4',
        (t: Awaited<ReturnType<typeof readMp4Index>>['tracks'][number]) => {
          assert.equal(t.codecs, video.codecs);
          assert.deepEqual([t.video?.width, t.video?.height, t.timescale], [426, 238, 90000]);
          // FLV times are whole milliseconds: 30 fps arrives as 33/34 ms steps.
          assert.ok(Math.abs(t.video!.frameRate - 30) < 0.5, `frame rate ${t.video?.frameRate}`);
        },
      ],
      [
        'audio.mp4',
        (t: Awaited<ReturnType<typeof readMp4Index>>['tracks'][number]) => {
          assert.deepEqual([t.codecs, t.audio?.channels, t.audio?.sampleRate, t.timescale, t.samples.medianDuration()], ['mp4a.40.2', 2, 44100, 44100, 1024]);
        },
      ],
    ] as const) {
      const bytes = await fsp.readFile(path.join(dir, 'e', 'r', name));
      const index = await readMp4Index(bytes.length, async (o, l) => bytes.subarray(o, o + l));
      assert.equal(index.tracks.length, 1);
      check(index.tracks[0]);
    }
    // ffprobe agrees on the spool file: it decodes as H.264 of the source size.
    const probe = execFileSync('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'stream=codec_name,width,height',
      '-of',
      'csv=p=0',
      path.join(dir, 'e', 'r', 'video.mp4'),
    ])
      .toString()
      .trim();
    assert.equal(probe, 'h264,426,238');
    await pipeline.removeSpool();
  });

  it('takes the signed CompositionTime as the composition offset of each frame', async () => {
    const file = path.join(dir, 'cts.flv');
    await fsp.writeFile(file, flv);
    const packets = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts,dts', '-of', 'csv=p=0', file])
      .toString()
      .trim()
      .split('\n')
      .map((line) => line.split(',').map(Number));
    const samples = tagsOf(flv)
      .map(readFlvTag)
      .filter((m): m is { sample: FlvSample } => m !== undefined && 'sample' in m && m.sample.kind === 'video')
      .map((m) => m.sample);
    assert.equal(samples.length, 60);
    assert.deepEqual(
      samples.map((s) => [s.dtsMs, s.ctsMs]),
      packets.map(([pts, dts]) => [dts, pts - dts]),
    );
    assert.ok(samples.some((s) => s.ctsMs > 0));
    assert.equal(samples[0].isSync, true);
    assert.equal(samples.filter((s) => s.isSync).length, 2);
  });

  it('refuses codecs other than H.264 and AAC with a clear error', () => {
    const other = tagsOf(
      ffmpegFlv([
        '-f',
        'lavfi',
        '-i',
        'testsrc=size=160x120:rate=10:duration=1',
        '-f',
        'lavfi',
        '-i',
        'sine=sample_rate=22050:duration=1',
        '-c:v',
        'flv1',
        '-c:a',
        'adpcm_swf',
      ]),
    );
    const video = other.find((t) => t.type === 9)!;
    const audio = other.find((t) => t.type === 8)!;
    assert.throws(
      () => readFlvTag(video),
      (err: unknown) => err instanceof MediaError && err.status === 415 && /not H\.264/.test(err.message),
    );
    assert.throws(() => readFlvTag(audio), /not AAC/);
    const pipeline = new LiveEventPipeline({ eventId: 'e2', runId: 'r', spoolDir: dir, targetSegmentSec: 2, log: createLogger('silent') });
    const sink = pipeline.attach();
    for (const tag of other) sink.onTag(tag);
    assert.match(pipeline.health().lastError ?? '', /not (H\.264|AAC)/);
    assert.equal(pipeline.tracks.length, 0);
  });

  it('keeps one timeline when the encoder’s clock restarts or jumps', () => {
    let end = 0;
    const jumps: number[] = [];
    const mapper = new TimestampMapper(
      () => end,
      (raw) => jumps.push(raw),
    );
    const seen: number[] = [];
    for (const raw of [5000, 5040, 5080, 40, 80, 90_000, 90_040]) {
      const ms = mapper.map('video', raw);
      seen.push(ms);
      end = ms + 40;
    }
    assert.deepEqual(seen, [0, 40, 80, 120, 160, 200, 240]);
    assert.deepEqual(jumps, [40, 90_000]);
  });
});
