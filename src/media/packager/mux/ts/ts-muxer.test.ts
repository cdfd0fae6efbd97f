import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { frameMd5, loadMuxFixture, md5, probe, readSamples, tempDir } from '../../../../../test/fixtures/mux-media.js';
import { InternalError, MediaError } from '../../../../shared/errors.js';
import type { TrackIndex } from '../../model/media-index.js';
import { allSamples, ArraySampleTable } from '../../model/sample-table.js';
import type { TrackSegment } from '../../model/segment.js';
import { muxTsSegment, TS_AUDIO_PID, TS_PCR_DELAY_90K, TS_PMT_PID, TS_TIMESTAMP_OFFSET_90K, TS_VIDEO_PID } from './ts-muxer.js';

interface TsPacket {
  pid: number;
  isPayloadStart: boolean;
  counter: number;
  hasPayload: boolean;
  isRandomAccess: boolean;
  pcr?: number;
  payload: Uint8Array;
}

interface Pes {
  pid: number;
  streamId: number;
  pts: number;
  dts: number;
  pcr?: number;
  isRandomAccess: boolean;
  packetLength: number;
  data: Uint8Array;
}

function readTimestamp(b: Uint8Array, at: number): number {
  return ((b[at] >> 1) & 0x07) * 2 ** 30 + (b[at + 1] << 22) + ((b[at + 2] >> 1) << 15) + (b[at + 3] << 7) + (b[at + 4] >> 1);
}

/** Splits a TS into packets, checking the fixed layout of every header and adaptation field. */
function readPackets(ts: Uint8Array): TsPacket[] {
  assert.equal(ts.byteLength % 188, 0, 'whole TS packets');
  const packets: TsPacket[] = [];
  for (let at = 0; at < ts.byteLength; at += 188) {
    const p = ts.subarray(at, at + 188);
    assert.equal(p[0], 0x47, `sync byte of packet ${at / 188}`);
    const control = (p[3] >> 4) & 0x03;
    let body = 4;
    let pcr: number | undefined;
    let isRandomAccess = false;
    if (control & 0x2) {
      const length = p[4];
      if (length > 0) {
        isRandomAccess = (p[5] & 0x40) !== 0;
        if (p[5] & 0x10) pcr = p[6] * 2 ** 25 + (p[7] << 17) + (p[8] << 9) + (p[9] << 1) + (p[10] >> 7);
        const stuffingStart = 6 + (pcr !== undefined ? 6 : 0);
        for (let k = stuffingStart; k < 5 + length; k++) assert.equal(p[k], 0xff, 'adaptation field stuffing');
      }
      body = 5 + length;
    }
    packets.push({
      pid: ((p[1] & 0x1f) << 8) | p[2],
      isPayloadStart: (p[1] & 0x40) !== 0,
      counter: p[3] & 0x0f,
      hasPayload: (control & 0x1) !== 0,
      isRandomAccess,
      pcr,
      payload: p.subarray(body),
    });
  }
  return packets;
}

/** Reassembles the PES packets of `pid`. */
function readPes(packets: TsPacket[], pid: number): Pes[] {
  const list: Pes[] = [];
  let parts: Uint8Array[] = [];
  let first: TsPacket | undefined;
  const flush = () => {
    if (!first) return;
    const data = Buffer.concat(parts);
    assert.deepEqual([...data.subarray(0, 3)], [0, 0, 1], 'PES start code');
    const flags = data[7] >> 6;
    const headerLength = 9 + data[8];
    const pts = readTimestamp(data, 9);
    list.push({
      pid,
      streamId: data[3],
      pts,
      dts: flags === 3 ? readTimestamp(data, 14) : pts,
      pcr: first.pcr,
      isRandomAccess: first.isRandomAccess,
      packetLength: (data[4] << 8) | data[5],
      data: data.subarray(headerLength),
    });
    if (list[list.length - 1].packetLength !== 0) assert.equal(list[list.length - 1].packetLength, data.byteLength - 6);
  };
  for (const packet of packets) {
    if (packet.pid !== pid) continue;
    if (packet.isPayloadStart) {
      flush();
      parts = [];
      first = packet;
    }
    parts.push(packet.payload);
  }
  flush();
  return list;
}

