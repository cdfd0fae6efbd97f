import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { box, boxes, fillPlan, loadMuxFixture, md5, probe, readSamples, tempDir } from '../../../../../test/fixtures/mux-media.js';
import { InternalError } from '../../../../shared/errors.js';
import type { TrackIndex } from '../../model/media-index.js';
import { allSamples, ArraySampleTable } from '../../model/sample-table.js';
import type { TrackSegment } from '../../model/segment.js';
import { isSourceRange, type SourceRange } from '../segment-plan.js';
import { buildInitSegment } from './init-segment.js';
import { NON_SYNC_SAMPLE_FLAGS, planMediaSegment, SYNC_SAMPLE_FLAGS } from './media-segment.js';

interface Trun {
  version: number;
  flags: number;
  dataOffset: number;
  firstSampleFlags?: number;
  durations: number[];
  sizes: number[];
  sampleFlags: number[];
  ctsOffsets: number[];
}

interface Fragment {
  sequenceNumber: number;
  tfhdFlags: number;
  trackId: number;
  defaultSampleFlags?: number;
  baseMediaDecodeTime: number;
  trun: Trun;
  moofOffset: number;
  mdatPayloadOffset: number;
}

/** Reads back what the segment's boxes say (one moof, one traf, one trun). */
function readFragment(bytes: Uint8Array): Fragment {
  const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const top = boxes(bytes);
  const moof = top.find((b) => b.type === 'moof')!;
  const mdat = top.find((b) => b.type === 'mdat')!;
  const tfhd = view(box(bytes, 'moof/traf/tfhd').body);
  const tfhdFlags = tfhd.getUint32(0) & 0xffffff;
  const tfdt = view(box(bytes, 'moof/traf/tfdt').body);
  assert.equal(tfdt.getUint8(0), 1, 'tfdt version 1');
  const trunBody = view(box(bytes, 'moof/traf/trun').body);
  const trunFlags = trunBody.getUint32(0) & 0xffffff;
  const version = trunBody.getUint8(0);
  const count = trunBody.getUint32(4);
  let at = 8;
  const trun: Trun = { version, flags: trunFlags, dataOffset: 0, durations: [], sizes: [], sampleFlags: [], ctsOffsets: [] };
  if (trunFlags & 0x1) {
    trun.dataOffset = trunBody.getInt32(at);
    at += 4;
  }
  if (trunFlags & 0x4) {
    trun.firstSampleFlags = trunBody.getUint32(at);
    at += 4;
  }
  for (let i = 0; i < count; i++) {
    if (trunFlags & 0x100) {
      trun.durations.push(trunBody.getUint32(at));
      at += 4;
    }
    if (trunFlags & 0x200) {
      trun.sizes.push(trunBody.getUint32(at));
      at += 4;
    }
    if (trunFlags & 0x400) {
      trun.sampleFlags.push(trunBody.getUint32(at));
      at += 4;
    }
    if (trunFlags & 0x800) {
      trun.ctsOffsets.push(version === 1 ? trunBody.getInt32(at) : trunBody.getUint32(at));
      at += 4;
    }
  }
  assert.equal(at, trunBody.byteLength, 'trun fully read');
  return {
    sequenceNumber: view(box(bytes, 'moof/mfhd').body).getUint32(4),
    tfhdFlags,
    trackId: tfhd.getUint32(4),
    defaultSampleFlags: tfhdFlags & 0x20 ? tfhd.getUint32(8) : undefined,
    baseMediaDecodeTime: Number(tfdt.getBigUint64(4)),
    trun,
    moofOffset: moof.offset,
    mdatPayloadOffset: mdat.offset + 8,
  };
}

/** A made-up track of `count` samples with the given flags and composition offsets, samples 100 bytes apart. */
function syntheticTrack(isSync: number[], ctsOffsets: number[] = isSync.map(() => 0), contiguous = false): TrackIndex {
  const count = isSync.length;
  const offsets = new Float64Array(count);
  const sizes = new Uint32Array(count);
  const dts = new Float64Array(count);
  const durations = new Uint32Array(count);
  let offset = 1000;
  for (let i = 0; i < count; i++) {
    sizes[i] = 50 + (i % 7);
    offsets[i] = offset;
    offset += sizes[i] + (contiguous ? 0 : 100);
    durations[i] = 512;
    dts[i] = i * 512;
  }
  return {
    trackId: 7,
    kind: 'video',
    fourcc: 'avc1',
    codecs: 'avc1.64001e',
    timescale: 12800,
    durationTicks: count * 512,
    language: 'und',
    bitrateBps: 0,
    maxBitrateBps: 0,
    sampleEntry: new Uint8Array(0),
    editMediaTimeTicks: 0,
    samples: new ArraySampleTable({
      count,
      offsets,
      sizes,
      dts,
      durations,
      ctsOffsets: Int32Array.from(ctsOffsets),
      isSync: Uint8Array.from(isSync),
    }),
  };
}

