import { isSourceRange, type EncryptedSegmentPlan, type SegmentPlan, type SourceRange } from '../packager/index.js';
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
  const { views, backing } = await readPooledRanges(loc, blob, plan.parts.filter(isSourceRange), pool, etag);
  const chunks: Uint8Array[] = [];
  let size = 0;
  let rangeIndex = 0;
  for (const part of plan.parts) {
    const chunk = isSourceRange(part) ? views[rangeIndex++] : part;
    chunks.push(chunk);
    size += chunk.byteLength;
  }
  if (size !== plan.size) throw new MediaError(500, 'PlanSizeMismatch', `segment plan said ${plan.size} bytes but produced ${size}`);
  return new SegmentBody(chunks, size, contentType, backing, pool);
}

/**
 * An encrypted segment: its source ranges read into pooled buffers as for `readPlan`, then sealed (the
 * samples encrypted in those buffers, the boxes built) and sent as views. The size the plan announced, when it
 * did, is checked.
 */
export async function readSealedPlan(
  loc: AssetLocation,
  blob: string,
  plan: EncryptedSegmentPlan,
  contentType: string,
  pool: BufferPool,
  etag?: string,
): Promise<SegmentBody> {
  const { views, backing } = await readPooledRanges(loc, blob, plan.ranges, pool, etag);
  const chunks = plan.seal(views);
  let size = 0;
  for (const chunk of chunks) size += chunk.byteLength;
  if (plan.size !== undefined && size !== plan.size) throw new MediaError(500, 'PlanSizeMismatch', `segment plan said ${plan.size} bytes but produced ${size}`);
  return new SegmentBody(chunks, size, contentType, backing, pool);
}

/** Reads `ranges` (in plan order) into pooled buffers, one ranged read per dense span; returns a view per range. */
async function readPooledRanges(
  loc: AssetLocation,
  blob: string,
  ranges: SourceRange[],
  pool: BufferPool,
  etag?: string,
): Promise<{ views: Uint8Array[]; backing: Buffer[] }> {
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
  const views: Uint8Array[] = [];
  spans.forEach((span, i) => {
    for (const r of span.ranges) views.push(backing[i].subarray(r.offset - span.start, r.offset - span.start + r.length));
  });
  return { views, backing };
}

function truncated(blob: string, end: number): MediaError {
  return new MediaError(502, 'TruncatedSource', `Source '${blob}' ended before byte ${end}: the file is truncated`);
}
