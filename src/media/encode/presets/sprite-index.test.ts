import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spriteVtt, vttTimestamp } from './sprite-index.js';

describe('spriteVtt', () => {
  it('maps each image to its tile, from its time to the next image', () => {
    const vtt = spriteVtt({ spriteName: 'thumb_small.jpg', timesSec: [0, 5, 10], endSec: 12.5, tileWidth: 160, tileHeight: 90, columns: 2 });
    assert.equal(
      vtt,
      [
        'WEBVTT',
        '',
        '00:00:00.000 --> 00:00:05.000',
        'thumb_small.jpg#xywh=0,0,160,90',
        '',
        '00:00:05.000 --> 00:00:10.000',
        'thumb_small.jpg#xywh=160,0,160,90',
        '',
        '00:00:10.000 --> 00:00:12.500',
        'thumb_small.jpg#xywh=0,90,160,90',
        '',
      ].join('\n'),
    );
  });
  it('writes hours', () => assert.equal(vttTimestamp(3725.0505), '01:02:05.051'));
});