const crcTable = Array.from({ length: 256 }, (_, i) => {
  let c = i << 24;
  for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
  return c >>> 0;
});

/** A PSI section with its CRC_32: the CRC over the whole section is 0 when intact. */
function readSection(packet: TsPacket): Uint8Array {
  const pointer = packet.payload[0];
  const start = 1 + pointer;
  const length = ((packet.payload[start + 1] & 0x0f) << 8) | packet.payload[start + 2];
  const section = packet.payload.subarray(start, start + 3 + length);
  let crc = 0xffffffff;
  for (const byte of section) crc = ((crc << 8) ^ crcTable[((crc >>> 24) ^ byte) & 0xff]) >>> 0;
  assert.equal(crc, 0, 'PSI CRC_32');
  return section;
}

/** The 90 kHz value the muxer must write for a tick count (floor, plus the 10 s offset). */
function expected90k(ticks: number, timescale: number): number {
  return TS_TIMESTAMP_OFFSET_90K + Math.floor((ticks * 90000) / timescale);
}

function mux(file: string, track: TrackIndex, segment: TrackSegment): Uint8Array {
  const parts = muxTsSegment({ track, segment, samples: readSamples(file, track, segment.firstSample, segment.sampleCount) });
  assert.equal(parts.length, 1);
  return parts[0];
}

const streamTypes: Record<string, number> = { avc1: 0x1b, hvc1: 0x24, mp4a: 0x0f, 'ac-3': 0x81, 'ec-3': 0x87 };
const codecNames: Record<string, string> = { avc1: 'h264', hvc1: 'hevc', mp4a: 'aac', 'ac-3': 'ac3', 'ec-3': 'eac3' };

const fixtures = (await Promise.all([loadMuxFixture('h264-aac'), loadMuxFixture('hevc-ac3')])).flatMap(({ file, tracks, segments }) =>
  tracks.map((track, t) => ({ file, track, segments: segments[t] })),
);

