import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MediaError } from '../../../../shared/errors.js';
import type { TrackIndex } from '../../model/media-index.js';
import { readAdtsConfig, readEsds, writeAdtsHeader } from './adts.js';
import { muxTsSegment } from './ts-muxer.js';
import { ArraySampleTable } from '../../model/sample-table.js';

function boxBytes(type: string, body: number[]): number[] {
  const size = 8 + body.length;
  return [size >>> 24, (size >>> 16) & 0xff, (size >>> 8) & 0xff, size & 0xff, ...[...type].map((c) => c.charCodeAt(0)), ...body];
}

/** A descriptor with its size written on 4 bytes, as ffmpeg does (0x80 0x80 0x80 n). */
function descriptor(tag: number, body: number[]): number[] {
  return [tag, 0x80, 0x80, 0x80, body.length, ...body];
}

/** An `mp4a` AudioSampleEntry whose `esds` holds `asc` with the given objectTypeIndication. */
function audioTrack(asc: number[], objectTypeIndication = 0x40, samples?: { sizes: number[] }): TrackIndex {
  const decoderConfig = descriptor(0x04, [objectTypeIndication, 0x15, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, ...(asc.length > 0 ? descriptor(0x05, asc) : [])]);
  const esds = boxBytes('esds', [0, 0, 0, 0, ...descriptor(0x03, [0, 1, 0, ...decoderConfig, ...descriptor(0x06, [2])])]);
  const entry = Uint8Array.from(boxBytes('mp4a', [...new Array(28).fill(0), ...esds]));
  const sizes = samples?.sizes ?? [];
  const count = sizes.length;
  return {
    trackId: 2,
    kind: 'audio',
    fourcc: 'mp4a',
    codecs: 'mp4a.40.2',
    timescale: 48000,
    durationTicks: count * 1152,
    language: 'und',
    bitrateBps: 0,
    maxBitrateBps: 0,
    sampleEntry: entry,
    editMediaTimeTicks: 0,
    samples: new ArraySampleTable({
      count,
      offsets: new Float64Array(count),
      sizes: Uint32Array.from(sizes),
      dts: Float64Array.from(sizes.map((_, i) => i * 1152)),
      durations: new Uint32Array(count).fill(1152),
      ctsOffsets: new Int32Array(count),
      isSync: new Uint8Array(count).fill(1),
    }),
  };
}

describe('ADTS', () => {
  it('builds the 7-byte header from an AAC LC AudioSpecificConfig', () => {
    const config = readAdtsConfig(audioTrack([0x12, 0x10])); // AOT 2, 44100 Hz (index 4), 2 channels
    assert.deepEqual(config, { profile: 1, samplingFrequencyIndex: 4, channelConfiguration: 2 });
    const out = new Uint8Array(9);
    writeAdtsHeader(config, 100, out, 1);
    assert.deepEqual([...out], [0, 0xff, 0xf1, 0x50, 0x80, 0x0d, 0x7f, 0xfc, 0]);
  });

  it('describes explicitly signalled HE-AAC by its AAC LC core', () => {
    // AOT 5, 24000 Hz (index 6), 2 channels, extension 48000 Hz (index 3), core AOT 2.
    assert.deepEqual(readAdtsConfig(audioTrack([0x2b, 0x11, 0x88, 0x00])), { profile: 1, samplingFrequencyIndex: 6, channelConfiguration: 2 });
  });

  it('maps an explicit sampling frequency to its index', () => {
    // AOT 2, index 15 then 24-bit 44100 (0x00AC44), 1 channel.
    const bits = '00010' + '1111' + (44100).toString(2).padStart(24, '0') + '0001' + '000';
    const asc = bits.match(/.{8}/g)!.map((b) => parseInt(b, 2));
    assert.deepEqual(readAdtsConfig(audioTrack(asc)), { profile: 1, samplingFrequencyIndex: 4, channelConfiguration: 1 });
  });

  it('rejects what ADTS cannot carry', () => {
    const is415 = (e: unknown) => e instanceof MediaError && e.status === 415;
    assert.throws(() => readAdtsConfig(audioTrack([0x12, 0x00])), is415, 'channelConfiguration 0 (PCE)');
    assert.throws(() => readAdtsConfig(audioTrack([0xf9, 0x46, 0x40])), is415, 'USAC (AOT 42, escaped)');
    assert.throws(
      () => readAdtsConfig(audioTrack([])),
      (e: unknown) => e instanceof MediaError && e.status === 422,
      'no AudioSpecificConfig',
    );
  });

  it('reads the objectTypeIndication and muxes MPEG-1 audio in mp4a as stream type 3 without ADTS', () => {
    const track = audioTrack([], 0x6b, { sizes: [417, 418, 417] });
    assert.equal(readEsds(track).objectTypeIndication, 0x6b);
    const samples = [417, 418, 417].map((n, i) => new Uint8Array(n).fill(i + 1));
    const ts = muxTsSegment({ track, segment: { index: 0, firstSample: 0, sampleCount: 3, startTicks: 0, durationTicks: 3456 }, samples })[0];
    const pmt = ts.subarray(188 + 5);
    assert.equal(pmt[12], 0x03, 'stream_type MPEG-1 audio');
    const pes = ts.subarray(2 * 188 + 12); // after the TS header and an 8-byte adaptation field with PCR
    assert.deepEqual([...pes.subarray(0, 4)], [0, 0, 1, 0xc0]);
    assert.equal(pes[9 + 5], 1, 'first frame follows the 14-byte PES header as is');
  });
});
