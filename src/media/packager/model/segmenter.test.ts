import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { makeAc3Mp4, makeFragmentedMp4, makeH264BFramesMp4, makeRenditionSet } from '../../../../test/fixtures/packager-media.js';
import { readMp4Index } from '../parse/mp4/read-mp4-index.js';
import type { TrackIndex, TrackKind } from './media-index.js';
import { allSamples, ArraySampleTable } from './sample-table.js';
import type { TrackSegment } from './segment.js';
import { rescaleCeil, segmentTracks as segmentLists } from './segmenter.js';
import { SegmentList } from './segment.js';

/** The segmenter's lists as objects, which these tests compare and walk. */
const segmentTracks = (tracks: TrackIndex[], target: number): TrackSegment[][] => segmentLists(tracks, target).map((l) => l.toArray());
import { peakSegmentBitrateBps } from './presentation.js';

async function tracksOf(file: string): Promise<TrackIndex[]> {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const index = await readMp4Index(bytes.length, (o, l) => Promise.resolve(bytes.subarray(o, o + l)));
  return index.tracks;
}

/** A track built by hand: `durations` per sample, sync samples listed (all when omitted). */
function track(kind: TrackKind, timescale: number, durations: number[], syncs?: number[], trackId = 1, sizes?: number[]): TrackIndex {
  const n = durations.length;
  const dts = new Float64Array(n);
  for (let i = 1; i < n; i++) dts[i] = dts[i - 1] + durations[i - 1];
  const isSync = new Uint8Array(n);
  if (syncs === undefined) isSync.fill(1);
  else for (const s of syncs) isSync[s] = 1;
  return {
    trackId,
    kind,
    fourcc: 'test',
    codecs: 'test',
    timescale,
    durationTicks: durations.reduce((a, b) => a + b, 0),
    language: 'und',
    bitrateBps: 0,
    maxBitrateBps: 0,
    sampleEntry: new Uint8Array(0),
    editMediaTimeTicks: 0,
    video: undefined,
    audio: undefined,
    samples: new ArraySampleTable({
      count: n,
      offsets: new Float64Array(n),
      sizes: sizes ? Uint32Array.from(sizes) : new Uint32Array(n),
      dts,
      durations: Uint32Array.from(durations),
      ctsOffsets: new Int32Array(n),
      isSync,
    }),
  };
}

/** Shared invariants: aligned numbering, no empty segment, every sample exactly once, durations add up. */
function assertWellFormed(tracks: TrackIndex[], segmented: TrackSegment[][]): void {
  assert.equal(segmented.length, tracks.length);
  const n = segmented[0].length;
  assert.ok(n > 0);
  segmented.forEach((segments, t) => {
    const s = allSamples(tracks[t].samples);
    assert.equal(segments.length, n, `track ${t}: same segment count as track 0`);
    let next = 0;
    let total = 0;
    segments.forEach((seg, i) => {
      assert.equal(seg.index, i);
      assert.equal(seg.firstSample, next, `track ${t} segment ${i} starts where the previous ended`);
      assert.ok(seg.sampleCount > 0, `track ${t} segment ${i} is not empty`);
      assert.equal(seg.startTicks, s.dts[seg.firstSample]);
      let d = 0;
      for (let j = seg.firstSample; j < seg.firstSample + seg.sampleCount; j++) d += s.durations[j];
      assert.equal(seg.durationTicks, d);
      if (tracks[t].kind === 'video' && i > 0) assert.equal(s.isSync[seg.firstSample], 1, `track ${t} segment ${i} starts on a sync sample`);
      next += seg.sampleCount;
      total += seg.durationTicks;
    });
    assert.equal(next, s.count, `track ${t}: every sample covered`);
    assert.equal(total, tracks[t].durationTicks);
  });
}

const sec = (ticks: number, track: TrackIndex) => ticks / track.timescale;

