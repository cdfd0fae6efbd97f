import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  BadRequestError,
  InternalError,
  NotFoundError,
  RangeNotSatisfiableError,
  ReelError,
  TooManyRequestsError,
  UnavailableError,
} from '../../shared/errors.js';

/** MK.IO/AMS error body (§3 of MKIO-API.md). `ref` is the request id, for support. */
export interface ErrorBody {
  error: { code: string; detail: string; extraDetail?: Record<string, unknown> };
  status: number;
  ref: string;
}

/** Turns anything thrown into a ReelError. Fastify's own errors (validation, body parsing) become 400s. */
export function toReelError(err: unknown): ReelError {
  if (err instanceof ReelError) return err;
  const fe = err as Partial<FastifyError> & { validation?: Array<{ instancePath: string; message?: string; params?: Record<string, unknown> }> };
  if (fe && Array.isArray(fe.validation)) {
    const context = (fe as { validationContext?: string }).validationContext ?? 'body';
    const problems = fe.validation.map((v) => {
      const where = `${context}${v.instancePath.replace(/\//g, '.')}`;
      const extra = v.params?.additionalProperty
        ? ` '${String(v.params.additionalProperty)}'`
        : v.params?.allowedValues
          ? ` (${(v.params.allowedValues as unknown[]).join(', ')})`
          : '';
      return `${where} ${v.message ?? 'is invalid'}${extra}`;
    });
    return new BadRequestError('ValidationError', `Invalid request: ${problems.join('; ')}`, { extraDetail: { errors: problems } });
  }
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Fastify client errors (bad JSON, wrong content type, body too large) carry safe messages.
    const code = fe.statusCode === 404 ? NotFoundError : BadRequestError;
    const e = new code(fe.code ?? 'BadRequest', fe.message ?? 'Bad request');
    (e as { status: number }).status = fe.statusCode;
    return e;
  }
  return new InternalError('InternalError', 'An internal error occurred', { cause: err });
}

export function errorBody(err: ReelError, ref: string): ErrorBody {
  const detail = err.expose ? err.detail : 'An internal error occurred';
  return {
    error: { code: err.code, detail, ...(err.expose && err.extraDetail ? { extraDetail: err.extraDetail } : {}) },
    status: err.status,
    ref,
  };
}

/**
 * One place where errors become responses: 4xx (and a 503 the operator chose, `UnavailableError`) logged once at
 * info, other 5xx at error with the cause; no stack reaches a client.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const reelError = toReelError(err);
    if (reelError.status >= 500 && !(reelError instanceof UnavailableError))
      request.log.error({ err: reelError.cause ?? err, code: reelError.code }, 'request failed');
    else request.log.info({ code: reelError.code, status: reelError.status }, 'request rejected');
    if (reelError instanceof TooManyRequestsError) void reply.header('retry-after', String(reelError.retryAfterSec));
    if (reelError instanceof RangeNotSatisfiableError && reelError.size !== undefined) void reply.header('content-range', `bytes */${reelError.size}`);
    void reply.code(reelError.status).type('application/json').send(errorBody(reelError, request.id));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(errorBody(new NotFoundError('NotFound', `Route ${request.method} ${request.url.split('?')[0]} not found`), request.id));
  });
}
