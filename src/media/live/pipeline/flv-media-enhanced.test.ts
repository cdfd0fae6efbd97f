import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../../shared/log.js';
import { MediaError } from '../../../shared/errors.js';
import type { FlvTag } from '../ingest/ingest-contracts.js';
import { makeHevcSource, mp4RtmpTags, type RtmpSource } from '../../../../test/support/enhanced-rtmp-publisher.js';
import { readIndex } from '../../../../test/support/live-pipeline.js';
import { readFlvTag, type FlvSample, type TrackCodecConfig } from './flv-media.js';
import { hevcSampleIsIrap } from './hevc-config.js';
import { LiveEventPipeline } from './live-event-pipeline.js';

const configsOf = (tags: FlvTag[]) =>
  tags
    .map(readFlvTag)
    .filter((m): m is { config: TrackCodecConfig } => m !== undefined && 'config' in m)
    .map((m) => m.config);
const videoSamplesOf = (tags: FlvTag[]) =>
  tags
    .map(readFlvTag)
    .filter((m): m is { sample: FlvSample } => m !== undefined && 'sample' in m && m.sample.kind === 'video')
    .map((m) => ({ ...m.sample, data: Buffer.from(m.sample.data) }));
/** A tag read with its payload as a Buffer (views of Buffers and of Uint8Arrays compare alike). */
const readPlain = (tag: FlvTag) => {
  const m = readFlvTag(tag);
  return m && 'sample' in m ? { sample: { ...m.sample, data: Buffer.from(m.sample.data) } } : m;
};

/** An enhanced RTMP video tag: IsExHeader | frame type | packet type, FourCC, then `rest`. */
const exTag = (frameType: number, packetType: number, fourcc: string, rest: number[] = []): FlvTag => ({
  type: 9,
  timestampMs: 0,
  data: Uint8Array.from([0x80 | (frameType << 4) | packetType, ...Buffer.from(fourcc), ...rest]),
});