describe('segmentTracks on real media', () => {
  it('two renditions with aligned GOPs + audio: same boundaries, keyframe starts, audio within one frame', async () => {
    const [hi, lo] = makeRenditionSet();
    const [v1, a1] = await tracksOf(hi);
    const [v2] = await tracksOf(lo);
    const tracks = [v1, a1, v2];
    const segmented = segmentTracks(tracks, 4);
    assertWellFormed(tracks, segmented);
    const [sv1, sa1, sv2] = segmented;
    // GOPs of 2 s, target 4 s: boundaries at 0, 4, 8 s (the last segment holds the remaining 2 s).
    assert.deepEqual(
      sv1.map((s) => sec(s.startTicks, v1)),
      [0, 4, 8],
    );
    assert.deepEqual(
      sv2.map((s) => (s.startTicks * v1.timescale) / v2.timescale),
      sv1.map((s) => s.startTicks),
    );
    assert.deepEqual(
      sv2.map((s) => s.firstSample),
      sv1.map((s) => s.firstSample),
      'aligned GOPs → same frame numbers',
    );
    const audioFrameSec = 1024 / a1.timescale;
    sa1.forEach((s, i) => {
      const gap = sec(s.startTicks, a1) - sec(sv1[i].startTicks, v1);
      assert.ok(gap >= 0 && gap < audioFrameSec, `segment ${i}: audio starts ${gap}s after video`);
    });
    for (const s of sv1.slice(0, -1)) assert.equal(sec(s.durationTicks, v1), 4);
  });

  it('H.264 with B-frames, 1 s GOPs, target 2 s: segments of 2 s on keyframes (moov and fragmented alike)', async () => {
    for (const file of [makeH264BFramesMp4(), makeFragmentedMp4()]) {
      const tracks = await tracksOf(file);
      const segmented = segmentTracks(tracks, 2);
      assertWellFormed(tracks, segmented);
      assert.deepEqual(
        segmented[0].map((s) => sec(s.startTicks, tracks[0])),
        [0, 2],
      );
      assert.equal(segmented[0].length, segmented[1].length);
    }
  });

  it('audio only (AC-3): cut on a 2 s grid, each segment within one frame of the grid', async () => {
    const tracks = await tracksOf(makeAc3Mp4());
    const [a] = tracks;
    const segmented = segmentTracks(tracks, 2);
    assertWellFormed(tracks, segmented);
    const frameSec = 1536 / a.timescale;
    assert.equal(segmented[0].length, 3);
    segmented[0].forEach((s, i) => {
      const start = sec(s.startTicks, a);
      assert.ok(start >= 2 * i && start < 2 * i + frameSec, `segment ${i} starts at ${start}`);
    });
  });
});

