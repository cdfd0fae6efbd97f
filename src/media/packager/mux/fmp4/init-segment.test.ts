import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { box, boxes, loadMuxFixture, probe, tempDir } from '../../../../../test/fixtures/mux-media.js';
import type { TrackIndex } from '../../model/media-index.js';
import { buildInitSegment } from './init-segment.js';
import { emptySampleTable } from '../../model/sample-table.js';

function u32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at);
}

function i32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(at);
}

function fourccs(bytes: Uint8Array): string[] {
  const list: string[] = [];
  for (let at = 0; at + 4 <= bytes.byteLength; at += 4) list.push(String.fromCharCode(...bytes.subarray(at, at + 4)));
  return list;
}

/** A text track with a made-up sample entry, for the handler/media-header cases ffmpeg fixtures don't cover. */
function textTrack(fourcc: string, editMediaTimeTicks = 0): TrackIndex {
  const entry = new Uint8Array(16);
  new DataView(entry.buffer).setUint32(0, 16);
  entry.set(
    [...fourcc].map((c) => c.charCodeAt(0)),
    4,
  );
  return {
    trackId: 3,
    kind: 'text',
    fourcc,
    codecs: fourcc,
    timescale: 1000,
    durationTicks: 0,
    language: 'fra',
    bitrateBps: 0,
    maxBitrateBps: 0,
    sampleEntry: entry,
    editMediaTimeTicks,
    samples: emptySampleTable(),
  };
}

const h264 = await loadMuxFixture('h264-aac');
const hevc = await loadMuxFixture('hevc-ac3');