describe('muxTsSegment', () => {
  const dir = tempDir('ts');

  for (const { file, track, segments } of fixtures) {
    it(`writes ${track.fourcc} segments with PAT, PMT, PCR, continuous counters and timestamps`, () => {
      const pid = track.kind === 'video' ? TS_VIDEO_PID : TS_AUDIO_PID;
      const s = allSamples(track.samples);
      const all: Uint8Array[] = [];
      let lastCounter = -1;
      for (const segment of segments) {
        const ts = mux(file, track, segment);
        all.push(ts);
        const packets = readPackets(ts);
        assert.deepEqual([packets[0].pid, packets[1].pid], [0, TS_PMT_PID], 'PAT then PMT');
        assert.equal(packets[0].counter, segment.index & 0x0f, 'PAT counter continues from the previous segment');
        assert.equal(packets[1].counter, segment.index & 0x0f);
        const pat = readSection(packets[0]);
        assert.equal(((pat[10] & 0x1f) << 8) | pat[11], TS_PMT_PID);
        const pmt = readSection(packets[1]);
        assert.equal(((pmt[8] & 0x1f) << 8) | pmt[9], pid, 'PCR_PID is the track');
        assert.equal(pmt[12], streamTypes[track.fourcc], 'stream_type');
        assert.equal(((pmt[13] & 0x1f) << 8) | pmt[14], pid);
        assert.ok(
          packets.slice(2).every((p) => p.pid === pid),
          'one elementary stream',
        );

        const esPackets = packets.slice(2);
        assert.equal(esPackets.length % 16, 0, 'packet count padded to a whole counter cycle');
        for (const p of esPackets) {
          assert.ok(p.hasPayload);
          assert.equal(p.counter, (lastCounter + 1) & 0x0f, 'continuity_counter');
          lastCounter = p.counter;
        }

        const pes = readPes(packets, pid);
        let sample = segment.firstSample;
        for (const p of pes) {
          const pts = expected90k(s.dts[sample] + s.ctsOffsets[sample] - track.editMediaTimeTicks, track.timescale);
          assert.equal(p.pts, pts, `PTS of sample ${sample}`);
          assert.ok(p.dts <= p.pts);
          assert.equal(p.pcr, p.dts - TS_PCR_DELAY_90K, 'PCR in the first packet of every PES');
          assert.equal(p.isRandomAccess, s.isSync[sample] === 1);
          if (track.kind === 'video') {
            assert.equal(p.streamId, 0xe0);
            assert.equal(p.dts, expected90k(s.dts[sample] - track.editMediaTimeTicks, track.timescale), `DTS of sample ${sample}`);
            sample++;
          } else {
            assert.equal(p.streamId, track.fourcc === 'mp4a' ? 0xc0 : 0xbd);
            let ticks = 0;
            let bytes = 0;
            while (bytes < p.data.byteLength) {
              bytes += s.sizes[sample] + (track.fourcc === 'mp4a' ? 7 : 0);
              ticks += s.durations[sample++];
            }
            assert.equal(bytes, p.data.byteLength, 'whole frames per PES');
            assert.ok(ticks <= track.timescale / 10, 'at most 100 ms of audio per PES');
          }
        }
        assert.equal(sample, segment.firstSample + segment.sampleCount, 'every sample muxed');

        const out = path.join(dir, `${track.fourcc}-${track.trackId}-${segment.index}.ts`);
        fs.writeFileSync(out, ts);
        const { streams, packets: probed, stderr } = probe(out);
        assert.equal(stderr, '');
        assert.equal(streams[0].codec_name, codecNames[track.fourcc]);
        if (track.kind === 'video') {
          assert.deepEqual([streams[0].width, streams[0].height], [320, 240]);
          assert.equal(probed.length, segment.sampleCount);
          assert.ok(probed[0].isKey);
        } else {
          assert.equal(streams[0].sample_rate, '48000');
          assert.equal(streams[0].channels, 2);
        }
      }
      // Consecutive segments read as one stream: no continuity or timestamp complaints.
      const joined = path.join(dir, `${track.fourcc}-${track.trackId}-all.ts`);
      fs.writeFileSync(joined, Buffer.concat(all));
      const { packets: probed, stderr } = probe(joined);
      assert.equal(stderr, '');
      assert.equal(probed.length, s.count);
      for (let i = 1; i < probed.length; i++) assert.ok(probed[i].dts > probed[i - 1].dts, 'DTS increases across segments');
    });
  }

  for (const fourcc of ['avc1', 'hvc1']) {
    it(`decodes ${fourcc} segments to the same frames as the source`, () => {
      const { file, track, segments } = fixtures.find((f) => f.track.fourcc === fourcc)!;
      const s = allSamples(track.samples);
      const ms = (sec: number) => Math.round(sec * 1000);
      const sourceFrames = new Map(frameMd5(file, { stream: 'v' }).map((f) => [ms(f.timeSec), f.hash]));
      for (const segment of segments) {
        const out = path.join(dir, `${fourcc}-decode-${segment.index}.ts`);
        fs.writeFileSync(out, mux(file, track, segment));
        const presentation: number[] = [];
        for (let i = segment.firstSample; i < segment.firstSample + segment.sampleCount; i++) {
          presentation.push(s.dts[i] + s.ctsOffsets[i] - track.editMediaTimeTicks);
        }
        presentation.sort((a, b) => a - b);
        const expected = presentation.map((pts) => sourceFrames.get(ms(pts / track.timescale)));
        assert.ok(expected.every((h) => h !== undefined));
        assert.deepEqual(
          frameMd5(out, { stream: 'v' }).map((f) => f.hash),
          expected,
          `segment ${segment.index} frames`,
        );
      }
    });
  }

  for (const fourcc of ['mp4a', 'ac-3', 'ec-3']) {
    it(`carries every ${fourcc} frame unchanged`, () => {
      const { file, track, segments } = fixtures.find((f) => f.track.fourcc === fourcc)!;
      const all: Uint8Array[] = [];
      for (const segment of segments) all.push(mux(file, track, segment));
      const out = path.join(dir, `${fourcc}-frames.ts`);
      fs.writeFileSync(out, Buffer.concat(all));
      const packets = frameMd5(out, { stream: 'a', copy: true, bsf: fourcc === 'mp4a' ? 'aac_adtstoasc' : undefined });
      const source = readSamples(file, track, 0, track.samples.count).map(md5);
      assert.deepEqual(
        packets.map((p) => p.hash),
        source,
      );
      if (fourcc === 'mp4a') assert.equal(probe(out).streams[0].profile, 'LC');
    });
  }

  it('keeps DTS at or before PTS when composition offsets are negative', () => {
    const { file, track, segments } = fixtures.find((f) => f.track.fourcc === 'avc1')!;
    // The same presentation, expressed with ctts version 1 offsets and no edit list.
    const shifted: TrackIndex = {
      ...track,
      editMediaTimeTicks: 0,
      samples: new ArraySampleTable({
        ...allSamples(track.samples),
        ctsOffsets: allSamples(track.samples).ctsOffsets.map((c) => c - track.editMediaTimeTicks),
      }),
    };
    const segment = segments[1];
    const original = readPes(readPackets(mux(file, track, segment)), TS_VIDEO_PID);
    const rewritten = readPes(readPackets(mux(file, shifted, segment)), TS_VIDEO_PID);
    assert.deepEqual(
      rewritten.map((p) => p.pts),
      original.map((p) => p.pts),
    );
    for (const p of rewritten) assert.ok(p.dts <= p.pts);
  });

  it('continues counters when a segment follows any other (seek, rendition switch)', () => {
    const { file, track, segments } = fixtures.find((f) => f.track.fourcc === 'avc1')!;
    const packets = [...readPackets(mux(file, track, segments[0])), ...readPackets(mux(file, track, segments[2]))].filter((p) => p.pid === TS_VIDEO_PID);
    for (let i = 1; i < packets.length; i++) assert.equal(packets[i].counter, (packets[i - 1].counter + 1) & 0x0f);
  });

  it('applies a custom timestamp offset', () => {
    const { file, track, segments } = fixtures.find((f) => f.track.fourcc === 'mp4a')!;
    const segment = segments[0];
    const ts = muxTsSegment({ track, segment, samples: readSamples(file, track, 0, segment.sampleCount) }, { timestampOffset90k: 1_000_000 })[0];
    const first = readPes(readPackets(ts), TS_AUDIO_PID)[0];
    assert.equal(first.pts, 1_000_000 + Math.floor((-track.editMediaTimeTicks * 90000) / track.timescale));
  });

  it('rejects text tracks and sample buffers that do not match the index', () => {
    const { file, track, segments } = fixtures.find((f) => f.track.fourcc === 'mp4a')!;
    const segment = segments[0];
    const samples = readSamples(file, track, 0, segment.sampleCount);
    assert.throws(() => muxTsSegment({ track, segment, samples: samples.slice(1) }), InternalError);
    assert.throws(() => muxTsSegment({ track, segment, samples: [new Uint8Array(samples[0].byteLength + 1), ...samples.slice(1)] }), InternalError);
    assert.throws(
      () => muxTsSegment({ track: { ...track, kind: 'text', fourcc: 'wvtt' }, segment, samples }),
      (e: unknown) => e instanceof MediaError && e.status === 415,
    );
  });
});
