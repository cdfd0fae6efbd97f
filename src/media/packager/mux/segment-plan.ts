/**
 * A response body described before any media byte is read (nginx-vod's two passes): bytes the muxer built
 * (boxes, headers) and ranges of the source file to copy verbatim. `size` is known up front, so
 * Content-Length, Range and HEAD never need the payload.
 */
export type SegmentPart = Uint8Array | SourceRange;

export interface SourceRange {
  /** Absolute offset in the source file. */
  offset: number;
  length: number;
}

export interface SegmentPlan {
  /** Total body size in bytes (sum of every part). */
  size: number;
  parts: SegmentPart[];
}

export function isSourceRange(part: SegmentPart): part is SourceRange {
  return !(part instanceof Uint8Array);
}
