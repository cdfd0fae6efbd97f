import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { FlvStreamReader } from './flv-stream-reader.js';
import type { FlvTag } from './ingest-contracts.js';

function ffmpegFlv(): Buffer {
  return execFileSync(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=320x240:rate=25:duration=2',
      '-f',
      'lavfi',
      '-i',
      'sine=duration=2',
      '-c:v',
      'libx264',
      '-g',
      '25',
      '-c:a',
      'aac',
      '-f',
      'flv',
      'pipe:1',
    ],
    { maxBuffer: 64 << 20 },
  );
}

test('FlvStreamReader gives the same tags whether the stream arrives whole or one byte at a time', () => {
  const flv = ffmpegFlv();
  const whole: FlvTag[] = [];
  new FlvStreamReader((t) => whole.push({ ...t, data: Uint8Array.from(t.data) })).push(flv);
  const video = whole.filter((t) => t.type === 9);
  const audio = whole.filter((t) => t.type === 8);
  assert.equal(video.filter((t) => t.data[1] === 1).length, 50, '50 coded frames (AVCPacketType 1)');
  assert.ok(audio.length > 80, `audio tags: ${audio.length}`);
  assert.equal(video[0].data[1], 0, 'first video tag is the AVC sequence header');
  assert.equal(video[1].data[0] >> 4, 1, 'first frame is a keyframe');

  const split: FlvTag[] = [];
  const reader = new FlvStreamReader((t) => split.push({ ...t, data: Uint8Array.from(t.data) }));
  for (let i = 0; i < flv.length; i += 7) reader.push(flv.subarray(i, Math.min(flv.length, i + 7)));
  assert.deepEqual(split, whole);
});

test('FlvStreamReader refuses a stream that is not FLV', () => {
  const reader = new FlvStreamReader(() => undefined);
  assert.throws(() => reader.push(Buffer.from('GIF89a and more bytes')), /not an FLV stream/);
});
