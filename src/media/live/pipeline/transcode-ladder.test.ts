import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../../shared/log.js';
import { FlvStreamReader } from '../ingest/flv-stream-reader.js';
import type { FlvTag } from '../ingest/ingest-contracts.js';
import { makeHevcSource, mp4RtmpTags } from '../../../../test/support/enhanced-rtmp-publisher.js';
import { LiveEventPipeline } from './live-event-pipeline.js';
import { ladderFor, liveLadders, TranscodeLadder } from './transcode-ladder.js';

const log = createLogger('silent');

function sourceTags(seconds: number, withAudio = true): FlvTag[] {
  const flv = execFileSync(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error'],
      ...['-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=25:duration=${seconds}`],
      ...(withAudio ? ['-f', 'lavfi', '-i', `sine=sample_rate=44100:duration=${seconds}`, '-c:a', 'aac'] : []),
      // The contribution encoder's GOP (3 s) differs from the event's 2 s: the ladder sets its own keyframes.
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '75', '-f', 'flv', 'pipe:1'],
    ],
    { maxBuffer: 64 << 20 },
  );
  const tags: FlvTag[] = [];
  new FlvStreamReader((t) => tags.push({ ...t, data: Uint8Array.from(t.data) })).push(flv);
  return tags;
}

describe('TranscodeLadder', () => {
  let dir: string;
  before(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'live-ladder-'));
  });
  after(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('never upscales: a 360p source gets the rungs at or below 360 lines', () => {
    assert.deepEqual(
      ladderFor(liveLadders.Default720p, 360).map((r) => r.height),
      [288, 216, 192],
    );
    assert.deepEqual(
      ladderFor(liveLadders.Default1080p, 1080, 2).map((r) => r.bitrateBps),
      [5_500_000, 3_000_000],
    );
    assert.deepEqual(
      ladderFor(liveLadders.Default720p, 144).map((r) => r.height),
      [192],
    );
  });

  it('transcodes a stream into rungs whose segments start together on keyframes', async () => {
    const pipeline = new LiveEventPipeline({ eventId: 'ev', runId: 'r1', spoolDir: dir, targetSegmentSec: 2, log });
    const ladder = new TranscodeLadder({ pipeline, presetName: 'Default720p', keyFrameIntervalSec: 2, log, x264Preset: 'ultrafast', maxRungs: 2 });
    const sink = ladder.attach();
    for (const tag of sourceTags(6)) sink.onTag(tag);
    sink.onEnd('closed');
    await ladder.close();
    await pipeline.end();

    const { presentation } = pipeline.presentation({ fromMs: 0, windowSec: 3600, live: true });
    assert.deepEqual(presentation.tracks.map((t) => [t.name, t.kind, t.bitrateBps]).sort(), [
      ['audio', 'audio', 96_000],
      ['video_550000', 'video', 550_000],
      ['video_850000', 'video', 850_000],
    ]);
    const videos = presentation.tracks.filter((t) => t.kind === 'video');
    assert.deepEqual(
      videos.map((t) => t.track.video?.height),
      videos.map((t) => (t.name === 'video_850000' ? 288 : 216)),
    );
    const starts = videos.map((t) => t.segments.toArray().map((s) => s.startTicks));
    assert.equal(starts[0].length, 3, `segments: ${JSON.stringify(starts[0])}`);
    assert.deepEqual(starts[1], starts[0]);
    // Tick 0 is the run's first sample (audio may come a frame ahead of video): segments are 2 s apart from there.
    assert.ok(starts[0][0] / 90000 < 0.1);
    assert.deepEqual(
      starts[0].map((t) => (t - starts[0][0]) / 90000),
      [0, 2, 4],
    );
    for (const t of videos) {
      for (const s of t.segments.toArray())
        assert.equal(t.track.samples.run(s.firstSample, s.firstSample + 1).isSync[0], 1, `${t.name} segment ${s.index} starts on a keyframe`);
    }
    const audio = presentation.tracks.find((t) => t.kind === 'audio')!;
    assert.equal(audio.segments.length, 3);
    assert.equal(audio.track.audio?.sampleRate, 48000);
    await pipeline.removeSpool();
  });

  it('publishes the last frames when the encoder leaves, before the event stops', async () => {
    const pipeline = new LiveEventPipeline({ eventId: 'ev', runId: 'r4', spoolDir: dir, targetSegmentSec: 2, log });
    const ladder = new TranscodeLadder({ pipeline, presetName: 'Default720p', keyFrameIntervalSec: 2, log, x264Preset: 'ultrafast', maxRungs: 1 });
    const sink = ladder.attach();
    for (const tag of sourceTags(6)) sink.onTag(tag);
    sink.onEnd('closed');
    await ladder.close();
    await pipeline.flushed();
    // No `pipeline.end()`: the event still runs, the encoder may come back.
    const { presentation } = pipeline.presentation({ fromMs: 0, windowSec: 3600, live: true });
    assert.equal(presentation.live?.isEnded, false);
    for (const t of presentation.tracks) {
      const seconds =
        (t.segments.startTicks[t.segments.length - 1] + t.segments.durationTicks[t.segments.length - 1] - t.segments.startTicks[0]) / t.track.timescale;
      assert.ok(Math.abs(seconds - 6) < 0.1, `${t.name}: ${seconds} s of 6 s visible`);
    }
    await pipeline.removeSpool();
  });

  it('restarts a crashed ffmpeg and keeps the timeline going', async () => {
    const pipeline = new LiveEventPipeline({ eventId: 'ev', runId: 'r2', spoolDir: dir, targetSegmentSec: 2, log });
    const ladder = new TranscodeLadder({ pipeline, presetName: 'Default720p', keyFrameIntervalSec: 2, log, x264Preset: 'ultrafast', maxRungs: 1 });
    const sink = ladder.attach();
    const tags = sourceTags(8);
    const firstHalf = tags.filter((t) => t.timestampMs < 2500);
    for (const tag of firstHalf) sink.onTag(tag);
    // Kill it once its first frames are in the pipeline (it has 2.5 s of input; it never waits for more to emit 1 s).
    const hasMedia = () => pipeline.tracks.some((t) => t.kind === 'video' && (t.lastDtsTicks ?? 0) >= 90000);
    while (!hasMedia()) await new Promise((r) => setTimeout(r, 20));
    const first = ladder.currentProcess!;
    first.kill('SIGKILL');
    await once(first, 'close');
    while (ladder.currentProcess === first || ladder.currentProcess === undefined) await new Promise((r) => setImmediate(r));
    for (const tag of tags.slice(firstHalf.length)) sink.onTag(tag);
    sink.onEnd('closed');
    await ladder.close();
    await pipeline.end();

    const { presentation } = pipeline.presentation({ fromMs: 0, windowSec: 3600, live: false });
    const video = presentation.tracks.find((t) => t.kind === 'video')!;
    const run = video.track.samples.run(0, video.track.samples.count);
    for (let i = 1; i < run.count; i++) assert.ok(run.dts[i] > run.dts[i - 1], `dts rises at sample ${i}`);
    const segments = video.segments.toArray();
    for (const s of segments) assert.equal(run.isSync[s.firstSample], 1, `segment ${s.index} starts on a keyframe`);
    // The restarted process's frames (from the source's keyframe at 3 s) come after the first process's.
    assert.ok(segments.length >= 3, `segments: ${segments.length}`);
    const track = pipeline.tracks.find((t) => t.kind === 'video')!;
    assert.equal(track.discontinuities.length, 1);
    assert.equal(presentation.tracks.find((t) => t.kind === 'audio')!.segments.length, segments.length);
    await pipeline.removeSpool();
  });

  it('transcodes a source without audio into video rungs only', async () => {
    const pipeline = new LiveEventPipeline({ eventId: 'ev', runId: 'r3', spoolDir: dir, targetSegmentSec: 2, log });
    const ladder = new TranscodeLadder({ pipeline, presetName: 'Default1080p', keyFrameIntervalSec: 2, log, x264Preset: 'ultrafast', maxRungs: 1 });
    const sink = ladder.attach();
    for (const tag of sourceTags(5, false)) sink.onTag(tag);
    sink.onEnd('closed');
    await ladder.close();
    await pipeline.end();
    const { presentation } = pipeline.presentation({ fromMs: 0, windowSec: 3600, live: true });
    assert.deepEqual(
      presentation.tracks.map((t) => [t.name, t.track.video?.height, t.segments.length]),
      [['video_800000', 360, 3]],
    );
    await pipeline.removeSpool();
  });

  it('refuses H.265 input (ffmpeg 5.1 reads no enhanced FLV) with a reason the event health shows, and starts no ffmpeg', async () => {
    const file = path.join(dir, 'hevc.mp4');
    await makeHevcSource(file, { seconds: 1 });
    const pipeline = new LiveEventPipeline({ eventId: 'ev', runId: 'r5', spoolDir: dir, targetSegmentSec: 2, log });
    const ladder = new TranscodeLadder({ pipeline, presetName: 'Default720p', keyFrameIntervalSec: 2, log, x264Preset: 'ultrafast', maxRungs: 1 });
    const sink = ladder.attach();
    for (const tag of (await mp4RtmpTags(file)).tags) sink.onTag(tag);
    assert.equal(ladder.currentProcess, undefined, 'no transcoder runs');
    assert.match(pipeline.health().lastError ?? '', /video 'hvc1' \(enhanced RTMP\) cannot be transcoded: live encoding takes H\.264/);
    sink.onEnd('closed');
    await ladder.close();
    await pipeline.end();
    assert.equal(pipeline.tracks.length, 0, 'nothing is published');
    await pipeline.removeSpool();
  });

  it('transcodes H.264 sent as enhanced RTMP (FourCC avc1), rewritten into the classic FLV its ffmpeg reads', async () => {
    const pipeline = new LiveEventPipeline({ eventId: 'ev', runId: 'r6', spoolDir: dir, targetSegmentSec: 2, log });
    const ladder = new TranscodeLadder({ pipeline, presetName: 'Default720p', keyFrameIntervalSec: 2, log, x264Preset: 'ultrafast', maxRungs: 1 });
    const sink = ladder.attach();
    // Classic AVC body: frame type | 7, AVCPacketType, SI24 CompositionTime, payload. Enhanced: IsExHeader | frame
    // type | PacketType (0 SequenceStart, 1 CodedFrames with the composition time, 3 CodedFramesX without), avc1.
    const enhanced = sourceTags(5).map((t): FlvTag => {
      if (t.type !== 9) return t;
      const frameType = t.data[0] >> 4;
      const packetType = t.data[1];
      const zeroCts = t.data[2] === 0 && t.data[3] === 0 && t.data[4] === 0;
      const exType = packetType === 0 ? 0 : packetType === 1 ? (zeroCts ? 3 : 1) : 2;
      const cts = exType === 1 ? [...t.data.subarray(2, 5)] : [];
      return { ...t, data: Uint8Array.from([0x80 | (frameType << 4) | exType, ...Buffer.from('avc1'), ...cts, ...t.data.subarray(5)]) };
    });
    assert.ok(enhanced.some((t) => t.type === 9 && (t.data[0] & 0x0f) === 3));
    for (const tag of enhanced) sink.onTag(tag);
    sink.onEnd('closed');
    await ladder.close();
    await pipeline.end();
    const { presentation } = pipeline.presentation({ fromMs: 0, windowSec: 3600, live: true });
    assert.deepEqual(presentation.tracks.map((t) => [t.name, t.segments.length]).sort(), [
      ['audio', 3],
      ['video_850000', 3],
    ]);
    assert.equal(pipeline.health().lastError, undefined);
    await pipeline.removeSpool();
  });
});