describe('flv-media: H.265 over enhanced RTMP', () => {
  let dir: string;
  let file: string;
  let source: RtmpSource;
  let sourceCodecs: string;
  before(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'flv-media-hevc-'));
    file = path.join(dir, 'source.mp4');
    await makeHevcSource(file, { seconds: 4, size: '426x238' });
    source = await mp4RtmpTags(file);
    sourceCodecs = (await readIndex(file)).tracks.find((t) => t.kind === 'video')!.codecs;
  });
  after(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('takes the SequenceStart as an hvc1 track and every coded frame with its times and key frame flag', () => {
    const [video, audio] = configsOf(source.tags);
    assert.equal(video.fourcc, 'hvc1');
    assert.equal(video.codecs, sourceCodecs, 'the codecs string VOD assets of the same stream get');
    assert.deepEqual(video.video, { width: 426, height: 238 });
    assert.equal(audio.fourcc, 'mp4a');

    const samples = videoSamplesOf(source.tags);
    assert.equal(samples.length, 100);
    assert.deepEqual(
      samples.map((s) => [s.dtsMs, s.ctsMs, s.isSync]),
      source.video.map((s) => [s.dtsMs, s.ctsMs, s.isSync]),
    );
    assert.ok(
      samples.some((s) => s.ctsMs > 0),
      'B-frames: CodedFrames with a composition time',
    );
    assert.ok(
      source.tags.some((t) => t.type === 9 && (t.data[0] & 0x0f) === 3),
      'and CodedFramesX for frames without one',
    );
    samples.forEach((s, i) => assert.ok(Buffer.from(s.data).equals(source.video[i].data), `frame ${i} is the pushed frame, byte for byte`));
    // The enhanced header's key frames are the IRAP pictures of the stream (every 50 frames, nowhere else).
    assert.deepEqual(
      samples.flatMap((s, i) => (s.isSync ? [i] : [])),
      [0, 50],
    );
    assert.deepEqual(
      samples.map((s) => hevcSampleIsIrap(s.data)),
      samples.map((s) => s.isSync),
    );
  });

  it('spools a track ffprobe decodes as HEVC of the pushed size', async () => {
    const pipeline = new LiveEventPipeline({ eventId: 'e', runId: 'r', spoolDir: dir, targetSegmentSec: 2, log: createLogger('silent') });
    const sink = pipeline.attach();
    for (const tag of source.tags) sink.onTag(tag);
    await pipeline.end();
    const spooled = path.join(dir, 'e', 'r', 'video.mp4');
    const probe = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,codec_tag_string,width,height', '-of', 'csv=p=0', spooled]);
    assert.equal(probe.toString().trim(), 'hevc,hvc1,426,238');
    const track = (await readIndex(spooled)).tracks[0];
    assert.deepEqual([track.fourcc, track.codecs, track.samples.count], ['hvc1', sourceCodecs, 100]);
    assert.equal(pipeline.health().lastError, undefined);
    await pipeline.removeSpool();
  });

  it('comes back as hvc1 when a restart adopts the run (run.json keeps the sample entry)', async () => {
    const options = { eventId: 'adopt', spoolDir: dir, targetSegmentSec: 2, log: createLogger('silent') };
    const first = new LiveEventPipeline({ ...options, runId: 'run1' });
    const sink = first.attach();
    for (const tag of source.tags) sink.onTag(tag);
    await first.close();
    const second = await LiveEventPipeline.adopt(options);
    assert.ok(second);
    const video = second.tracks.find((t) => t.kind === 'video')!;
    const original = first.tracks.find((t) => t.kind === 'video')!;
    assert.deepEqual([video.config.fourcc, video.config.codecs, video.config.video], ['hvc1', sourceCodecs, { width: 426, height: 238 }]);
    assert.deepEqual(Buffer.from(video.config.sampleEntry), Buffer.from(original.config.sampleEntry));
    const { presentation } = second.presentation({ fromMs: 0, windowSec: 3600, live: true });
    assert.equal(presentation.tracks.find((t) => t.kind === 'video')?.track.fourcc, 'hvc1');
    await second.end();
    await second.removeSpool();
  });

  it('reads the legacy codec id 12 and the hev1 FourCC the same way', () => {
    // Legacy: frame type | 12, packet type, SI24 composition time, payload: the enhanced tags rewritten.
    const legacy = source.tags.map((t): FlvTag => {
      if (t.type !== 9) return t;
      const frameType = (t.data[0] >> 4) & 7;
      const packetType = t.data[0] & 0x0f;
      const head = [(frameType << 4) | 12, packetType === 3 ? 1 : packetType, ...(packetType === 1 ? t.data.subarray(5, 8) : [0, 0, 0])];
      return { ...t, data: Uint8Array.from([...head, ...t.data.subarray(packetType === 1 ? 8 : 5)]) };
    });
    assert.deepEqual(configsOf(legacy)[0], configsOf(source.tags)[0]);
    assert.deepEqual(videoSamplesOf(legacy), videoSamplesOf(source.tags));

    const hev1 = source.tags.map((t) => (t.type === 9 ? { ...t, data: Uint8Array.from([t.data[0], ...Buffer.from('hev1'), ...t.data.subarray(5)]) } : t));
    const config = configsOf(hev1)[0];
    assert.equal(config.fourcc, 'hev1');
    assert.equal(Buffer.from(config.sampleEntry.subarray(4, 8)).toString(), 'hev1');
    assert.equal(config.codecs, sourceCodecs.replace(/^hvc1/, 'hev1'));
    assert.equal(videoSamplesOf(hev1).length, 100);
  });

  it('skips ModEx prefixes and ignores SequenceEnd, Metadata, MPEG2TSSequenceStart and command frames', () => {
    const frame = source.tags.find((t) => t.type === 9 && (t.data[0] & 0x0f) === 1)!;
    const expected = readPlain(frame);
    // ModEx (7): size − 1 = 2 → 3 bytes of data (a TimestampOffsetNano), then modExType 0 | packet type 1.
    const modEx: FlvTag = { ...frame, data: Uint8Array.from([(frame.data[0] & 0xf0) | 7, 2, 0, 1, 0x2c, 0x01, ...frame.data.subarray(1)]) };
    assert.deepEqual(readPlain(modEx), expected);
    // A long ModEx: 0xff then a UI16 size − 1.
    const long: FlvTag = {
      ...frame,
      data: Uint8Array.from([(frame.data[0] & 0xf0) | 7, 0xff, 0x01, 0x00, ...new Array<number>(257).fill(9), 0x01, ...frame.data.subarray(1)]),
    };
    assert.deepEqual(readPlain(long), expected);
    for (const packetType of [2, 4, 5]) assert.equal(readFlvTag(exTag(1, packetType, 'hvc1', [1, 2, 3])), undefined, `packet type ${packetType}`);
    assert.equal(readFlvTag(exTag(5, 1, 'hvc1', [0, 0, 0, 1])), undefined, 'a command frame');
    assert.equal(readFlvTag(exTag(1, 1, 'hvc1', [0, 0, 0])), undefined, 'an empty frame');
  });

  it('refuses other enhanced RTMP codecs and multitrack packets with a clear 415', async () => {
    for (const fourcc of ['av01', 'vp09']) {
      assert.throws(
        () => readFlvTag(exTag(1, 0, fourcc, [0x81, 0, 0, 0])),
        (err: unknown) => err instanceof MediaError && err.status === 415 && err.message.includes(`'${fourcc}'`) && /H\.264 or H\.265/.test(err.message),
      );
    }
    assert.throws(
      () => readFlvTag({ type: 9, timestampMs: 0, data: Uint8Array.from([0x96, 0x00, ...Buffer.from('hvc1'), 0]) }),
      (err: unknown) => err instanceof MediaError && err.status === 415 && /multitrack/.test(err.message),
    );
    // The pipeline reports the refusal once and keeps the audio.
    const pipeline = new LiveEventPipeline({ eventId: 'e3', runId: 'r', spoolDir: dir, targetSegmentSec: 2, log: createLogger('silent') });
    const sink = pipeline.attach();
    const av1 = source.tags.map((t) => (t.type === 9 ? { ...t, data: Uint8Array.from([t.data[0], ...Buffer.from('av01'), ...t.data.subarray(5)]) } : t));
    for (const tag of av1) sink.onTag(tag);
    assert.match(pipeline.health().lastError ?? '', /'av01' \(enhanced RTMP\) is not H\.264 or H\.265/);
    assert.deepEqual(
      pipeline.tracks.map((t) => t.kind),
      ['audio'],
    );
    await pipeline.end();
    await pipeline.removeSpool();
  });
});
