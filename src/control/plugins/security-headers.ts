import type { FastifyInstance } from 'fastify';

/**
 * Every response of this server (API JSON, errors, playback, files) says: nothing here renders as a page that
 * runs or loads anything, nothing may frame it, and no type is guessed from the bytes. Routes that serve a page
 * (the console, the API docs) or a user's file replace the policy with their own.
 */
export const defaultCsp = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const defaults: Record<string, string> = {
  'content-security-policy': defaultCsp,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // Not no-referrer: that also blanks the Origin of same-origin POSTs, which a CSRF check may rely on.
  'referrer-policy': 'same-origin',
};

/**
 * Set when the request arrives, so every answer carries them, including errors and replies written outside
 * Fastify's send path (the origin's gathered segment writes).
 */
export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', async (_req, reply) => {
    void reply.headers(defaults);
  });
}

/**
 * The console's policy: its own scripts only (no inline script, no eval), no plugins, no `<base>`, never framed;
 * API calls to itself, playback through the streaming endpoint hosts (`*.{streamingDomain}`) with Media Source
 * Extensions (`blob:` media). Styles may be inline: Mantine writes its theme variables into a `<style>` element,
 * and a style cannot run script.
 */
export function consoleCsp(streamingDomain: string | undefined): string {
  const streams = streamingDomain ? ` *.${streamingDomain}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self'${streams}`,
    `media-src 'self' blob:${streams}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ');
}

/** Swagger UI at /doc/ui: its own files (no inline script), its inline styles and data: icons, calls to this API. */
export const docsCsp =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
