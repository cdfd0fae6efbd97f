import { RangeNotSatisfiableError } from './errors.js';

/** A byte range, as the storage drivers take it. */
export interface ParsedRange {
  offset: number;
  length: number;
}

/**
 * Parses a single `bytes=` range against a known size (multi-range is answered with the whole file, as RFC 9110
 * allows). An unsatisfiable one throws a 416 carrying the size, which the error handler sends as Content-Range.
 */
export function parseRange(header: string | undefined, size: number): ParsedRange | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw new RangeNotSatisfiableError('RangeNotSatisfiable', 'Requested range not satisfiable', { size });
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || end < start) throw new RangeNotSatisfiableError('RangeNotSatisfiable', 'Requested range not satisfiable', { size });
  return { offset: start, length: end - start + 1 };
}
