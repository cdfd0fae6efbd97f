import { Transform, type Readable } from 'node:stream';
import { BadRequestError } from '../../shared/errors.js';
import type { ByteRange } from '../blob-store.js';

/** Aborts on the caller's signal or after `ms`, whichever comes first. */
export function withDeadline(ms: number, signal?: AbortSignal): AbortSignal {
  const deadline = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([signal, deadline]) : deadline;
}

export function assertRange(range: ByteRange): void {
  if (!Number.isSafeInteger(range.offset) || range.offset < 0 || !Number.isSafeInteger(range.length) || range.length < 1) {
    throw new BadRequestError('InvalidRange', `Invalid byte range offset=${range.offset} length=${range.length}`);
  }
}

/**
 * Hands out a stream whose errors are already mapped, ends it after `limit` bytes, and stops the source when
 * the consumer gives up or the limit is reached.
 */
export function guardStream(source: Readable, mapError: (err: unknown) => Error, limit = Infinity): Readable {
  let left = limit;
  const out = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (left <= 0) return done();
      const piece = chunk.length > left ? chunk.subarray(0, left) : chunk;
      left -= piece.length;
      done(null, piece);
      if (left <= 0) {
        source.unpipe(out);
        out.end();
      }
    },
  });
  source.once('error', (err) => out.destroy(mapError(err)));
  out.once('close', () => source.destroy());
  source.pipe(out);
  return out;
}

/**
 * `readInto` for drivers whose reads are streams (object stores): each network chunk is copied once, into its
 * place in `target`.
 */
export async function readIntoFromStream(source: Readable, target: Uint8Array): Promise<number> {
  let at = 0;
  for await (const chunk of source) {
    const bytes = chunk as Buffer;
    const n = Math.min(bytes.length, target.length - at);
    target.set(n === bytes.length ? bytes : bytes.subarray(0, n), at);
    at += n;
    if (at >= target.length) break;
  }
  return at;
}
