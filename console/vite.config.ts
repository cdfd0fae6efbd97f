// The web console: a React single-page app built into console/dist and served by Reel at `/`
// (src/control/console-static.ts). Build: `npm run build:console` (scripts/setup.mjs does it for `npm start`
// and `npm test`). Develop: `npx vite --config console/vite.config.ts` with a Reel server on REEL_URL
// (default http://127.0.0.1:8080); API, sign-in and signed file URLs are proxied to it, so cookies stay same-origin.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const target = process.env.REEL_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Must match the prefix the server serves hashed files under (consoleAssetsPrefix).
    assetsDir: 'assets',
    target: 'es2022',
    // Shaka Player alone is ~800 kB; it is loaded only when a player is shown.
    chunkSizeWarningLimit: 1000,
  },
  server: {
    proxy: Object.fromEntries(['/api', '/auth', '/files', '/doc'].map((p) => [p, { target, changeOrigin: false }])),
  },
});
