import { Transform, type Readable } from 'node:stream';
import { BadRequestError, UpstreamError } from '../../shared/errors.js';
import { addressRefusedCode } from '../../shared/outbound-agent.js';
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

/** True when a request failed because a guarded agent refused its address (see shared/outbound-agent.ts). */
export function isAddressRefusal(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === addressRefusedCode) return true;
  }
  return false;
}

/**
 * The account's host is (now) on a private address: refused on every request, not only at creation, because DNS
 * can change after an account was saved. The detail names no address: what a name resolves to inside the
 * server's network is not the tenant's to learn.
 */
export function addressNotAllowed(cause: unknown): UpstreamError {
  return new UpstreamError(
    'StorageAddressNotAllowed',
    "The storage account's host resolves to a local or private address, which this server does not connect to for tenants (an operator may allow the host with REEL_STORAGE_ALLOWED_HOSTS)",
    { cause },
  );
}

/**
 * A storage service's error code, shown only when it is one we know: codes come from the response (header or
 * body), and a service that is not what it claims could put anything there.
 */
export function knownCode(code: unknown, known: ReadonlySet<string>): string | undefined {
  return typeof code === 'string' && known.has(code) ? code : undefined;
}
