import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../../shared/log.js';
import { installErrorHandler } from './error-handler.js';
import { installSecurityHeaders } from './security-headers.js';

/**
 * The HTTP server every Reel process answers with: router and logging options, MK.IO error bodies and security
 * headers. The control plane builds on it, and the origin-only processes use it alone, so a playback URL gets the
 * same bytes and headers from either.
 */
export function createHttpServer(log: Logger): FastifyInstance {
  const app = Fastify({
    // pino's Logger is Fastify's logger; the cast only widens Fastify's generic to its base type.
    loggerInstance: log as unknown as FastifyBaseLogger,
    genReqId: () => randomUUID(),
    // Per-request lines cost throughput; errors are logged once by the error handler, the rest at debug.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1024 },
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: true, useDefaults: true } },
  });
  installErrorHandler(app);
  installSecurityHeaders(app);
  if (log.isLevelEnabled('debug'))
    app.addHook('onResponse', async (req, reply) => {
      req.log.debug({ method: req.method, url: req.routeOptions.url, status: reply.statusCode, ms: reply.elapsedTime }, 'request done');
    });
  return app;
}