describe('segmentTracks rules', () => {
  const gopOf = (n: number, gop: number) => Array.from({ length: Math.ceil(n / gop) }, (_, i) => i * gop);

  it('a new segment starts at the first keyframe at least the target after the previous boundary', () => {
    // 25 fps, keyframes every 30 frames (1.2 s), target 2 s → boundaries at 0, 2.4, 4.8, 7.2 s.
    const v = track('video', 25, new Array(200).fill(1), gopOf(200, 30));
    const [segments] = segmentTracks([v], 2);
    assert.deepEqual(
      segments.map((s) => s.firstSample),
      [0, 60, 120, 180],
    );
    assert.deepEqual(
      segments.map((s) => s.sampleCount),
      [60, 60, 60, 20],
    );
  });

  it('a second video track with other GOPs cuts at its first keyframe at or after each boundary', () => {
    const v1 = track('video', 90000, new Array(100).fill(3600), gopOf(100, 25));
    const v2 = track('video', 30000, new Array(120).fill(1001), [0, 31, 65, 95], 2); // 29.97 fps
    const [s1, s2] = segmentTracks([v1, v2], 1);
    assertWellFormed([v1, v2], [s1, s2]);
    assert.deepEqual(
      s1.map((s) => s.firstSample),
      [0, 25, 50, 75],
    );
    assert.deepEqual(
      s2.map((s) => s.firstSample),
      [0, 31, 65, 95],
    );
  });

  it('a sparse text track follows the video boundaries: a cue spanning a boundary is in both segments, a gap is an empty segment', () => {
    const v = track('video', 1000, new Array(10).fill(1000), gopOf(10, 2)); // keyframes every 2 s, 10 s
    // Samples at 0–3, 3–9 and 9–10 s.
    const text = track('text', 1000, [3000, 6000, 1000], undefined, 3);
    const segmented = segmentTracks([v, text], 2);
    assert.deepEqual(
      segmented[0].map((s) => s.startTicks),
      [0, 2000, 4000, 6000, 8000],
    );
    assert.deepEqual(
      segmented[1].map((s) => [s.startTicks, s.durationTicks, s.firstSample, s.sampleCount]),
      [
        [0, 2000, 0, 1],
        [2000, 2000, 0, 2],
        [4000, 2000, 1, 1],
        [6000, 2000, 1, 1],
        [8000, 2000, 1, 2],
      ],
    );
    // A text track that ends early: the segments after its end list no sample but still cover the grid.
    const short = track('text', 90000, [90000], undefined, 4);
    assert.deepEqual(
      segmentTracks([v, short], 2)[1].map((s) => [s.startTicks, s.durationTicks, s.sampleCount]),
      [
        [0, 180000, 1],
        [180000, 180000, 0],
        [360000, 180000, 0],
        [540000, 180000, 0],
        [720000, 180000, 0],
      ],
    );
  });

  it('the first segment starts at sample 0 even when it is not a sync sample; a track ends early → last boundary dropped', () => {
    const v = track('video', 1000, new Array(10).fill(1000), [3, 6, 9]);
    const audio = track('audio', 48000, new Array(Math.floor((8 * 48000) / 1024)).fill(1024), undefined, 2); // 8 s only
    const segmented = segmentTracks([v, audio], 3);
    assertWellFormed([v, audio], segmented);
    assert.deepEqual(
      segmented[0].map((s) => s.firstSample),
      [0, 3, 6],
      'boundary at 9 s dropped: no audio there',
    );
  });

  it('with no video the first audio track is the reference, on a grid without drift', () => {
    const a = track('audio', 44100, new Array(1000).fill(1024)); // 23.2 s
    const b = track('audio', 48000, new Array(1088).fill(1024), undefined, 2); // 23.2 s
    const segmented = segmentTracks([a, b], 6);
    assertWellFormed([a, b], segmented);
    assert.deepEqual(
      segmented[0].map((s) => Math.floor(s.startTicks / 44100 / 6)),
      [0, 1, 2, 3],
      'one grid step per segment',
    );
    segmented[1].forEach((s, i) => {
      const gap = sec(s.startTicks, b) - sec(segmented[0][i].startTicks, a);
      assert.ok(gap >= 0 && gap < 1024 / 48000);
    });
  });

  it('rejects a track without samples and a non-positive target; no tracks → no segments', () => {
    assert.deepEqual(segmentTracks([], 6), []);
    assert.throws(() => segmentTracks([track('video', 1000, [])], 6), RangeError);
    assert.throws(() => segmentTracks([track('video', 1000, [1])], 0), RangeError);
  });

  it('rescaleCeil is exact, including beyond 2^53', () => {
    assert.equal(rescaleCeil(3600, 90000, 48000), 1920);
    assert.equal(rescaleCeil(1, 3, 2), 1);
    assert.equal(rescaleCeil(7, 10, 3), 3);
    assert.equal(rescaleCeil(0, 7, 9), 0);
    const big = 2 ** 52 + 12345;
    assert.equal(BigInt(rescaleCeil(big, 10_000_000, 90000)), (BigInt(big) * 90000n + 9_999_999n) / 10_000_000n);
    const big2 = 2 ** 50 + 3; // product beyond 2^53, result well within
    assert.equal(BigInt(rescaleCeil(big2, 90000, 48000)), (BigInt(big2) * 48000n + 89999n) / 90000n);
  });

  // Timing belongs to bench/; this checks a 2-hour input is cut correctly.
  it('cuts 2 hours of video + audio', (t) => {
    const v = track('video', 90000, new Array(180_000).fill(3600), gopOf(180_000, 50));
    const a = track('audio', 48000, new Array(337_500).fill(1024), undefined, 2);
    const start = performance.now();
    const segmented = segmentTracks([v, a], 6);
    t.diagnostic(`segmented in ${(performance.now() - start).toFixed(1)} ms`);
    assert.equal(segmented[0].length, 1200);
    assert.equal(segmented[1].length, 1200);
  });
});

describe('peakSegmentBitrateBps', () => {
  it('is the bitrate of the heaviest segment, not the average', () => {
    // 1 s segments at timescale 1000 (4 samples of 250 ms); the second segment carries a 10× burst.
    const t = track('video', 1000, Array(12).fill(250), [0, 4, 8], 1, [100, 100, 100, 100, 1000, 1000, 1000, 1000, 100, 100, 100, 100]);
    const [segments] = segmentTracks([t], 1);
    assert.equal(segments.length, 3);
    assert.equal(peakSegmentBitrateBps(t, SegmentList.from(segments)), 4000 * 8);
  });
});
