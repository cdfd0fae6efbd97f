import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { SessionService } from './session-service.js';
import type { TokenService } from './token-service.js';
import type { SigningKeys } from './signing-keys.js';
import { UnauthorizedError } from '../../shared/errors.js';
import { sessionCookie, sessionIdsFrom } from '../plugins/authenticate.js';
import { refuseCrossSite } from '../plugins/cross-site.js';
import { jwksResponse, loginBody, loginResponse, logoutResponse, revokedTokensResponse, sessionTokenResponse } from './schema.js';

/** Browser sign-in and the legacy `/auth/token/` (§5.3), plus the public key endpoints (§1.3). */
export function registerAuthRoutes(
  app: FastifyInstance,
  deps: { sessions: SessionService; tokens: TokenService; keys: SigningKeys; secureCookies: boolean; publicUrl: () => string },
): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { sessions, tokens } = deps;
  const cookieAttrs = `Path=/; HttpOnly; SameSite=Lax${deps.secureCookies ? '; Secure' : ''}`;
  // Sign-in from another site would sign a victim's browser into the attacker's account (login CSRF); sign-out
  // from another site is a nuisance. Both are refused before the body is read.
  const sameOriginOnly = { onRequest: async (req: FastifyRequest) => refuseCrossSite(req, deps.publicUrl()) };

  r.post('/auth/login', { ...sameOriginOnly, schema: { body: loginBody, response: { 200: loginResponse } } }, async (req, reply) => {
    const { sessionId, userId } = await sessions.login(req.body.email, req.body.password, req.ip);
    // One cookie, always at Path=/, so a later login replaces it instead of adding a second one.
    void reply.header('set-cookie', `${sessionCookie}=${encodeURIComponent(sessionId)}; ${cookieAttrs}; Max-Age=${7 * 24 * 3600}`);
    return { user_id: userId, email: req.body.email.toLowerCase() };
  });

  r.post('/auth/logout', { ...sameOriginOnly, schema: { response: { 204: logoutResponse } } }, async (req, reply) => {
    await sessions.logout(sessionIdsFrom(req.headers.cookie));
    void reply.header('set-cookie', `${sessionCookie}=; ${cookieAttrs}; Max-Age=0`);
    return reply.code(204).send();
  });

  /**
   * A full-access token valid one year for the signed-in user, to send as `x-mkio-token` (the KB flow: open this
   * in the browser). A GET that issues a credential: refused when another site navigated here, and the session's
   * token is shown again on later opens rather than a new one minted each time.
   */
  r.get('/auth/token', { ...sameOriginOnly, schema: { response: { 200: sessionTokenResponse } } }, async (req, reply) => {
    const issued = await sessions.sessionToken(sessionIdsFrom(req.headers.cookie), tokens);
    if (!issued) throw new UnauthorizedError('Unauthorized', 'Sign in first: no valid session cookie was sent');
    void reply.header('cache-control', 'no-store');
    return { user_id: issued.principal.userId, token: issued.jwt, token_id: issued.tokenId, expires: issued.expiresAt };
  });

  app.get('/.well-known/jwks.json', { schema: { response: { 200: jwksResponse } } }, async () => ({ keys: [deps.keys.publicJwk] }));
  app.get('/.well-known/revoked.json', { schema: { response: { 200: revokedTokensResponse } } }, async () => ({ revokedTokens: await tokens.revokedIds() }));
}
