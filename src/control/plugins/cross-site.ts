import type { FastifyRequest } from 'fastify';
import { ForbiddenError } from '../../shared/errors.js';

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether a browser says this request was started by another site. `Sec-Fetch-Site` (sent by current browsers)
 * decides when present: `same-site` counts as foreign too, since a sibling subdomain may be someone else's.
 * Otherwise an `Origin` that is neither this server's public origin nor the origin the request was addressed to
 * (its Host header) is foreign, `null` included. With neither header (curl, scripts, old browsers on GET) the
 * request is taken as first-party: SameSite=Lax keeps the cookie off cross-site subrequests there.
 */
export function isCrossSite(request: FastifyRequest, publicUrl: string): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return true;
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  return !isOwnOrigin(origin, request.headers.host, publicUrl);
}

function isOwnOrigin(origin: string, host: string | undefined, publicUrl: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  if (publicUrl && safeOrigin(publicUrl) === parsed.origin) return true;
  // Behind a TLS-terminating proxy the scheme the browser used is not ours to see; the host must match exactly.
  return host !== undefined && safeHost(`${parsed.protocol}//${host}`) === parsed.host;
}

function safeOrigin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

function safeHost(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

/**
 * Refuses a request that rides an ambient credential (the session cookie) from another site. Used for every
 * cookie-authenticated request with a non-safe method, for sign-in and sign-out, and for `/auth/token/`.
 */
export function refuseCrossSite(request: FastifyRequest, publicUrl: string): void {
  if (isCrossSite(request, publicUrl)) {
    throw new ForbiddenError(
      'CrossSiteRequestRefused',
      'A request from another site cannot use the browser session; use the console on this server, or send a token (x-mkio-token or Authorization: Bearer)',
    );
  }
}

/** Only non-safe methods change anything; GETs with the cookie stay open so links into the console work. */
export function refuseCrossSiteWrite(request: FastifyRequest, publicUrl: string): void {
  if (!safeMethods.has(request.method)) refuseCrossSite(request, publicUrl);
}
