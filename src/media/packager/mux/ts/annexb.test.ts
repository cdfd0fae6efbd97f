import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MediaError } from '../../../../shared/errors.js';
import type { TrackIndex } from '../../model/media-index.js';
import { annexBSize, readAnnexBConfig, writeAnnexB } from './annexb.js';
import { emptySampleTable } from '../../model/sample-table.js';

function boxBytes(type: string, body: number[]): number[] {
  const size = 8 + body.length;
  return [size >>> 24, (size >>> 16) & 0xff, (size >>> 8) & 0xff, size & 0xff, ...[...type].map((c) => c.charCodeAt(0)), ...body];
}

/** A VisualSampleEntry (86 bytes of fields) holding one configuration box. */
function videoTrack(fourcc: string, config: number[]): TrackIndex {
  const entry = Uint8Array.from(boxBytes(fourcc, [...new Array(78).fill(0), ...config]));
  return {
    trackId: 1,
    kind: 'video',
    fourcc,
    codecs: fourcc,
    timescale: 90000,
    durationTicks: 0,
    language: 'und',
    bitrateBps: 0,
    maxBitrateBps: 0,
    sampleEntry: entry,
    editMediaTimeTicks: 0,
    samples: emptySampleTable(),
  };
}

const SPS = [0x67, 0x64, 0x00, 0x1e];
const PPS = [0x68, 0xee, 0x3c];
/** avcC with 2-byte NAL lengths (lengthSizeMinusOne = 1), one SPS, one PPS. */
const avcC = boxBytes('avcC', [1, 0x64, 0x00, 0x1e, 0xfc | 1, 0xe0 | 1, 0, SPS.length, ...SPS, 1, 0, PPS.length, ...PPS]);

function convert(track: TrackIndex, sample: number[], isSync: boolean): number[] {
  const config = readAnnexBConfig(track);
  const bytes = Uint8Array.from(sample);
  const size = annexBSize(track, config, bytes, isSync, 0);
  const out = new Uint8Array(size + 4);
  const end = writeAnnexB(config, bytes, isSync, out, 2);
  assert.equal(end, size + 2, 'writeAnnexB writes what annexBSize counted');
  return [...out.subarray(2, end)];
}

describe('Annex B conversion', () => {
  it('replaces H.264 length prefixes with start codes, adds an AUD and, on sync samples, SPS and PPS', () => {
    const track = videoTrack('avc1', avcC);
    const aud = [0x09, 0x10];
    const sei = [0x06, 0x05, 0x01, 0x80];
    const idr = [0x65, 0x88, 0x84, 0x00, 0x33];
    const sample = [0, aud.length, ...aud, 0, sei.length, ...sei, 0, idr.length, ...idr];
    const start = [0, 0, 0, 1];
    assert.deepEqual(
      convert(track, sample, true),
      [...start, 0x09, 0xf0, ...start, ...SPS, ...start, ...PPS, ...start, ...sei, ...start, ...idr],
      "the sample's own AUD is replaced by ours",
    );
    const slice = [0x41, 0x9a, 0x02];
    assert.deepEqual(convert(track, [0, slice.length, ...slice], false), [...start, 0x09, 0xf0, ...start, ...slice]);
  });

  it('reads VPS, SPS and PPS from hvcC and writes an HEVC AUD', () => {
    const vps = [0x40, 0x01, 0x0c];
    const sps = [0x42, 0x01, 0x01];
    const pps = [0x44, 0x01, 0xc1];
    const arrays = [
      [32, vps],
      [33, sps],
      [34, pps],
    ] as const;
    const hvcC = boxBytes('hvcC', [
      1,
      ...new Array(20).fill(0),
      0x0f /* lengthSizeMinusOne 3 */,
      arrays.length,
      ...arrays.flatMap(([type, nal]) => [0x80 | type, 0, 1, 0, nal.length, ...nal]),
    ]);
    const track = videoTrack('hvc1', hvcC);
    const idr = [0x26, 0x01, 0xaf, 0x00];
    const start = [0, 0, 0, 1];
    assert.deepEqual(convert(track, [0, 0, 0, idr.length, ...idr], true), [
      ...start,
      0x46,
      0x01,
      0x50,
      ...start,
      ...vps,
      ...start,
      ...sps,
      ...start,
      ...pps,
      ...start,
      ...idr,
    ]);
  });

  it('rejects a NAL unit longer than its sample and a missing avcC', () => {
    const track = videoTrack('avc1', avcC);
    assert.throws(
      () => convert(track, [0, 9, 0x65, 1, 2], true),
      (e: unknown) => e instanceof MediaError && e.status === 422 && /runs past/.test(e.detail),
    );
    assert.throws(
      () => readAnnexBConfig(videoTrack('avc1', [])),
      (e: unknown) => e instanceof MediaError && /avcC/.test(e.detail),
    );
    assert.throws(
      () => readAnnexBConfig(videoTrack('vp09', [])),
      (e: unknown) => e instanceof MediaError && e.status === 415,
    );
  });
});
