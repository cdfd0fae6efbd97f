/**
 * The one error tree. `code` strings follow MK.IO/AMS style (see docs/ERRORS.md); `detail` is safe to show
 * to the client when `expose` is true. Foreign errors are converted at driver boundaries with `cause` set.
 */
export abstract class ReelError extends Error {
  abstract readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly extraDetail?: Record<string, unknown>;
  readonly expose: boolean = true;

  constructor(code: string, detail: string, options?: { cause?: unknown; extraDetail?: Record<string, unknown> }) {
    super(detail, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = new.target.name;
    this.code = code;
    this.detail = detail;
    this.extraDetail = options?.extraDetail;
  }
}

export class BadRequestError extends ReelError {
  readonly status = 400;
}
export class UnauthorizedError extends ReelError {
  readonly status = 401;
}
export class ForbiddenError extends ReelError {
  readonly status = 403;
}
export class NotFoundError extends ReelError {
  readonly status = 404;
}
export class ConflictError extends ReelError {
  readonly status = 409;
}
/** Playback of a locator past its endTime (MK.IO's documented answer). */
export class GoneError extends ReelError {
  readonly status = 410;
}
export class PreconditionFailedError extends ReelError {
  readonly status = 412;
}
/** `size`, when known, is sent as `Content-Range: bytes *\/{size}` (RFC 9110 §15.5.17) so a client can retry. */
export class RangeNotSatisfiableError extends ReelError {
  readonly status = 416;
  readonly size?: number;
  constructor(code: string, detail: string, options?: { cause?: unknown; size?: number }) {
    super(code, detail, options);
    this.size = options?.size;
  }
}
export class TooManyRequestsError extends ReelError {
  readonly status = 429;
  constructor(
    detail: string,
    readonly retryAfterSec: number,
  ) {
    super('TooManyRequests', detail);
  }
}

/** Corrupt or unsupported media; the status is chosen per case (415, 422, 500…). */
export class MediaError extends ReelError {
  constructor(
    readonly status: number,
    code: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(code, detail, options);
  }
}

/** Storage, ffmpeg or a key server failed or could not be reached. */
export class UpstreamError extends ReelError {
  constructor(code: string, detail: string, options?: { cause?: unknown; status?: 502 | 503 }) {
    super(code, detail, options);
    this.status = options?.status ?? 502;
  }
  readonly status: number;
}

/**
 * 503 for a state an operator chose, such as a stopped streaming endpoint: expected, so it is logged as a
 * rejection (info, no stack), not as a failure; anyone can send such requests.
 */
export class UnavailableError extends ReelError {
  readonly status = 503;
}

export class InternalError extends ReelError {
  readonly status = 500;
  override readonly expose = false;
}

/** `resource` is named the way MK.IO names it in messages, e.g. "Asset 'foo'". Keeps "not found" in the text (§3). */
export function notFound(what: string): NotFoundError {
  return new NotFoundError('NotFound', `${what} not found`);
}
