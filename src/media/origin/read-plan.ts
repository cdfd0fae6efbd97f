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
export async function readSourceRanges(loc: AssetLocation, blob: string, ranges: SourceRange[], etag?: string): Promise<Uint8Array[]> {
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
    const span = await readRange(loc, blob, start, end - start, etag);
    if (span.length !== end - start) throw new MediaError(502, 'TruncatedSource', `Source '${blob}' ended before byte ${end}: the file is truncated`);
    return ranges.map((r) => span.subarray(r.offset - start, r.offset - start + r.length));
  }
  const out = await Promise.all(ranges.map((r) => readRange(loc, blob, r.offset, r.length, etag)));
  out.forEach((b, i) => {
    if (b.length !== ranges[i].length) throw new MediaError(502, 'TruncatedSource', `Source '${blob}' ended before byte ${ranges[i].offset + ranges[i].length}: the file is truncated`);
  });
  return out;
}

/** Beyond this many separate runs, one read of the whole span plus copies beats many small reads. */
const maxDirectReads = 16;

/**
 * Materialises a plan into one buffer of exactly `plan.size` bytes, allocated once: built boxes are copied in,
 * source runs are read by the driver straight into their place (no intermediate buffers).
 */
export async function fillPlan(loc: AssetLocation, blob: string, plan: SegmentPlan, etag?: string): Promise<Buffer> {
  const out = Buffer.allocUnsafe(plan.size);
  const reads: Array<{ offset: number; at: number; length: number }> = [];
  let at = 0;
  for (const part of plan.parts) {
    if (isSourceRange(part)) {
      const last = reads[reads.length - 1];
      // Runs adjacent in the file and in the output are one read.
      if (last && last.offset + last.length === part.offset && last.at + last.length === at) last.length += part.length;
      else reads.push({ offset: part.offset, at, length: part.length });
      at += part.length;
    } else {
      out.set(part, at);
      at += part.length;
    }
  }
  if (at !== plan.size) throw new MediaError(500, 'PlanSizeMismatch', `segment plan said ${plan.size} bytes but produced ${at}`);
  if (reads.length > maxDirectReads) {
    const views = await readSourceRanges(loc, blob, reads, etag);
    views.forEach((v, i) => out.set(v, reads[i].at));
    return out;
  }
  const got = await Promise.all(reads.map((r) => loc.store.readInto(loc.container, blob, r.offset, out.subarray(r.at, r.at + r.length), { etag })));
  got.forEach((n, i) => {
    if (n !== reads[i].length) throw new MediaError(502, 'TruncatedSource', `Source '${blob}' ended before byte ${reads[i].offset + reads[i].length}: the file is truncated`);
  });
  return out;
}
