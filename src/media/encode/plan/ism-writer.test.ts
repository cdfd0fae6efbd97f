import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIsm } from '../../../shared/ism.js';
import { audioTrackName, writeIsm } from './ism-writer.js';

describe('writeIsm', () => {
  it("round-trips through the origin's parser with every rendition", () => {
    const xml = writeIsm([
      { kind: 'video', src: 'clip_1280x720_3400.mp4', bitrateBps: 3_400_000, trackId: 1, trackName: 'video' },
      { kind: 'video', src: 'clip_640x360_1000.mp4', bitrateBps: 1_000_000, trackId: 1, trackName: 'video' },
      { kind: 'audio', src: 'clip_AACAudio_128.mp4', bitrateBps: 128_000, trackId: 1, trackName: audioTrackName('aac', 'eng', 2, 128_000), language: 'eng' },
    ]);
    const ism = parseIsm(xml);
    assert.equal(ism.head.formats, 'mp4-v3');
    assert.deepEqual(
      ism.body.video.map((v) => [v.src, v.systemBitrate, v.trackID, v.trackName]),
      [
        ['clip_1280x720_3400.mp4', '3400000', '1', 'video'],
        ['clip_640x360_1000.mp4', '1000000', '1', 'video'],
      ],
    );
    assert.deepEqual(ism.body.audio, [
      { src: 'clip_AACAudio_128.mp4', systemBitrate: '128000', systemLanguage: 'eng', trackID: '1', trackName: 'aac_eng_2_128' },
    ]);
    assert.deepEqual(ism.body.textstream, []);
  });

  it('escapes names and leaves out an unknown language', () => {
    const ism = parseIsm(
      writeIsm([{ kind: 'audio', src: 'a&b"<c>.mp4', bitrateBps: 96_000, trackId: 2, trackName: audioTrackName('aac', undefined, 6, 96_000) }]),
    );
    assert.deepEqual(ism.body.audio, [{ src: 'a&b"<c>.mp4', systemBitrate: '96000', trackID: '2', trackName: 'aac_und_6_96' }]);
  });
});
