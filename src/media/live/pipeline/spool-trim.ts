/**
 * How much of a running event's spool is kept. Every window played from the spool ends at the live edge: each live
 * output's (its `archiveWindowLength`, which is also what its archive holds at stop) and the preview locator's.
 * Segments that start more than the longest of them plus a margin before the edge are needed by nothing, so the
 * spool chunks holding only such segments are deleted as the edge moves (`SpoolFile.dropBefore`). The margin covers
 * a player fetching a segment that just slid out of a playlist it loaded a moment ago.
 */
import type { SegmentList } from '../../packager/index.js';
import { defaultPreviewWindowSec } from '../live-event-plan.js';
import type { SpoolChunkOptions } from './spool-writer.js';

export interface SpoolRetentionOptions {
  /** Length of a spool chunk (the unit deleted), seconds; 60 by default (`REEL_LIVE_SPOOL_CHUNK_SEC`). */
  chunkSec?: number;
  /** Kept beyond the longest window, seconds; by default three segment targets, at least 10 s. */
  marginSec?: number;
  /** The preview locator's DVR window, seconds (`REEL_LIVE_PREVIEW_WINDOW_SEC`). */
  previewWindowSec?: number;
}

export const defaultSpoolChunkSec = 60;

export class SpoolRetention {
  readonly chunkOptions: SpoolChunkOptions;
  readonly marginSec: number;
  readonly previewWindowSec: number;
  /** Segments before this one may be in deleted chunks: no presentation lists them. */
  #floor = 0;

  constructor(options: SpoolRetentionOptions, targetSegmentSec: number) {
    const chunkSec = options.chunkSec ?? defaultSpoolChunkSec;
    if (!(chunkSec > 0)) throw new RangeError(`the spool chunk length must be positive, got ${chunkSec}`);
    this.chunkOptions = { chunkSec };
    this.marginSec = options.marginSec ?? Math.max(10, 3 * targetSegmentSec);
    if (!(this.marginSec >= 0)) throw new RangeError(`the spool margin must not be negative, got ${this.marginSec}`);
    this.previewWindowSec = options.previewWindowSec ?? defaultPreviewWindowSec;
  }

  get floor(): number {
    return this.#floor;
  }

  /** An adopted run: its tracks have no segment before `floor` any more. */
  restored(floor: number): void {
    this.#floor = floor;
  }

  /**
   * The first segment to keep of the `n` visible ones of the reference track (`segments`, in its `timescale`), given
   * the live outputs' windows (seconds): the first that starts within the longest window plus the margin before
   * the live edge. Returns undefined when that does not move the floor (nothing more to delete); the floor follows.
   */
  keepFrom(segments: SegmentList, n: number, timescale: number, outputWindowsSec: readonly number[]): number | undefined {
    if (n === 0) return undefined;
    const keepSec = Math.max(this.previewWindowSec, ...outputWindowsSec) + this.marginSec;
    const endTicks = segments.startTicks[n - 1] + segments.durationTicks[n - 1];
    const fromTicks = endTicks - keepSec * timescale;
    let k = this.#floor;
    while (k < n - 1 && segments.startTicks[k] < fromTicks) k++;
    if (k <= this.#floor) return undefined;
    this.#floor = k;
    return k;
  }
}