describe('buildInitSegment', () => {
  const [video, aac] = h264.tracks;
  const dir = tempDir('init');

  it('writes a CMAF ftyp and a moov describing the video track with its edit list', () => {
    const init = buildInitSegment(video);
    assert.deepEqual(
      boxes(init).map((b) => b.type),
      ['ftyp', 'moov'],
    );
    const ftyp = box(init, 'ftyp').body;
    assert.equal(fourccs(ftyp.subarray(0, 4))[0], 'cmfc');
    assert.deepEqual(fourccs(ftyp.subarray(8)), ['cmfc', 'iso6', 'dash', 'mp41']);
    assert.deepEqual(
      boxes(box(init, 'moov').body).map((b) => b.type),
      ['mvhd', 'trak', 'mvex'],
    );

    const mvhd = box(init, 'moov/mvhd').body;
    assert.equal(u32(mvhd, 12), video.timescale);
    assert.equal(u32(mvhd, 16), 0, 'mvhd duration');
    assert.equal(u32(mvhd, 96), video.trackId + 1, 'next_track_ID');

    const tkhd = box(init, 'moov/trak/tkhd').body;
    assert.equal(u32(tkhd, 0) & 0xffffff, 3, 'enabled | in_movie');
    assert.equal(u32(tkhd, 12), video.trackId);
    assert.equal(u32(tkhd, 76), 320 * 65536);
    assert.equal(u32(tkhd, 80), 240 * 65536);

    const elst = box(init, 'moov/trak/edts/elst').body;
    assert.equal(u32(elst, 4), 1, 'one edit');
    assert.equal(u32(elst, 8), 0, 'segment_duration 0: the whole fragmented media');
    assert.equal(i32(elst, 12), video.editMediaTimeTicks);
    assert.equal(video.editMediaTimeTicks, 1024, 'the fixture has two frames of B-frame delay');

    const mdhd = box(init, 'moov/trak/mdia/mdhd').body;
    assert.equal(u32(mdhd, 12), video.timescale);
    assert.equal(u32(mdhd, 20) >>> 16, 0x55c4, "language 'und'");
    assert.equal(fourccs(box(init, 'moov/trak/mdia/hdlr').body.subarray(8, 12))[0], 'vide');
    assert.deepEqual(
      boxes(box(init, 'moov/trak/mdia/minf').body).map((b) => b.type),
      ['vmhd', 'dinf', 'stbl'],
    );
    assert.equal(box(init, 'moov/trak/mdia/minf/dinf/dref/url ').size, 12);

    const stbl = box(init, 'moov/trak/mdia/minf/stbl');
    assert.deepEqual(
      boxes(stbl.body).map((b) => b.type),
      ['stsd', 'stts', 'stsc', 'stsz', 'stco'],
    );
    assert.deepEqual(box(init, 'moov/trak/mdia/minf/stbl/stsd').body.subarray(8), video.sampleEntry, 'sample entry copied verbatim');
    for (const name of ['stts', 'stsc', 'stco']) assert.equal(u32(box(stbl.body, name).body, 4), 0, `${name} entry_count`);
    assert.equal(u32(box(stbl.body, 'stsz').body, 8), 0, 'stsz sample_count');

    const trex = box(init, 'moov/mvex/trex').body;
    assert.equal(u32(trex, 4), video.trackId);
    assert.equal(u32(trex, 8), 1, 'default_sample_description_index');
  });

  it('describes an audio track with volume, language, sound handler and smhd', () => {
    const init = buildInitSegment(aac);
    const tkhd = box(init, 'moov/trak/tkhd').body;
    assert.equal(tkhd[36], 0x01, 'volume 1.0');
    assert.equal(u32(tkhd, 76), 0, 'no width');
    const mdhd = box(init, 'moov/trak/mdia/mdhd').body;
    const lang = u32(mdhd, 20) >>> 16;
    assert.equal(String.fromCharCode(((lang >> 10) & 31) + 0x60, ((lang >> 5) & 31) + 0x60, (lang & 31) + 0x60), 'eng');
    assert.equal(fourccs(box(init, 'moov/trak/mdia/hdlr').body.subarray(8, 12))[0], 'soun');
    assert.equal(box(init, 'moov/trak/mdia/minf/smhd').size, 16);
    assert.equal(i32(box(init, 'moov/trak/edts/elst').body, 12), aac.editMediaTimeTicks, 'AAC priming skipped by the edit list');
  });

  it('uses iso5/iso6 brands for CSF', () => {
    const ftyp = box(buildInitSegment(video, { brands: 'iso' }), 'ftyp').body;
    assert.equal(fourccs(ftyp.subarray(0, 4))[0], 'iso5');
    assert.deepEqual(fourccs(ftyp.subarray(8)), ['iso5', 'iso6', 'mp41']);
  });

  it('writes no edit list without an edit, and an empty edit for a start delay', () => {
    const noEdit = buildInitSegment({ ...video, editMediaTimeTicks: 0 });
    assert.deepEqual(
      boxes(box(noEdit, 'moov/trak').body).map((b) => b.type),
      ['tkhd', 'mdia'],
    );
    const delayed = box(buildInitSegment({ ...video, editMediaTimeTicks: -256 }), 'moov/trak/edts/elst').body;
    assert.equal(u32(delayed, 4), 2);
    assert.deepEqual([u32(delayed, 8), i32(delayed, 12)], [256, -1]);
    assert.deepEqual([u32(delayed, 20), i32(delayed, 24)], [0, 0]);
  });

  it('uses the text handler with nmhd for WebVTT and subt with sthd for TTML', () => {
    const wvtt = buildInitSegment(textTrack('wvtt'));
    assert.equal(fourccs(box(wvtt, 'moov/trak/mdia/hdlr').body.subarray(8, 12))[0], 'text');
    assert.equal(box(wvtt, 'moov/trak/mdia/minf/nmhd').size, 12);
    const stpp = buildInitSegment(textTrack('stpp'));
    assert.equal(fourccs(box(stpp, 'moov/trak/mdia/hdlr').body.subarray(8, 12))[0], 'subt');
    assert.equal(box(stpp, 'moov/trak/mdia/minf/sthd').size, 12);
  });

  it('is read by ffprobe as the source codecs', () => {
    const cases: Array<[TrackIndex, Record<string, unknown>]> = [
      [video, { codec_name: 'h264', width: 320, height: 240 }],
      [aac, { codec_name: 'aac', sample_rate: '48000', channels: 2 }],
      ...hevc.tracks.map((t): [TrackIndex, Record<string, unknown>] => [t, { codec_name: { hvc1: 'hevc', 'ac-3': 'ac3', 'ec-3': 'eac3' }[t.fourcc] }]),
    ];
    for (const [track, expected] of cases) {
      const file = path.join(dir, `${track.fourcc}-init.mp4`);
      fs.writeFileSync(file, buildInitSegment(track));
      const { streams } = probe(file);
      assert.equal(streams.length, 1);
      for (const [key, value] of Object.entries(expected)) assert.equal(streams[0][key as keyof (typeof streams)[0]], value, `${track.fourcc} ${key}`);
    }
  });
});
