import type { FastifyReply, FastifyRequest } from 'fastify';
import { UnauthorizedError } from '../../shared/errors.js';
import type { Principal } from '../auth/principal.js';
import type { TokenService } from '../auth/token-service.js';
import type { SessionService } from '../auth/session-service.js';
import { refuseCrossSiteWrite } from './cross-site.js';

export const sessionCookie = 'reel_session';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/**
 * Every value of the session cookie in the raw header. Browsers send duplicates when a cookie was set for two
 * paths or domains; a parser keeping only one would fail on the stale copy.
 */
export function sessionIdsFrom(cookieHeader: string | undefined): string[] {
  if (!cookieHeader) return [];
  const ids: string[] = [];
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === sessionCookie) ids.push(decodeURIComponent(part.slice(eq + 1).trim()));
  }
  return ids;
}

/** The token a client presented: `x-mkio-token` (legacy) or `Authorization: Bearer`. */
export function presentedToken(request: FastifyRequest): string | undefined {
  const legacy = request.headers['x-mkio-token'];
  if (typeof legacy === 'string' && legacy.length > 0) return legacy.trim();
  const auth = request.headers.authorization;
  if (auth && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim();
  return undefined;
}

/**
 * Resolves the caller from a token, or else from the browser session cookie; 401 when neither works. The cookie
 * is an ambient credential a browser attaches to requests other sites start, so a cookie-authenticated write
 * from another site is refused here, before its body is even read (CSRF). A token needs no such check: no page
 * can make a browser send one.
 */
export function createAuthenticate(tokens: TokenService, sessions: SessionService, publicUrl: () => string) {
  return async function authenticate(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const token = presentedToken(request);
    if (token) {
      request.principal = await tokens.authenticate(token);
      return;
    }
    const principal = await sessions.resolve(sessionIdsFrom(request.headers.cookie));
    if (!principal) throw new UnauthorizedError('Unauthorized', 'Authentication required: send x-mkio-token or Authorization: Bearer <token>');
    refuseCrossSiteWrite(request, publicUrl());
    request.principal = principal;
  };
}
