import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../../shared/log.js';
import { LocalBlobStore } from '../../../storage/drivers/local.js';
import type { FlvTag } from '../ingest/ingest-contracts.js';
import type { LivePlayback } from '../../origin/live-source.js';
import { FragmentBuilder } from '../../origin/fragment-builder.js';
import { outputFormat } from '../../packager/index.js';
import { flvTags, readIndex } from '../../../../test/support/live-pipeline.js';
import { LiveEventPipeline, type LiveEventPipelineOptions } from './live-event-pipeline.js';
import { listChunks } from './spool-layout.js';

const log = createLogger('silent');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const videoHashes = (tags: FlvTag[]) => tags.filter((t) => t.type === 9 && t.data[1] === 1).map((t) => sha(t.data.subarray(5)));

/** Bytes of the spool chunk files (media and journals) in a run folder. */
async function spoolBytes(runDir: string): Promise<{ media: number; journals: number; files: string[] }> {
  const files = (await fsp.readdir(runDir)).sort();
  let media = 0;
  let journals = 0;
  for (const f of files) {
    const { size } = await fsp.stat(path.join(runDir, f));
    if (f.endsWith('.mp4')) media += size;
    if (f.endsWith('.idx')) journals += size;
  }
  return { media, journals, files };
}

/** sha256 of each video sample of the listed segments, read through the origin's view of the spool (its BlobStore). */
async function listedVideoHashes(playback: LivePlayback): Promise<{ hashes: string[]; firstFrame: number; firstIndex: number }> {
  const { presentation, location } = playback;
  const video = presentation.tracks.find((t) => t.kind === 'video')!;
  const segments = video.segments;
  const first = segments.firstSample[0];
  const last = segments.firstSample[segments.length - 1] + segments.sampleCount[segments.length - 1];
  const run = video.track.samples.run(first, last);
  const hashes: string[] = [];
  for (let i = 0; i < run.count; i++) {
    const b = Buffer.alloc(run.sizes[i]);
    const n = await location.store.readInto(location.container, `${location.prefix}/${video.sourceFile}`, run.offsets[i], b);
    assert.equal(n, b.byteLength);
    hashes.push(sha(b));
  }
  // The pushed frame it starts with (25 fps; an adopted run's table starts with its first kept segment).
  return { hashes, firstFrame: Math.round(segments.startTicks[0] / 3600), firstIndex: segments.firstIndex };
}

