import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../../shared/log.js';
import { outputFormat, readMp4Index, isSourceRange, type Fmp4SegmentMuxer, type PresentationTrack, type TrackSegment } from '../../packager/index.js';
import { LocalBlobStore } from '../../../storage/drivers/local.js';
import type { FlvTag } from '../ingest/ingest-contracts.js';
import type { AssetLocation } from '../../origin/presentation-builder.js';
import { flvTags } from '../../../../test/support/live-pipeline.js';
import { LiveEventPipeline } from './live-event-pipeline.js';

const log = createLogger('silent');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const muxer = outputFormat('m3u8-cmaf').segments as Fmp4SegmentMuxer;

/** The sample bytes the fMP4 muxer would put in the `mdat` of `range`, read from the spool. */
async function payload(loc: AssetLocation, track: PresentationTrack, range: TrackSegment): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (const part of muxer.plan(track.track, range).parts) {
    if (!isSourceRange(part)) continue;
    const b = Buffer.alloc(part.length);
    assert.equal(await loc.store.readInto(loc.container, `${loc.prefix}/${track.sourceFile}`, part.offset, b), part.length);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

const asRange = (p: { segmentIndex: number; firstSample: number; sampleCount: number; startTicks: number; durationTicks: number }): TrackSegment => ({
  index: p.segmentIndex,
  firstSample: p.firstSample,
  sampleCount: p.sampleCount,
  startTicks: p.startTicks,
  durationTicks: p.durationTicks,
});

describe('LiveEventPipeline with parts (LowLatency)', () => {
  let dir: string;
  let tags: FlvTag[];
  const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);

  before(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'live-parts-'));
    tags = flvTags(6, { gopFrames: 25 });
  });
  after(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('writes the open segment in parts of at most the part target, which cover each segment exactly', async () => {
    const pipeline = new LiveEventPipeline({ eventId: 'll1', runId: 'run1', spoolDir: dir, targetSegmentSec: 1, partTargetSec: 0.5, log, now: () => t0 });
    assert.throws(
      () => new LiveEventPipeline({ eventId: 'x', runId: 'r', spoolDir: dir, targetSegmentSec: 1, partTargetSec: 2, log }),
      /partTargetSec must be positive and at most the segment target/,
    );
    pipeline.startOutput({ outputId: 'out', name: 'o', assetId: 'a', manifestName: 'll', archiveWindowSec: 3600, createdMs: 0 });
    const sink = pipeline.attach();
    // Up to 3.56 s: segments 0–2 closed, segment 3 open with its first part (3–3.48 s) written.
    const cut = tags.findIndex((t) => t.timestampMs > 3560);
    for (const tag of tags.slice(0, cut)) sink.onTag(tag);
    await pipeline.flushed();
    const open = pipeline.presentation({ fromMs: 0, windowSec: 3600, live: true });
    assert.equal(open.presentation.live?.partTargetSec, 0.5);
    const [video, audio] = open.presentation.tracks;
    assert.equal(video.segments.length, 3);
    const openParts = video.parts!.filter((p) => p.segmentIndex === 3);
    assert.deepEqual(
      openParts.map((p) => [p.partIndex, p.segmentStartTicks / 90000, p.startTicks / 90000, p.durationTicks / 90000, p.sampleCount, p.independent]),
      [[0, 3, 3, 0.48, 12, true]],
    );
    assert.ok(audio.parts!.some((p) => p.segmentIndex === 3 && p.partIndex === 0));
    // The open segment's samples are in the sample table already: the part is served like a segment.
    const firstPart = await payload(open.location, video, asRange(openParts[0]));
    assert.ok(firstPart.byteLength > 0);

    // More media: `nextUpdate` resolves once the next part is written, and the presentation's version moves.
    const updated = open.nextUpdate!();
    for (const tag of tags.slice(cut)) sink.onTag(tag);
    await updated;
    await pipeline.end();
    const done = pipeline.presentation({ fromMs: 0, windowSec: 3600, live: true });
    assert.notEqual(done.presentation.etag, open.presentation.etag);
    await done.nextUpdate!(); // at the end it never waits

    const pushedVideo = tags.filter((t) => t.type === 9 && t.data[1] === 1).map((t) => sha(t.data.subarray(5)));
    for (const track of done.presentation.tracks) {
      const segments = track.segments.toArray();
      assert.equal(segments.length, 6, track.name);
      const parts = track.parts!;
      // Parts of the last three segments are listed (no segment is open: the end closed the last one).
      assert.deepEqual([...new Set(parts.map((p) => p.segmentIndex))], [3, 4, 5], track.name);
      const frameTicks = track.kind === 'video' ? 3600 : 1024;
      for (const s of segments.filter((s) => s.index >= 3)) {
        const own = parts.filter((p) => p.segmentIndex === s.index);
        assert.deepEqual(
          own.map((p) => p.partIndex),
          own.map((_, i) => i),
        );
        let next = s.firstSample;
        let ticks = s.startTicks;
        for (const p of own) {
          assert.equal(p.firstSample, next, `${track.name} ${s.index}.${p.partIndex} follows on`);
          assert.equal(p.startTicks, ticks);
          assert.equal(p.segmentStartTicks, s.startTicks);
          assert.ok(p.durationTicks <= 0.5 * track.track.timescale + frameTicks, `${track.name} part ${s.index}.${p.partIndex}: ${p.durationTicks}`);
          next += p.sampleCount;
          ticks += p.durationTicks;
        }
        assert.equal(next, s.firstSample + s.sampleCount, `${track.name} parts of segment ${s.index} hold its samples`);
        assert.equal(ticks, s.startTicks + s.durationTicks);
        assert.equal(own[0].independent, true);
        // Sample hashes: the parts' samples, in order, are the segment's.
        const whole = await payload(done.location, track, s);
        const pieces = await Promise.all(own.map((p) => payload(done.location, track, asRange(p))));
        assert.equal(sha(Buffer.concat(pieces)), sha(whole), `${track.name} segment ${s.index}`);
        if (track.kind === 'video') {
          // 1 s GOPs at 25 fps in parts of at most 0.5 s: 12 + 12 + 1 frames.
          assert.deepEqual(
            own.map((p) => p.sampleCount),
            [12, 12, 1],
          );
          assert.ok(own.slice(1).every((p) => !p.independent));
          assert.deepEqual(
            own.map((p) => p.endsSegment === true),
            [false, false, true],
          );
        }
      }
      if (track.kind === 'audio') {
        // Audio parts end where the video's do (within one AAC frame).
        const videoParts = done.presentation.tracks[0].parts!;
        for (const p of parts) {
          const v = videoParts.find((x) => x.segmentIndex === p.segmentIndex && x.partIndex === p.partIndex);
          assert.ok(v, `audio part ${p.segmentIndex}.${p.partIndex} has a video counterpart`);
          assert.ok(
            Math.abs(p.startTicks / 48000 - v.startTicks / 90000) < 1024 / 48000,
            `audio part ${p.segmentIndex}.${p.partIndex} starts with the video's`,
          );
        }
      }
    }

    // The spool holds every pushed frame once, in order, though written part by part.
    const videoFile = path.join(dir, 'll1', 'run1', 'video.mp4');
    const bytes = await fsp.readFile(videoFile);
    const index = await readMp4Index(bytes.byteLength, async (offset, length) => bytes.subarray(offset, offset + length));
    const run = index.tracks[0].samples.run(0, index.tracks[0].samples.count);
    assert.deepEqual(
      Array.from({ length: run.count }, (_, i) => sha(bytes.subarray(run.offsets[i], run.offsets[i] + run.sizes[i]))),
      pushedVideo,
    );

    // An independent part decodes on its own after the init segment.
    const video2 = done.presentation.tracks[0];
    const p0 = video2.parts!.find((p) => p.segmentIndex === 4 && p.partIndex === 0)!;
    const plan = muxer.plan(video2.track, asRange(p0));
    const pieces: Uint8Array[] = [muxer.init(video2.track)];
    let at = 0;
    const media = await payload(done.location, video2, asRange(p0));
    for (const part of plan.parts) {
      if (!isSourceRange(part)) pieces.push(part);
      else {
        pieces.push(media.subarray(at, at + part.length));
        at += part.length;
      }
    }
    const file = path.join(dir, 'part.mp4');
    await fsp.writeFile(file, pieces);
    const probe = JSON.parse(
      execFileSync('ffprobe', [
        '-v',
        'error',
        '-count_frames',
        '-select_streams',
        'v:0',
        '-show_entries',
        'stream=nb_read_frames',
        '-of',
        'json',
        file,
      ]).toString(),
    );
    assert.equal(probe.streams[0].nb_read_frames, String(p0.sampleCount));

    // The archive of an output (segments rebuilt from the parts' samples) holds the same frames.
    const store = new LocalBlobStore({ path: path.join(dir, 'store'), allowedRoots: [dir] });
    await store.checkAccess();
    await store.createContainer('assets');
    await pipeline.finishOutput('out', { store, container: 'assets', prefix: 'll' });
    const archive = await fsp.readFile(path.join(dir, 'store', 'assets', 'll', 'll_video.mp4'));
    const archived = await readMp4Index(archive.byteLength, async (offset, length) => archive.subarray(offset, offset + length));
    const ar = archived.tracks[0].samples.run(0, archived.tracks[0].samples.count);
    assert.deepEqual(
      Array.from({ length: ar.count }, (_, i) => sha(archive.subarray(ar.offsets[i], ar.offsets[i] + ar.sizes[i]))),
      pushedVideo,
    );
    await store.close();
    await pipeline.removeSpool();
  });

  it('writes no parts for Default events', async () => {
    const pipeline = new LiveEventPipeline({ eventId: 'll2', runId: 'run1', spoolDir: dir, targetSegmentSec: 1, log, now: () => t0 });
    const sink = pipeline.attach();
    for (const tag of tags) sink.onTag(tag);
    await pipeline.end();
    const { presentation } = pipeline.presentation({ fromMs: 0, windowSec: 3600, live: true });
    assert.equal(presentation.live?.partTargetSec, undefined);
    assert.ok(presentation.tracks.every((t) => t.parts === undefined));
    assert.equal(presentation.tracks[0].segments.length, 6);
    await pipeline.removeSpool();
  });
});
