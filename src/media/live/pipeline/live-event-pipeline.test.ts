import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../../shared/log.js';
import { LocalBlobStore } from '../../../storage/drivers/local.js';
import { outputFormat, isSourceRange, type Fmp4SegmentMuxer, type MediaIndex } from '../../packager/index.js';
import { PresentationBuilder } from '../../origin/presentation-builder.js';
import { FragmentBuilder } from '../../origin/fragment-builder.js';
import type { FlvTag } from '../ingest/ingest-contracts.js';
import { flvTags, readIndex } from '../../../../test/support/live-pipeline.js';
import { LiveEventPipeline } from './live-event-pipeline.js';

const log = createLogger('silent');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const videoFrames = (tags: FlvTag[]) => tags.filter((t) => t.type === 9 && t.data[1] === 1);
const audioFrames = (tags: FlvTag[]) => tags.filter((t) => t.type === 8 && t.data[1] === 1);

/** sha256 of every sample of a track of a file, in order. */
async function sampleHashes(file: string, index: MediaIndex, kind: 'video' | 'audio'): Promise<string[]> {
  const track = index.tracks.find((t) => t.kind === kind)!;
  const run = track.samples.run(0, track.samples.count);
  const bytes = await fsp.readFile(file);
  return Array.from({ length: run.count }, (_, i) => sha(bytes.subarray(run.offsets[i], run.offsets[i] + run.sizes[i])));
}

