import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../../shared/log.js';
import { LocalBlobStore } from '../../../storage/drivers/local.js';
import type { FlvTag } from '../ingest/ingest-contracts.js';
import { flvTags, readIndex } from '../../../../test/support/live-pipeline.js';
import { LiveEventPipeline, type LiveEventPipelineOptions } from './live-event-pipeline.js';

const log = createLogger('silent');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const videoHashes = (tags: FlvTag[]) => tags.filter((t) => t.type === 9 && t.data[1] === 1).map((t) => sha(t.data.subarray(5)));
const audioHashes = (tags: FlvTag[]) => tags.filter((t) => t.type === 8 && t.data[1] === 1).map((t) => sha(t.data.subarray(2)));

/** sha256 of every sample of the one track of an MP4 file, in order, with its decode times. */
async function fileSamples(file: string): Promise<{ hashes: string[]; dts: number[] }> {
  const track = (await readIndex(file)).tracks[0];
  const run = track.samples.run(0, track.samples.count);
  const bytes = await fsp.readFile(file);
  return {
    hashes: Array.from({ length: run.count }, (_, i) => sha(bytes.subarray(run.offsets[i], run.offsets[i] + run.sizes[i]))),
    dts: Array.from(run.dts),
  };
}

describe('LiveEventPipeline.adopt (a restart continues the run)', () => {
  let dir: string;
  let tags: FlvTag[];
  const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);
  const output = { outputId: 'out', name: 'o', assetId: 'a', manifestName: 'rec', archiveWindowSec: 3600, createdMs: 0 };

  before(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'live-adopt-'));
    tags = flvTags(4, { gopFrames: 25 });
  });
  after(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  for (const lowLatency of [false, true]) {
    it(`continues the timeline, the segment numbers and the archive of the run before the restart${lowLatency ? ' (LowLatency parts)' : ''}`, async () => {
      const eventId = lowLatency ? 'll' : 'plain';
      const options: Omit<LiveEventPipelineOptions, 'runId'> = {
        eventId,
        spoolDir: dir,
        targetSegmentSec: 1,
        ...(lowLatency ? { partTargetSec: 0.5 } : {}),
        log,
        now: () => t0,
      };
      assert.equal(await LiveEventPipeline.adopt(options), undefined, 'no run to adopt yet');
      const first = new LiveEventPipeline({ ...options, runId: 'run1' });
      assert.equal(first.startOutput(output, t0 + 500), t0 + 500);
      const sink = first.attach();
      for (const tag of tags) sink.onTag(tag);
      // Process shutdown: the pipeline closes, the files stay.
      await first.close();
      const before = first.presentation({ fromMs: 0, windowSec: 3600, live: true }).presentation;
      const segmentsBefore = before.tracks[0].segments.length;
      assert.equal(segmentsBefore, 4);

      const second = await LiveEventPipeline.adopt(options);
      assert.ok(second);
      assert.equal(second.runId, 'run1');
      assert.equal(second.availabilityStartMs, t0);
      assert.equal(second.startOutput(output, t0 + 60_000), t0 + 500, 'the output keeps its recording start');
      // Before any encoder reconnects, players get what the run recorded before the restart.
      const adopted = second.presentation({ fromMs: 0, windowSec: 3600, live: true }).presentation;
      assert.deepEqual(
        adopted.tracks.map((t) => [t.name, t.segments.length]),
        [
          ['video', segmentsBefore],
          ['audio', segmentsBefore],
        ],
      );
      assert.equal(adopted.tracks[0].bitrateBps, before.tracks[0].bitrateBps, 'URL bitrates stay');
      const again = second.attach();
      for (const tag of tags) again.onTag(tag);
      await second.end();
      const { presentation } = second.presentation({ fromMs: 0, windowSec: 3600, live: true });
      const [video, audio] = presentation.tracks;
      assert.deepEqual(
        video.segments.toArray().map((s) => [s.index, s.startTicks / 90000]),
        Array.from({ length: 8 }, (_, i) => [i, i]),
      );
      assert.equal(audio.segments.length, 8);
      assert.deepEqual(second.discontinuities, [segmentsBefore]);

      // The archive holds both pushes, in order, on one rising timeline.
      const store = new LocalBlobStore({ path: path.join(dir, `store-${eventId}`), allowedRoots: [dir] });
      await store.checkAccess();
      await store.createContainer('assets');
      await second.finishOutput('out', { store, container: 'assets', prefix: 'asset' });
      const archived = (name: string) => fileSamples(path.join(dir, `store-${eventId}`, 'assets', 'asset', name));
      const archiveVideo = await archived('rec_video.mp4');
      assert.deepEqual(archiveVideo.hashes, [...videoHashes(tags), ...videoHashes(tags)]);
      for (let i = 1; i < archiveVideo.dts.length; i++) assert.ok(archiveVideo.dts[i] > archiveVideo.dts[i - 1], `dts rises at sample ${i}`);
      assert.deepEqual((await archived('rec_audio.mp4')).hashes, [...audioHashes(tags), ...audioHashes(tags)]);
      // And so does the spool file itself (what the origin serves from).
      assert.deepEqual((await fileSamples(path.join(dir, eventId, 'run1', 'video.mp4'))).hashes, [...videoHashes(tags), ...videoHashes(tags)]);
      await store.close();
      await second.removeSpool();
    });
  }

  it('cuts off a fragment a crash left half written, and a torn journal line', async () => {
    const options = { eventId: 'torn', spoolDir: dir, targetSegmentSec: 1, log, now: () => t0 };
    const first = new LiveEventPipeline({ ...options, runId: 'run1' });
    const sink = first.attach();
    for (const tag of tags) sink.onTag(tag);
    await first.close();
    const runDir = path.join(dir, 'torn', 'run1');
    const video = path.join(runDir, 'video.mp4');
    const { size } = await fsp.stat(video);
    const journal = path.join(runDir, 'video.idx');
    const { size: journalSize } = await fsp.stat(journal);
    // A crash in the middle of the next writes: part of a `moof` in the file, part of its line in the journal.
    await fsp.appendFile(video, Buffer.from([0, 0, 0x10, 0, 0x6d, 0x6f, 0x6f, 0x66, 0, 0, 0]));
    await fsp.appendFile(path.join(runDir, 'video.idx'), '{"i":4,"t":36');

    const second = await LiveEventPipeline.adopt(options);
    assert.ok(second);
    assert.equal((await fsp.stat(video)).size, size, 'the file is cut back to its last complete fragment');
    assert.equal((await fsp.stat(journal)).size, journalSize, 'the journal is cut back to its last complete line');
    assert.equal(second.presentation({ fromMs: 0, windowSec: 3600, live: true }).presentation.tracks[0].segments.length, 4);
    const again = second.attach();
    for (const tag of tags) again.onTag(tag);
    await second.close();
    const spool = await fileSamples(video);
    assert.deepEqual(spool.hashes, [...videoHashes(tags), ...videoHashes(tags)]);

    // Adopted once more (a second restart): the journal names all eight segments and nothing else.
    const third = await LiveEventPipeline.adopt(options);
    assert.ok(third);
    assert.equal(third.presentation({ fromMs: 0, windowSec: 3600, live: true }).presentation.tracks[0].segments.length, 8);
    await third.removeSpool();
  });

  it('keeps only the segments every track closed before the crash', async () => {
    const options = { eventId: 'uneven', spoolDir: dir, targetSegmentSec: 1, log, now: () => t0 };
    const first = new LiveEventPipeline({ ...options, runId: 'run1' });
    const sink = first.attach();
    for (const tag of tags) sink.onTag(tag);
    await first.close();
    // The crash came after video's last segment was journaled but before audio's.
    const runDir = path.join(dir, 'uneven', 'run1');
    const audioJournal = path.join(runDir, 'audio.idx');
    const lines = (await fsp.readFile(audioJournal, 'utf8')).split('\n').filter(Boolean);
    await fsp.writeFile(
      audioJournal,
      lines
        .slice(0, -1)
        .map((l) => `${l}\n`)
        .join(''),
    );

    const second = await LiveEventPipeline.adopt(options);
    assert.ok(second);
    const { presentation } = second.presentation({ fromMs: 0, windowSec: 3600, live: true });
    assert.deepEqual(
      presentation.tracks.map((t) => [t.name, t.segments.length]),
      [
        ['video', 3],
        ['audio', 3],
      ],
    );
    // Both files end with segment 2: video's segment 3 is cut off with audio's, in the journal too.
    assert.equal((await fsp.readFile(path.join(runDir, 'video.idx'), 'utf8')).split('\n').filter(Boolean).length, 3);
    assert.equal((await fileSamples(path.join(runDir, 'video.mp4'))).hashes.length, presentation.tracks[0].track.samples.count);
    assert.equal((await fileSamples(path.join(runDir, 'audio.mp4'))).hashes.length, presentation.tracks[1].track.samples.count);
    assert.deepEqual((await fileSamples(path.join(runDir, 'video.mp4'))).hashes, videoHashes(tags).slice(0, 75));
    await second.removeSpool();
  });
});
