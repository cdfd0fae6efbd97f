import type { SegmentPlan, SourceRange } from '../packager/mux/segment-plan.js';
import { isSourceRange } from '../packager/mux/segment-plan.js';
import { MediaError } from '../../shared/errors.js';
import { readRange, type AssetLocation } from './presentation-builder.js';

/** Reading the bytes between scattered samples is cheaper than another request while the span stays this dense. */
const maxSpanOverhead = 2;

/**
 * Fetches the source ranges of a segment: one ranged read covering them all when they lie close together
 * (interleaved MP4s put a segment's samples in a few nearby chunks), else one read per range. Returns views.
 */
export async function readSourceRanges(loc: AssetLocation, blob: string, ranges: SourceRange[]): Promise<Uint8Array[]> {
  if (ranges.length === 0) return [];
  let start = Infinity;
  let end = 0;
  let payload = 0;
  for (const r of ranges) {
    if (r.offset < start) start = r.offset;
    if (r.offset + r.length > end) end = r.offset + r.length;
    payload += r.length;
  }
  if (end - start <= payload * maxSpanOverhead) {
    const span = await readRange(loc, blob, start, end - start);
    if (span.length !== end - start) throw new MediaError(502, 'TruncatedSource', `Source '${blob}' ended before byte ${end}: the file is truncated`);
    return ranges.map((r) => span.subarray(r.offset - start, r.offset - start + r.length));
  }
  const out = await Promise.all(ranges.map((r) => readRange(loc, blob, r.offset, r.length)));
  out.forEach((b, i) => {
    if (b.length !== ranges[i].length) throw new MediaError(502, 'TruncatedSource', `Source '${blob}' ended before byte ${ranges[i].offset + ranges[i].length}: the file is truncated`);
  });
  return out;
}

/** Materialises a plan into one buffer of exactly `plan.size` bytes (allocated once, each part copied once). */
export async function fillPlan(loc: AssetLocation, blob: string, plan: SegmentPlan): Promise<Buffer> {
  const ranges = plan.parts.filter(isSourceRange);
  const data = await readSourceRanges(loc, blob, ranges);
  const out = Buffer.allocUnsafe(plan.size);
  let at = 0;
  let next = 0;
  for (const part of plan.parts) {
    const bytes = isSourceRange(part) ? data[next++] : part;
    out.set(bytes, at);
    at += bytes.length;
  }
  if (at !== plan.size) throw new MediaError(500, 'PlanSizeMismatch', `segment plan said ${plan.size} bytes but produced ${at}`);
  return out;
}