describe('LiveEventPipeline', () => {
  let dir: string;
  let tags: FlvTag[];
  const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);

  before(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'live-pipeline-'));
    tags = flvTags(10, { gopFrames: 50 });
  });
  after(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('spools every frame into fragmented MP4s cut at 2 s keyframes, serves the DVR window, and archives an output', async () => {
    const pipeline = new LiveEventPipeline({ eventId: 'ev1', runId: 'run1', spoolDir: dir, targetSegmentSec: 2, log, now: () => t0 });
    pipeline.startOutput({ outputId: 'out1', name: 'o', assetId: 'a1', manifestName: 'archive', archiveWindowSec: 3600, createdMs: 0 });
    pipeline.startOutput({ outputId: 'out2', name: 'o2', assetId: 'a2', manifestName: 'late', archiveWindowSec: 3600, createdMs: t0 + 4000 });
    const sink = pipeline.attach();
    for (const tag of tags) sink.onTag(tag);
    await pipeline.flushed();

    // Live, encoder still sending: the segment being recorded (8–10 s) is not visible yet.
    const open = pipeline.presentation({ fromMs: 0, windowSec: 4, live: true }).presentation;
    assert.deepEqual(
      open.tracks.map((t) => [t.name, t.segments.firstIndex, t.segments.length]),
      [
        ['video', 2, 2],
        ['audio', 2, 2],
      ],
    );
    assert.deepEqual(open.live, { availabilityStartMs: t0, windowSec: 4, publishedMs: t0, isEnded: false });
    assert.equal(open.durationSec, 8);

    // The origin's own segment builder serves the growing spool: an MPEG-TS segment of the live window decodes.
    const live = pipeline.presentation({ fromMs: 0, windowSec: 4, live: true });
    const fragments = new FragmentBuilder(8 << 20);
    const ts = outputFormat('m3u8-aapl');
    const liveVideo = live.presentation.tracks[0];
    const start = liveVideo.segments.startTicks[1];
    const body = await fragments.build('k1', live.location, liveVideo, start, ts, live.presentation.files.get(liveVideo.sourceFile)!.etag);
    const tsFile = path.join(dir, 'live.ts');
    await fsp.writeFile(tsFile, body.chunks);
    const tsProbe = JSON.parse(
      execFileSync('ffprobe', [
        '-v',
        'error',
        '-count_frames',
        '-select_streams',
        'v:0',
        '-show_entries',
        'stream=codec_name,nb_read_frames',
        '-of',
        'json',
        tsFile,
      ]).toString(),
    );
    assert.deepEqual(tsProbe.streams[0], { codec_name: 'h264', nb_read_frames: String(liveVideo.segments.sampleCount[1]) });

    await pipeline.end();
    const { presentation, location } = pipeline.presentation({ fromMs: 0, windowSec: 4, live: true });
    assert.notEqual(presentation.etag, open.etag, 'etag changes when segments are added');
    assert.equal(presentation.live?.isEnded, true);
    const [video, audio] = presentation.tracks;
    assert.deepEqual(
      video.segments.toArray().map((s) => [s.index, s.startTicks / 90000]),
      [
        [3, 6],
        [4, 8],
      ],
    );
    assert.deepEqual(
      audio.segments.toArray().map((s) => s.index),
      [3, 4],
    );
    assert.equal(location.prefix, 'run1');
    assert.ok(presentation.files.get('video.mp4')!.size > 0);

    // Every segment of the whole run: 2 s, starting on a keyframe, audio cut at the same time (within a frame).
    const all = pipeline.presentation({ fromMs: 0, windowSec: 3600, live: false }).presentation;
    assert.equal(all.live, undefined);
    const vs = all.tracks[0].segments.toArray();
    const as = all.tracks[1].segments.toArray();
    assert.deepEqual(
      vs.map((s) => s.startTicks / 90000),
      [0, 2, 4, 6, 8],
    );
    for (const s of vs) assert.equal(all.tracks[0].track.samples.run(s.firstSample, s.firstSample + 1).isSync[0], 1);
    assert.equal(as.length, vs.length);
    for (let i = 1; i < as.length; i++) assert.ok(Math.abs(as[i].startTicks / 48000 - vs[i].startTicks / 90000) < 1024 / 48000, `audio segment ${i}`);

    // The spool files read back as fragmented MP4s holding exactly the encoder's frames.
    const videoFile = path.join(dir, 'ev1', 'run1', 'video.mp4');
    const audioFile = path.join(dir, 'ev1', 'run1', 'audio.mp4');
    const vIndex = await readIndex(videoFile);
    const aIndex = await readIndex(audioFile);
    assert.equal(vIndex.isFragmented, true);
    const vt = vIndex.tracks[0];
    assert.deepEqual([vt.codecs.slice(0, 5), vt.video?.width, vt.video?.height, vt.video?.frameRate], ['avc1.', 320, 180, 25]);
    assert.deepEqual([aIndex.tracks[0].codecs, aIndex.tracks[0].audio?.sampleRate, aIndex.tracks[0].audio?.channels], ['mp4a.40.2', 48000, 1]);
    const pushedVideo = videoFrames(tags).map((t) => sha(t.data.subarray(5)));
    const pushedAudio = audioFrames(tags).map((t) => sha(t.data.subarray(2)));
    assert.equal(pushedVideo.length, 250);
    assert.deepEqual(await sampleHashes(videoFile, vIndex, 'video'), pushedVideo);
    assert.deepEqual(await sampleHashes(audioFile, aIndex, 'audio'), pushedAudio);
    // Composition offsets (B-frames) survive: the spool's cts equal the FLV CompositionTime × 90.
    const cts = vt.samples.run(0, vt.samples.count).ctsOffsets;
    const flvCts = videoFrames(tags).map((t) => ((((t.data[2] << 16) | (t.data[3] << 8) | t.data[4]) << 8) >> 8) * 90);
    assert.deepEqual(Array.from(cts), flvCts);
    assert.ok(
      flvCts.some((c) => c > 0),
      'the stream has B-frames',
    );

    // The origin's fMP4 muxer serves a segment straight from the spool, and ffmpeg decodes it.
    const muxer = outputFormat('m3u8-cmaf').segments as Fmp4SegmentMuxer;
    const segment = video.segments.at(0);
    const plan = muxer.plan(video.track, segment);
    const parts: Uint8Array[] = [muxer.init(video.track)];
    for (const part of plan.parts) {
      if (!isSourceRange(part)) parts.push(part);
      else {
        const b = Buffer.alloc(part.length);
        const n = await location.store.readInto(location.container, `${location.prefix}/${video.sourceFile}`, part.offset, b, {
          etag: presentation.files.get(video.sourceFile)!.etag,
        });
        assert.equal(n, part.length);
        parts.push(b);
      }
    }
    const segFile = path.join(dir, 'segment.mp4');
    await fsp.writeFile(segFile, parts);
    const probe = JSON.parse(
      execFileSync('ffprobe', [
        '-v',
        'error',
        '-count_frames',
        '-select_streams',
        'v:0',
        '-show_entries',
        'stream=nb_read_frames,width',
        '-of',
        'json',
        segFile,
      ]).toString(),
    );
    assert.deepEqual(probe.streams[0], { width: 320, nb_read_frames: String(segment.sampleCount) });

    // Archives: the whole run, and an output created 4 s in; the origin's VOD path reads them.
    const storeDir = path.join(dir, 'store');
    const store = new LocalBlobStore({ path: storeDir, allowedRoots: [dir] });
    await store.checkAccess();
    await store.createContainer('assets');
    await pipeline.finishOutput('out1', { store, container: 'assets', prefix: 'asset-1' });
    await pipeline.finishOutput('out2', { store, container: 'assets', prefix: 'asset-2' });
    const builder = new PresentationBuilder({ segmentDurationSec: 2, indexCacheBytes: 64 << 20, presentationTtlMs: 1000 });
    for (const [prefix, manifest, fromMs] of [
      ['asset-1', 'archive', 0],
      ['asset-2', 'late', 4000],
    ] as const) {
      const loc = { accountId: 'test', store, container: 'assets', prefix };
      const vod = await builder.get(loc, manifest);
      assert.deepEqual(
        vod.tracks.map((t) => [t.name, t.sourceFile]),
        [
          ['video', `${manifest}_video.mp4`],
          ['audio', `${manifest}_audio.mp4`],
        ],
      );
      assert.equal(vod.live, undefined);
      const hashes = async (i: number) => {
        const t = vod.tracks[i].track;
        const run = t.samples.run(0, t.samples.count);
        const bytes = await fsp.readFile(path.join(storeDir, 'assets', prefix, vod.tracks[i].sourceFile));
        assert.equal(run.dts[0], 0, 'the archive starts at 0');
        return Array.from({ length: run.count }, (_, k) => sha(bytes.subarray(run.offsets[k], run.offsets[k] + run.sizes[k])));
      };
      assert.deepEqual(
        await hashes(0),
        videoFrames(tags)
          .filter((t) => t.timestampMs >= fromMs)
          .map((t) => sha(t.data.subarray(5))),
      );
      assert.ok(Math.abs(vod.durationSec - (10000 - fromMs) / 1000) < 0.1, `duration ${vod.durationSec}`);
      const ism = await fsp.readFile(path.join(storeDir, 'assets', prefix, `${manifest}.ism`), 'utf8');
      assert.match(ism, new RegExp(`<meta name="availabilityStartTime" content="${new Date(t0 + fromMs).toISOString()}" />`));
      assert.ok((await hashes(1)).length > 0);
    }
    await store.close();

    await pipeline.removeSpool();
    await assert.rejects(fsp.stat(path.join(dir, 'ev1', 'run1')), /ENOENT/);
  });

  it('continues one timeline across a reconnect whose timestamps restart at 0', async () => {
    const pipeline = new LiveEventPipeline({ eventId: 'ev2', runId: 'run1', spoolDir: dir, targetSegmentSec: 2, log, now: () => t0 });
    const first = pipeline.attach();
    for (const tag of tags) first.onTag(tag);
    first.onEnd('closed');
    assert.equal(pipeline.health().isConnected, false);
    // The next segment (5) starts after the discontinuity: known before it is cut (LL-HLS lists its parts).
    await pipeline.flushed();
    assert.deepEqual(pipeline.presentation({ fromMs: 0, windowSec: 3600, live: true }).presentation.live?.discontinuities, [5]);
    const second = pipeline.attach();
    for (const tag of tags) second.onTag(tag);
    await pipeline.end();
    const { presentation } = pipeline.presentation({ fromMs: 0, windowSec: 3600, live: true });
    const [video, audio] = presentation.tracks;
    const run = video.track.samples.run(0, video.track.samples.count);
    assert.equal(run.count, 500);
    for (let i = 1; i < run.count; i++) assert.ok(run.dts[i] > run.dts[i - 1], `dts rises at sample ${i}`);
    assert.deepEqual(
      video.segments.toArray().map((s) => s.startTicks / 90000),
      [0, 2, 4, 6, 8, 10, 12, 14, 16, 18],
    );
    assert.equal(audio.segments.length, 10);
    assert.equal(presentation.durationSec, 20);
    assert.deepEqual(pipeline.tracks[0].discontinuities, [5]);
    assert.deepEqual(pipeline.tracks[1].discontinuities, [5]);
    assert.deepEqual(pipeline.discontinuities, [5]);
    assert.deepEqual(presentation.live?.discontinuities, [5], 'the live presentation carries them');
    const spool = await readIndex(path.join(dir, 'ev2', 'run1', 'video.mp4'));
    assert.equal(spool.tracks[0].samples.count, 500);
    assert.equal(pipeline.health().connections, 2);
    await pipeline.removeSpool();
  });

  it("drops a reconnecting encoder whose codec configuration differs from the run's, and says why", async () => {
    const pipeline = new LiveEventPipeline({ eventId: 'ev-config', runId: 'run1', spoolDir: dir, targetSegmentSec: 2, log, now: () => t0 });
    const first = pipeline.attach();
    for (const tag of tags) first.onTag(tag);
    first.onEnd('closed');
    let kicked = 0;
    const other = pipeline.attach(() => kicked++);
    for (const tag of flvTags(2, { gopFrames: 50, size: '640x360' })) other.onTag(tag);
    assert.equal(kicked, 1, 'the listener is told to drop it (once)');
    assert.equal(pipeline.health().isConnected, false);
    await pipeline.flushed();
    assert.match(pipeline.health().lastError ?? '', /reconnected with another video configuration/);
    // Its frames never reached the track; an encoder with the run's configuration continues the timeline.
    assert.equal(pipeline.health().durationSec, 10);
    const again = pipeline.attach(() => kicked++);
    for (const tag of tags) again.onTag(tag);
    await pipeline.end();
    assert.equal(kicked, 1);
    assert.equal(pipeline.presentation({ fromMs: 0, windowSec: 3600, live: true }).presentation.durationSec, 20);
    await pipeline.close();
  });

  it('leaves out a track whose media starts after the first segment instead of stalling the others', async () => {
    const pipeline = new LiveEventPipeline({ eventId: 'ev3', runId: 'run1', spoolDir: dir, targetSegmentSec: 2, log, now: () => t0 });
    const sink = pipeline.attach();
    // The audio sequence header comes first as usual, but audio frames only from 5 s on.
    for (const tag of tags) if (!(tag.type === 8 && tag.data[1] === 1 && tag.timestampMs < 5000)) sink.onTag(tag);
    await pipeline.end();
    const { presentation } = pipeline.presentation({ fromMs: 0, windowSec: 3600, live: true });
    assert.deepEqual(
      presentation.tracks.map((t) => [t.name, t.segments.length]),
      [['video', 5]],
    );
    assert.match(pipeline.health().lastError ?? '', /track audio started after the first segment/);
    await pipeline.removeSpool();
  });

  it('removes the spool of the event when it stops, with the runs an earlier process left behind', async () => {
    const stale = path.join(dir, 'ev9', 'run-before-restart');
    await fsp.mkdir(stale, { recursive: true });
    await fsp.writeFile(path.join(stale, 'video.mp4'), 'spooled before a restart');
    const pipeline = new LiveEventPipeline({ eventId: 'ev9', runId: 'run2', spoolDir: dir, targetSegmentSec: 2, log, now: () => t0 });
    const sink = pipeline.attach();
    for (const tag of tags.slice(0, 200)) sink.onTag(tag);
    await pipeline.end();
    assert.ok((await fsp.readdir(pipeline.runDir)).length > 0, 'this run spooled');
    await pipeline.removeSpool();
    await assert.rejects(fsp.stat(path.join(dir, 'ev9')), { code: 'ENOENT' });
    assert.ok((await fsp.stat(dir)).isDirectory(), 'other events keep theirs');
  });

  it('reports ingest health over the last seconds', async () => {
    let clock = t0;
    const pipeline = new LiveEventPipeline({ eventId: 'ev4', runId: 'run1', spoolDir: dir, targetSegmentSec: 2, log, now: () => clock });
    assert.deepEqual(pipeline.health(), {
      bitrateBps: 0,
      frameRate: 0,
      lastFrameMs: undefined,
      connections: 0,
      isConnected: false,
      segmentCount: 0,
      durationSec: 0,
      isEnded: false,
    });
    assert.throws(() => pipeline.presentation({ fromMs: 0, windowSec: 4, live: true }), /no media yet/);
    const sink = pipeline.attach();
    // Tags arrive in real time: the clock follows their timestamps.
    for (const tag of tags) {
      clock = Math.max(clock, t0 + tag.timestampMs);
      sink.onTag(tag);
    }
    await pipeline.flushed();
    const health = pipeline.health();
    const lastVideo = videoFrames(tags).at(-1)!.timestampMs;
    const recentVideo = videoFrames(tags).filter((t) => t.timestampMs >= clock - t0 - 5000);
    assert.equal(health.frameRate, recentVideo.length / 5);
    assert.ok(Math.abs(health.frameRate - 25) <= 0.5, `frame rate ${health.frameRate}`);
    assert.equal(health.lastFrameMs, t0 + Math.max(lastVideo, audioFrames(tags).at(-1)!.timestampMs));
    const recentBytes = tags
      .filter((t) => t.data[1] === 1 && t.timestampMs >= clock - t0 - 5000)
      .reduce((n, t) => n + t.data.byteLength - (t.type === 9 ? 5 : 2), 0);
    assert.equal(health.bitrateBps, Math.round((recentBytes * 8) / 5));
    assert.deepEqual([health.connections, health.isConnected, health.segmentCount, health.durationSec, health.isEnded], [1, true, 4, 8, false]);
    assert.equal(pipeline.availabilityStartMs, t0);
    await pipeline.removeSpool();
  });
});