describe('live spool trimming (chunk files deleted while the event runs)', () => {
  let dir: string;
  let tags: FlvTag[];
  let pushed: string[];
  const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);
  // 1 s segments, 3 s chunks; the output keeps 6 s, the preview 4 s, plus a 1 s margin: 7 s kept of 24 s.
  const output = { outputId: 'out', name: 'o', assetId: 'a', manifestName: 'rec', archiveWindowSec: 6, createdMs: 0 };
  const options = (eventId: string, extra: Partial<LiveEventPipelineOptions> = {}): Omit<LiveEventPipelineOptions, 'runId'> => ({
    eventId,
    spoolDir: dir,
    targetSegmentSec: 1,
    log,
    now: () => t0,
    spool: { chunkSec: 3, marginSec: 1, previewWindowSec: 4 },
    ...extra,
  });

  before(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'live-trim-'));
    tags = flvTags(24, { gopFrames: 25 });
    pushed = videoHashes(tags);
  });
  after(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('deletes whole chunks older than the longest window and margin; the windows, reads across chunks and the archive stay whole', async () => {
    const pipeline = new LiveEventPipeline({ ...options('trim'), runId: 'run1' });
    pipeline.startOutput(output, 0);
    const sink = pipeline.attach();
    // Pushed in halves: by the middle, chunks are already gone.
    const half = tags.findIndex((t) => t.timestampMs >= 12_000);
    for (const tag of tags.slice(0, half)) sink.onTag(tag);
    await pipeline.flushed();
    const middle = await spoolBytes(pipeline.runDir);
    assert.ok(!middle.files.includes('video.mp4'), `the first chunk is deleted by 12 s: ${middle.files.join(' ')}`);
    // A request that got the presentation of this moment and reads a segment only after it slid out of everything.
    const stale = pipeline.presentation({ fromMs: 0, windowSec: 4, live: true });
    for (const tag of tags.slice(half)) sink.onTag(tag);
    await pipeline.end();

    // Chunks start every 3 s (segments 0, 3, …, 21); the output's 6 s window plus the 1 s margin starts at segment
    // 17, so the chunks of segments 15–17, 18–20 and 21–23 stay.
    const { presentation: whole } = pipeline.presentation({ fromMs: 0, windowSec: 3600, live: true });
    const video = whole.tracks[0];
    assert.equal(video.segments.firstIndex, 17, 'segments before the trim floor are never listed again');
    const offsets = await listChunks(pipeline.runDir, 'video');
    const videoTrack = pipeline.tracks[0];
    assert.deepEqual(
      offsets,
      [15, 18, 21].map((i) => videoTrack.segmentList.fileRange(i).start),
    );
    const disk = await spoolBytes(pipeline.runDir);
    assert.deepEqual(disk.files.filter((f) => f.startsWith('video')).length, 6, `three chunks and their journals: ${disk.files.join(' ')}`);
    const lastVideo = videoTrack.segmentList.fileRange(23).end;
    const keptVideo = lastVideo - videoTrack.segmentList.fileRange(15).start;
    const videoFiles = disk.files.filter((f) => f.startsWith('video') && f.endsWith('.mp4'));
    let videoDisk = 0;
    for (const f of videoFiles) videoDisk += (await fsp.stat(path.join(pipeline.runDir, f))).size;
    assert.equal(videoDisk, keptVideo, 'on disk: exactly the kept chunks');
    assert.ok(videoDisk < lastVideo * 0.5, `${videoDisk} bytes on disk of ${lastVideo} written`);

    // The preview's window and the output's are read from the chunks frame for frame.
    for (const playback of [pipeline.presentation({ fromMs: 0, windowSec: 4, live: true }), pipeline.outputPlayback('out')]) {
      const { hashes, firstFrame } = await listedVideoHashes(playback);
      assert.deepEqual(hashes, pushed.slice(firstFrame, firstFrame + hashes.length));
    }

    // A read across a chunk boundary joins the two files; a read of a deleted chunk is a 410, not other bytes.
    const { location } = pipeline.presentation({ fromMs: 0, windowSec: 4, live: true });
    const boundary = offsets[1];
    const across = Buffer.alloc(64);
    assert.equal(await location.store.readInto(location.container, `${location.prefix}/video.mp4`, boundary - 32, across), 64);
    const left = await fsp.readFile(path.join(pipeline.runDir, `video.${offsets[0]}.mp4`));
    const right = await fsp.readFile(path.join(pipeline.runDir, `video.${offsets[1]}.mp4`));
    assert.deepEqual(across, Buffer.concat([left.subarray(left.length - 32), right.subarray(0, 32)]));
    const streamed: Buffer[] = [];
    for await (const c of await location.store.read(location.container, `${location.prefix}/video.mp4`, { offset: boundary - 32, length: 64 }))
      streamed.push(c as Buffer);
    assert.deepEqual(Buffer.concat(streamed), across);
    await assert.rejects(
      location.store.readInto(location.container, `${location.prefix}/video.mp4`, 100, Buffer.alloc(16)),
      (err: Error & { status?: number }) => {
        assert.equal(err.status, 410);
        assert.match(err.message, /slid out/);
        return true;
      },
    );

    // The origin's segment builder on that stale presentation: a 410, not a crash and not other bytes.
    const staleVideo = stale.presentation.tracks[0];
    assert.ok(staleVideo.segments.firstIndex < 15);
    await assert.rejects(
      new FragmentBuilder(8 << 20).build(
        'stale',
        stale.location,
        staleVideo,
        staleVideo.segments.startTicks[0],
        outputFormat('m3u8-cmaf'),
        stale.presentation.files.get(staleVideo.sourceFile)!.etag,
      ),
      (err: Error & { status?: number }) => err.status === 410,
    );

    // The archive holds the output's whole window (6 s), as VOD.
    const store = new LocalBlobStore({ path: path.join(dir, 'store-trim'), allowedRoots: [dir] });
    await store.checkAccess();
    await store.createContainer('assets');
    await pipeline.finishOutput('out', { store, container: 'assets', prefix: 'asset' });
    const archive = path.join(dir, 'store-trim', 'assets', 'asset', 'rec_video.mp4');
    const index = await readIndex(archive);
    const track = index.tracks[0];
    const run = track.samples.run(0, track.samples.count);
    const bytes = await fsp.readFile(archive);
    const archived = Array.from({ length: run.count }, (_, i) => sha(bytes.subarray(run.offsets[i], run.offsets[i] + run.sizes[i])));
    assert.equal(archived.length, 6 * 25);
    assert.deepEqual(archived, pushed.slice(-150));
    await store.close();
    await pipeline.removeSpool();
  });

  it('adopts a trimmed run after a restart: numbering, windows and the archive continue; chunks a crash left half deleted go', async () => {
    const first = new LiveEventPipeline({ ...options('adopt'), runId: 'run1' });
    first.startOutput(output, t0 + 500);
    const sink = first.attach();
    for (const tag of tags) sink.onTag(tag);
    await first.close();
    const runDir = first.runDir;
    const chunks = await listChunks(runDir, 'video');
    assert.equal(chunks.length, 3);
    // A crash while the oldest video chunk was being deleted: its journal is gone, its media not yet. And a new
    // chunk was started but its first segment never journaled.
    await fsp.rm(path.join(runDir, `video.${chunks[0]}.idx`));
    const end = first.tracks[0].segmentList.fileRange(23).end;
    await fsp.writeFile(path.join(runDir, `video.${end}.mp4`), Buffer.from([0, 0, 0, 16, 0x6d, 0x6f, 0x6f, 0x66]));

    const second = await LiveEventPipeline.adopt(options('adopt'));
    assert.ok(second);
    assert.deepEqual(await listChunks(runDir, 'video'), chunks.slice(1), 'the half-deleted and the unjournaled chunks are deleted');
    assert.equal(second.startOutput(output, t0 + 99_000), t0 + 500, 'the output keeps its recording start');
    // Video now starts at segment 18 (its chunk of 15–17 went): every track is served from there.
    const adopted = second.presentation({ fromMs: 0, windowSec: 3600, live: true });
    assert.deepEqual(
      adopted.presentation.tracks.map((t) => [t.name, t.segments.firstIndex, t.segments.firstIndex + t.segments.length]),
      [
        ['video', 18, 24],
        ['audio', 18, 24],
      ],
    );
    const before = await listedVideoHashes(adopted);
    assert.equal(before.firstFrame, 18 * 25);
    assert.deepEqual(before.hashes, pushed.slice(before.firstFrame, before.firstFrame + before.hashes.length));

    const again = second.attach();
    for (const tag of tags) again.onTag(tag);
    await second.end();
    const { presentation } = second.presentation({ fromMs: 0, windowSec: 3600, live: true });
    assert.deepEqual(
      presentation.tracks[0].segments.toArray().map((s) => [s.index, s.startTicks / 90000]),
      Array.from({ length: 7 }, (_, i) => [41 + i, 41 + i]),
      'segment numbers and times continue; the run keeps its trimming',
    );
    assert.deepEqual(second.discontinuities, [24]);
    const disk = await spoolBytes(runDir);
    assert.ok(disk.files.filter((f) => f.startsWith('video') && f.endsWith('.mp4')).length <= 4, disk.files.join(' '));

    const store = new LocalBlobStore({ path: path.join(dir, 'store-adopt'), allowedRoots: [dir] });
    await store.checkAccess();
    await store.createContainer('assets');
    await second.finishOutput('out', { store, container: 'assets', prefix: 'asset' });
    const archive = path.join(dir, 'store-adopt', 'assets', 'asset', 'rec_video.mp4');
    const track = (await readIndex(archive)).tracks[0];
    const run = track.samples.run(0, track.samples.count);
    const bytes = await fsp.readFile(archive);
    assert.deepEqual(
      Array.from({ length: run.count }, (_, i) => sha(bytes.subarray(run.offsets[i], run.offsets[i] + run.sizes[i]))),
      pushed.slice(-150),
      'the archive holds the output’s window of the second push',
    );
    await store.close();

    // A second restart reads the chunks the adopted run wrote and trimmed.
    await second.close();
    const third = await LiveEventPipeline.adopt(options('adopt'));
    assert.ok(third);
    const last = await listedVideoHashes(third.presentation({ fromMs: 0, windowSec: 3600, live: true }));
    assert.equal(last.firstIndex, 41);
    assert.deepEqual(last.hashes, pushed.slice(-last.hashes.length));
    await third.removeSpool();
  });

  it('LowLatency: a segment’s parts never span two chunks', async () => {
    const pipeline = new LiveEventPipeline({
      ...options('ll', { partTargetSec: 0.5, spool: { chunkSec: 2, marginSec: 1, previewWindowSec: 3 } }),
      runId: 'run1',
    });
    const sink = pipeline.attach();
    for (const tag of tags) sink.onTag(tag);
    await pipeline.end();
    for (const t of pipeline.tracks) {
      const offsets = await listChunks(pipeline.runDir, t.name);
      assert.ok(offsets.length >= 2, `${t.name}: ${offsets.join(' ')}`);
      const chunkOf = (at: number) => offsets.filter((o) => o <= at).pop();
      const { presentation } = pipeline.presentation({ fromMs: 0, windowSec: 3600, live: true });
      const listed = presentation.tracks.find((p) => p.name === t.name)!.segments;
      for (let k = listed.firstIndex; k < listed.firstIndex + listed.length; k++) {
        const { start, end } = t.segmentList.fileRange(k);
        assert.equal(chunkOf(start), chunkOf(end - 1), `${t.name} segment ${k}`);
      }
    }
    const { hashes, firstFrame } = await listedVideoHashes(pipeline.presentation({ fromMs: 0, windowSec: 3, live: true }));
    assert.deepEqual(hashes, pushed.slice(firstFrame, firstFrame + hashes.length));
    await pipeline.removeSpool();
  });
});
