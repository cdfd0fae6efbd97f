import { execFileSync } from 'node:child_process';
import fsp from 'node:fs/promises';
import { readMp4Index, type MediaIndex } from '../../src/media/packager/index.js';
import { FlvStreamReader } from '../../src/media/live/ingest/flv-stream-reader.js';
import type { FlvTag } from '../../src/media/live/ingest/ingest-contracts.js';

/**
 * `seconds` of 25 fps H.264 (320x180 unless `size` says otherwise) (a keyframe every `gopFrames` frames, no scene-cut keyframes, B-frames) + 48 kHz
 * AAC, made by ffmpeg and read into FLV tags as an RTMP session would deliver them (bodies copied out of the reader's
 * chunks, so they stay valid).
 */
export function flvTags(seconds: number, options: { gopFrames: number; size?: string }): FlvTag[] {
  const gop = String(options.gopFrames);
  const flv = execFileSync(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error'],
      ...['-f', 'lavfi', '-i', `testsrc2=size=${options.size ?? '320x180'}:rate=25:duration=${seconds}`],
      ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', gop, '-keyint_min', gop, '-sc_threshold', '0', '-bf', '2'],
      ...['-c:a', 'aac', '-b:a', '96k', '-f', 'flv', 'pipe:1'],
    ],
    { maxBuffer: 64 << 20 },
  );
  const tags: FlvTag[] = [];
  new FlvStreamReader((t) => tags.push({ ...t, data: Uint8Array.from(t.data) })).push(flv);
  return tags;
}

/** The sample index of an MP4 file on disk, read through a file handle range by range. */
export async function readIndex(file: string): Promise<MediaIndex> {
  const fh = await fsp.open(file, 'r');
  try {
    const { size } = await fh.stat();
    return await readMp4Index(size, async (offset, length) => {
      const b = Buffer.alloc(length);
      await fh.read(b, 0, length, offset);
      return b;
    });
  } finally {
    await fh.close();
  }
}
