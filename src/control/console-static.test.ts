import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { defaultConsoleDir, registerConsole } from './console-static.js';

describe('web console serving', () => {
  it('serves index.html uncached and hashed files for a year, and never shadows a playback path', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-console-'));
    fs.mkdirSync(path.join(dir, 'assets'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>console</title>');
    fs.writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    const app = Fastify();
    await registerConsole(app, { dir, streamingDomain: () => 'localhost:8080' });
    // The origin's catch-all, as the media plane registers it.
    app.get('/:locatorId/*', async () => 'origin');
    try {
      const index = await app.inject('/');
      assert.equal(index.statusCode, 200);
      assert.equal(index.headers['cache-control'], 'no-cache');
      assert.match(String(index.headers['content-type']), /^text\/html/);
      assert.match(index.body, /<title>console<\/title>/);
      const csp = String(index.headers['content-security-policy']);
      for (const directive of [
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "connect-src 'self' *.localhost:8080",
        "media-src 'self' blob: *.localhost:8080",
      ]) {
        assert.ok(csp.split('; ').includes(directive), `${directive} in ${csp}`);
      }
      assert.doesNotMatch(csp, /script-src[^;]*(unsafe|data:|blob:|\*)/);
      assert.equal(index.headers['x-frame-options'], 'DENY');
      assert.equal(index.headers['x-content-type-options'], 'nosniff');

      const asset = await app.inject('/assets/index-abc123.js');
      assert.equal(asset.statusCode, 200);
      assert.match(String(asset.headers['cache-control']), /max-age=31536000.*immutable/);
      assert.equal(asset.body, 'console.log(1)');
      assert.equal((await app.inject('/assets/missing.js')).statusCode, 404);

      const playback = await app.inject('/7e1e7e1e-0000-4000-8000-000000000001/clip.ism/manifest');
      assert.equal(playback.body, 'origin');
    } finally {
      await app.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers a page saying how to build the console when it was not built', async () => {
    const app = Fastify();
    await registerConsole(app, { dir: path.join(os.tmpdir(), 'reel-console-never-built') });
    try {
      const res = await app.inject('/');
      assert.equal(res.statusCode, 503);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.match(res.body, /npm start/);
    } finally {
      await app.close();
    }
  });

  it('finds console/dist at the repository root from src/control', () => {
    const dir = defaultConsoleDir();
    assert.ok(fs.existsSync(path.join(path.dirname(path.dirname(dir)), 'package.json')), dir);
    assert.equal(path.basename(dir), 'dist');
  });
});
