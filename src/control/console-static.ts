import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { consoleCsp } from './plugins/security-headers.js';

/**
 * Where the built web console lives: `console/dist` at the repository root. The root is the nearest folder
 * above this module holding a package.json, so the same code finds it from `src/control/` (tsx) and from
 * `dist/` (the esbuild bundle `npm start` runs).
 */
export function defaultConsoleDir(start = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = start;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return path.join(start, 'console', 'dist');
    dir = parent;
  }
  return path.join(dir, 'console', 'dist');
}

/** Hashed bundle files are served under this prefix; a static segment outranks the origin's `/:locatorId/*`. */
export const consoleAssetsPrefix = '/assets/';

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Reel</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5">
<h1>Reel</h1>
<p>The web console has not been built. Run <code>npm start</code> (its set-up builds it), or <code>npm run build:console</code>, then reload this page.</p>
<p>The API works without it: see <a href="/doc/ui">/doc/ui</a>.</p>
</body></html>
`;

/**
 * The web console (a single-page app, `console/`): `index.html` at `/` (never cached, so a new build is seen at
 * once) and its content-hashed files under `/assets/` (cached for a year, immutable). The app routes with the
 * URL hash, so no other path is needed and none can shadow an API or playback route. When the console was not
 * built, `/` answers a short page saying how to build it. The page carries a strict CSP (`consoleCsp`): only the
 * console's own scripts run, and it plays from the streaming endpoint hosts of `streamingDomain`.
 */
export async function registerConsole(app: FastifyInstance, options: { dir?: string; streamingDomain?: () => string } = {}): Promise<void> {
  const dir = options.dir ?? defaultConsoleDir();
  const indexFile = path.join(dir, 'index.html');

  app.get('/', { schema: { hide: true } }, async (_req, reply) => {
    void reply
      .header('content-security-policy', consoleCsp(options.streamingDomain?.()))
      .header('x-content-type-options', 'nosniff')
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'same-origin');
    let html: Buffer;
    try {
      html = await fs.promises.readFile(indexFile);
    } catch {
      return reply.code(503).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(notBuiltPage);
    }
    return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(html);
  });

  const assets = path.join(dir, 'assets');
  // Registered only when built: @fastify/static warns about a missing root, and there is nothing to serve.
  if (fs.existsSync(assets)) {
    await app.register(fastifyStatic, {
      root: assets,
      prefix: consoleAssetsPrefix,
      decorateReply: false,
      index: false,
      list: false,
      immutable: true,
      maxAge: '365d',
      preCompressed: false,
    });
  }
}
