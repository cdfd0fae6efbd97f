import type { MediaIndex } from '../../model/media-index.js';
import { createMp4IndexParser, type Mp4IndexParserOptions } from './mp4-index-parser.js';

/**
 * Drives the sans-I/O MP4 parser with the host's ranged read (`read(offset, length)` must resolve to exactly
 * `length` bytes). A faststart file costs one read; a moov-at-end file two or three; a fragmented file about one
 * per `moof`.
 */
export async function readMp4Index(
  fileSize: number,
  read: (offset: number, length: number) => Promise<Uint8Array>,
  options?: Mp4IndexParserOptions,
): Promise<MediaIndex> {
  const parser = createMp4IndexParser(fileSize, options);
  for (;;) {
    const step = parser.next();
    if ('done' in step) return step.done;
    const { offset, length } = step.need;
    parser.feed(offset, await read(offset, length));
  }
}