function wholeTrack(track: TrackIndex, first = 0, count = track.samples.count): TrackSegment {
  return { index: 0, firstSample: first, sampleCount: count, startTicks: track.samples.dtsAt(first), durationTicks: 0 };
}

function headerOf(plan: ReturnType<typeof planMediaSegment>): Uint8Array {
  assert.ok(plan.parts[0] instanceof Uint8Array);
  return plan.parts[0];
}

/** The segment with zeros in place of the sample bytes, for reading its boxes back. */
function withZeroPayload(plan: ReturnType<typeof planMediaSegment>): Uint8Array {
  const bytes = new Uint8Array(plan.size);
  bytes.set(headerOf(plan));
  return bytes;
}

const fixtures = (await Promise.all([loadMuxFixture('h264-aac'), loadMuxFixture('hevc-ac3')])).flatMap(({ file, tracks, segments }) =>
  tracks.map((track, t) => ({ file, track, segments: segments[t] })),
);

describe('planMediaSegment', () => {
  const dir = tempDir('fmp4');

  for (const { file, track, segments } of fixtures) {
    it(`packages ${track.fourcc} so that ffprobe reads back every source sample with its timestamps`, () => {
      assert.ok(segments.length >= 4);
      const chunks: Uint8Array[] = [buildInitSegment(track)];
      let previous: Fragment | undefined;
      let previousDuration = 0;
      for (const segment of segments) {
        const plan = planMediaSegment(track, segment, segment.index + 1, { styp: true });
        const bytes = fillPlan(file, plan);
        assert.equal(bytes.byteLength, plan.size);
        assert.deepEqual(
          boxes(bytes).map((b) => b.type),
          ['styp', 'moof', 'mdat'],
        );
        const fragment = readFragment(bytes);
        assert.equal(fragment.sequenceNumber, segment.index + 1);
        assert.equal(fragment.trackId, track.trackId);
        assert.equal(fragment.baseMediaDecodeTime, segment.startTicks);
        assert.equal(fragment.moofOffset + fragment.trun.dataOffset, fragment.mdatPayloadOffset, 'data_offset points at the mdat payload');
        if (previous) assert.equal(fragment.baseMediaDecodeTime, previous.baseMediaDecodeTime + previousDuration, 'tfdt continues');
        previous = fragment;
        previousDuration = fragment.trun.durations.reduce((a, b) => a + b, 0);
        chunks.push(bytes);
      }
      const out = path.join(dir, `${track.fourcc}-${track.trackId}.mp4`);
      fs.writeFileSync(out, Buffer.concat(chunks));

      const { streams, packets, stderr } = probe(out);
      assert.equal(stderr, '');
      assert.equal(streams.length, 1);
      assert.equal(streams[0].codec_name, { avc1: 'h264', hvc1: 'hevc', mp4a: 'aac', 'ac-3': 'ac3', 'ec-3': 'eac3' }[track.fourcc]);
      if (track.kind === 'video') assert.deepEqual([streams[0].width, streams[0].height], [320, 240]);
      assert.equal(streams[0].time_base, `1/${track.timescale}`);
      const s = allSamples(track.samples);
      assert.equal(packets.length, s.count);
      const source = readSamples(file, track, 0, s.count);
      for (let i = 0; i < s.count; i++) {
        assert.equal(packets[i].hash, md5(source[i]), `sample ${i} bytes`);
        assert.equal(packets[i].dts, s.dts[i] - track.editMediaTimeTicks, `sample ${i} dts`);
        assert.equal(packets[i].pts, s.dts[i] + s.ctsOffsets[i] - track.editMediaTimeTicks, `sample ${i} pts`);
        assert.equal(packets[i].isKey, s.isSync[i] === 1, `sample ${i} key flag`);
      }
    });
  }

  it('merges samples that are contiguous in the source into one range', () => {
    const { track, segments } = fixtures.find((f) => f.track.fourcc === 'mp4a')!;
    const segment = segments[1];
    const plan = planMediaSegment(track, segment, 2);
    const ranges = plan.parts.slice(1) as SourceRange[];
    assert.ok(ranges.every(isSourceRange));
    let total = 0;
    const s = track.samples.run(segment.firstSample, segment.firstSample + segment.sampleCount);
    for (let i = 0; i < segment.sampleCount; i++) total += s.sizes[i];
    assert.equal(
      ranges.reduce((sum, r) => sum + r.length, 0),
      total,
    );
    assert.ok(ranges.length < segment.sampleCount, 'ffmpeg writes AAC in chunks of several samples');
    for (let i = 1; i < ranges.length; i++) assert.notEqual(ranges[i].offset, ranges[i - 1].offset + ranges[i - 1].length);
    assert.equal(plan.size, headerOf(plan).byteLength + total);

    const contiguous = syntheticTrack([1, 0, 0, 0, 0], undefined, true);
    const one = planMediaSegment(contiguous, wholeTrack(contiguous), 1);
    assert.deepEqual(one.parts.slice(1), [{ offset: 1000, length: 50 + 51 + 52 + 53 + 54 }]);
  });

  it("puts uniform sample flags in tfhd and the first sample's in trun", () => {
    const audio = readFragment(withZeroPayload(planMediaSegment(syntheticTrack([1, 1, 1, 1]), wholeTrack(syntheticTrack([1, 1, 1, 1])), 1)));
    assert.equal(audio.tfhdFlags, 0x020020, 'default-base-is-moof | default-sample-flags-present');
    assert.equal(audio.defaultSampleFlags, SYNC_SAMPLE_FLAGS);
    assert.equal(audio.trun.firstSampleFlags, undefined);
    assert.deepEqual(audio.trun.sampleFlags, []);

    const gop = syntheticTrack([1, 0, 0, 0]);
    const video = readFragment(withZeroPayload(planMediaSegment(gop, wholeTrack(gop), 1)));
    assert.equal(video.defaultSampleFlags, NON_SYNC_SAMPLE_FLAGS);
    assert.equal(video.trun.firstSampleFlags, SYNC_SAMPLE_FLAGS);
    assert.equal(SYNC_SAMPLE_FLAGS, 0x02000000, 'sample_depends_on 2');
    assert.equal(NON_SYNC_SAMPLE_FLAGS, 0x01010000, 'sample_depends_on 1, sample_is_non_sync_sample 1');

    const twoGops = syntheticTrack([1, 0, 0, 1, 0]);
    const mixed = readFragment(withZeroPayload(planMediaSegment(twoGops, wholeTrack(twoGops), 1)));
    assert.equal(mixed.tfhdFlags, 0x020000);
    assert.deepEqual(
      mixed.trun.sampleFlags,
      [1, 0, 0, 1, 0].map((k) => (k ? SYNC_SAMPLE_FLAGS : NON_SYNC_SAMPLE_FLAGS)),
    );
  });

  it('writes signed composition offsets in trun version 1 only when some are non-zero', () => {
    const none = readFragment(withZeroPayload(planMediaSegment(syntheticTrack([1, 0]), wholeTrack(syntheticTrack([1, 0])), 1)));
    assert.equal(none.trun.version, 0);
    assert.equal(none.trun.flags & 0x800, 0);

    const track = syntheticTrack([1, 0, 0, 0], [0, 1024, -512, -512]);
    const signed = readFragment(withZeroPayload(planMediaSegment(track, wholeTrack(track), 1)));
    assert.equal(signed.trun.version, 1);
    assert.deepEqual(signed.trun.ctsOffsets, [0, 1024, -512, -512]);
    assert.deepEqual(signed.trun.durations, [512, 512, 512, 512]);
    assert.deepEqual(signed.trun.sizes, [50, 51, 52, 53]);
  });

  it('plans a segment from its middle samples, with styp only when asked', () => {
    const track = syntheticTrack([1, 0, 0, 1, 0, 0, 1, 0]);
    const plan = planMediaSegment(track, { index: 1, firstSample: 3, sampleCount: 3, startTicks: 3 * 512, durationTicks: 3 * 512 }, 2);
    const header = headerOf(plan);
    assert.deepEqual(
      boxes(header.subarray(0, header.byteLength - 8)).map((b) => b.type),
      ['moof'],
    );
    const fragment = readFragment(withZeroPayload(plan));
    assert.equal(fragment.baseMediaDecodeTime, 1536);
    assert.deepEqual(fragment.trun.sizes, [53, 54, 55]);
    assert.deepEqual(plan.parts.slice(1), [
      { offset: allSamples(track.samples).offsets[3], length: 53 },
      { offset: allSamples(track.samples).offsets[4], length: 54 },
      { offset: allSamples(track.samples).offsets[5], length: 55 },
    ]);
  });

  it('rejects a segment outside the track', () => {
    const track = syntheticTrack([1, 0]);
    assert.throws(() => planMediaSegment(track, { index: 0, firstSample: 1, sampleCount: 2, startTicks: 0, durationTicks: 0 }, 1), InternalError);
    assert.throws(() => planMediaSegment(track, { index: 0, firstSample: 0, sampleCount: 0, startTicks: 0, durationTicks: 0 }, 1), InternalError);
  });

  it('plans a 50-sample video segment repeatedly with the same size', (t) => {
    const flags = Array.from({ length: 200 }, (_, i) => (i % 50 === 0 ? 1 : 0));
    const track = syntheticTrack(
      flags,
      flags.map((_, i) => (i % 3) * 512),
    );
    const segment = wholeTrack(track, 50, 50);
    for (let i = 0; i < 200; i++) planMediaSegment(track, segment, 2); // warm up
    const rounds = 2000;
    const start = process.hrtime.bigint();
    let size = 0;
    for (let i = 0; i < rounds; i++) size = planMediaSegment(track, segment, 2, { styp: true }).size;
    t.diagnostic(`${(Number(process.hrtime.bigint() - start) / 1e6 / rounds).toFixed(4)} ms per plan`);
    assert.equal(size, planMediaSegment(track, segment, 2, { styp: true }).size);
  });
});
