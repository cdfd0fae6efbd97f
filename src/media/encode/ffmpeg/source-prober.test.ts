import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toSourceInfo } from './source-prober.js';

describe('toSourceInfo', () => {
  it('reads a phone video: display matrix, frame rate snapped, language', () => {
    const info = toSourceInfo({
      format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', duration: '12.5', bit_rate: '9000000', size: '14062500' },
      streams: [
        {
          index: 0,
          codec_type: 'video',
          codec_name: 'hevc',
          width: 1920,
          height: 1080,
          avg_frame_rate: '10385000/346453',
          bit_rate: '8800000',
          side_data_list: [{ side_data_type: 'Display Matrix', rotation: -90 }],
        },
        { index: 1, codec_type: 'audio', codec_name: 'aac', channels: 2, sample_rate: '44100', bit_rate: '128000', tags: { language: 'fra' } },
      ],
    });
    assert.deepEqual(
      [info.durationSec, info.sizeBytes, info.video?.rotationDeg, info.video?.displayWidth, info.video?.displayHeight, info.video?.frameRate.text],
      [12.5, 14062500, 90, 1080, 1920, '30000/1001'],
    );
    assert.deepEqual(info.audios, [{ streamIndex: 1, codec: 'aac', channels: 2, sampleRateHz: 44100, bitrateBps: 128000, language: 'fra' }]);
  });

  it('ignores cover art, applies anamorphic pixels and estimates a missing video bitrate', () => {
    const info = toSourceInfo({
      format: { format_name: 'matroska,webm', duration: '60', bit_rate: '5128000' },
      streams: [
        { index: 0, codec_type: 'video', codec_name: 'mjpeg', width: 600, height: 600, disposition: { attached_pic: 1 } },
        { index: 1, codec_type: 'video', codec_name: 'mpeg2video', width: 720, height: 576, sample_aspect_ratio: '16:15', r_frame_rate: '25/1' },
        { index: 2, codec_type: 'audio', codec_name: 'mp2', channels: 2, sample_rate: '48000', tags: { language: 'und' } },
      ],
    });
    assert.deepEqual(
      [info.video?.streamIndex, info.video?.displayWidth, info.video?.displayHeight, info.video?.bitrateBps, info.videos.length],
      [1, 768, 576, 5_000_000, 1],
    );
    assert.equal(info.audios[0].language, undefined);
  });
});
