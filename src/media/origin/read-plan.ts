import { isSourceRange, type SegmentPlan, type SourceRange } from '../packager/index.js';
import { MediaError } from '../../shared/errors.js';
import type { BufferPool } from '../../shared/buffer-pool.js';
import { readRange, type AssetLocation } from './presentation-builder.js';
import { SegmentBody } from './segment-body.js';

/** Reading the bytes between scattered samples is cheaper than another request while the span stays this dense. */
const maxSpanOverhead = 2;

interface Span {
  start: number;
  end: number;
  ranges: SourceRange[];
}

/**
 * Groups ranges (in plan order) into spans read with one request each: interleaved MP4s put a segment's
 * samples in many small chunks separated by the other track's, so one read covers them all.
 */
function spansOf(ranges: SourceRange[]): Span[] {
  const spans: Span[] = [];
  let current: Span | undefined;
  let payload = 0;
  for (const r of ranges) {
    const end = r.offset + r.length;
    if (current && r.offset >= current.start) {
      const start = current.start;
      const newEnd = Math.max(current.end, end);
      if (newEnd - start <= (payload + r.length) * maxSpanOverhead) {
        current.end = newEnd;
        current.ranges.push(r);
        payload += r.length;
        continue;
      }
    }
    current = { start: r.offset, end, ranges: [r] };
    payload = r.length;
    spans.push(current);
  }
  return spans;
}

/**
 * Fetches the source ranges of a segment as views, one ranged read per dense span. Used by the TS muxer,
 * which converts samples (so it copies anyway).
 */
export async function readSourceRanges(loc: AssetLocation, blob: string, ranges: SourceRange[], etag?: string): Promise<Uint8Array[]> {
  const spans = spansOf(ranges);
  const reads = await Promise.all(spans.map((span) => readRange(loc, blob, span.start, span.end - span.start, etag)));
  const out: Uint8Array[] = [];
  spans.forEach((span, i) => {
    const bytes = reads[i];
    if (bytes.length !== span.end - span.start) throw truncated(blob, span.end);
    for (const r of span.ranges) out.push(bytes.subarray(r.offset - span.start, r.offset - span.start + r.length));
  });
  return out;
}

/**
 * Materialises a plan as a body of views: the built boxes, then each source range as a slice of a pooled
 * buffer holding its span. Nothing is copied after the driver's read; the socket write gathers the views.
 */
export async function readPlan(
  loc: AssetLocation,
  blob: string,
  plan: SegmentPlan,
  contentType: string,
  pool: BufferPool,
  etag?: string,
): Promise<SegmentBody> {
  const ranges = plan.parts.filter(isSourceRange);
  const spans = spansOf(ranges);
  const backing = spans.map((span) => pool.acquire(span.end - span.start));
  // On a failed read the others may still be writing into their buffers: those are left to GC, not the pool.
  await Promise.all(
    spans.map((span, i) => {
      const length = span.end - span.start;
      return loc.store.readInto(loc.container, blob, span.start, backing[i].subarray(0, length), { etag }).then((n) => {
        if (n !== length) throw truncated(blob, span.end);
      });
    }),
  );
  const chunks: Uint8Array[] = [];
  let size = 0;
  let spanIndex = 0;
  let rangeIndex = 0;
  for (const part of plan.parts) {
    if (isSourceRange(part)) {
      let span = spans[spanIndex];
      if (rangeIndex === span.ranges.length) {
        span = spans[++spanIndex];
        rangeIndex = 0;
      }
      rangeIndex++;
      const at = part.offset - span.start;
      chunks.push(backing[spanIndex].subarray(at, at + part.length));
    } else {
      chunks.push(part);
    }
    size += part.length;
  }
  if (size !== plan.size) throw new MediaError(500, 'PlanSizeMismatch', `segment plan said ${plan.size} bytes but produced ${size}`);
  return new SegmentBody(chunks, size, contentType, backing, pool);
}

function truncated(blob: string, end: number): MediaError {
  return new MediaError(502, 'TruncatedSource', `Source '${blob}' ended before byte ${end}: the file is truncated`);
}
