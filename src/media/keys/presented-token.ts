import type { FastifyRequest } from 'fastify';

/**
 * The token a player presents: `Authorization: Bearer <token>` (AMS SWT clients also wrote `Bearer=<token>`), else
 * `?token=` for players that cannot set headers (an HLS key URL), with or without the same prefix. An SWT sent
 * URL-encoded as a whole (`Issuer%3D…`) is decoded once. Undefined when there is none.
 */
export function presentedToken(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  const bearer = header === undefined ? undefined : /^\s*Bearer(?:\s+|\s*=\s*)(\S.*?)\s*$/i.exec(header)?.[1];
  const query = (req.query as { token?: unknown } | undefined)?.token;
  const raw = bearer ?? (typeof query === 'string' && query !== '' ? query.replace(/^Bearer(?:\s+|\s*=\s*)/i, '') : undefined);
  if (raw === undefined) return undefined;
  if (/^Issuer%3D/i.test(raw)) {
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return raw;
}
