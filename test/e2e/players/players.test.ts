// Proves the playback harness against media Reel did not make: a 6 s 640x360 H.264 + AAC clip packaged by
// ffmpeg itself as HLS fMP4, HLS TS and DASH, served with CORS from a server on another port than the
// player page. If these fail, the harness (or the browser) is broken, not Reel.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { closeBrowser, playToEnd, type PlayerName, type PlayResult } from './play.js';

const SECONDS = 6;
const FPS = 25;
const refDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/.cache/e2e-ref');

/** Makes (once, cached) the reference clip and ffmpeg's own HLS fMP4, HLS TS and DASH packagings of it. */
function makeReferenceStreams(): string {
  const done = path.join(refDir, '.complete-v1');
  if (fs.existsSync(done)) return refDir;
  const tmp = `${refDir}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  for (const sub of ['hls-fmp4', 'hls-ts', 'dash']) fs.mkdirSync(path.join(tmp, sub), { recursive: true });
  const ff = (args: string[]) => execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  const clip = path.join(tmp, 'clip.mp4');
  ff([
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=640x360:rate=${FPS}:duration=${SECONDS}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:sample_rate=48000:duration=${SECONDS}`,
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-profile:v',
    'main',
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(2 * FPS),
    '-keyint_min',
    String(2 * FPS),
    '-sc_threshold',
    '0',
    '-b:v',
    '600k',
    '-c:a',
    'aac',
    '-b:a',
    '96k',
    '-ac',
    '2',
    '-shortest',
    clip,
  ]);
  const copy = ['-i', clip, '-map', '0:v', '-map', '0:a', '-c', 'copy'];
  ff([
    ...copy,
    '-f',
    'hls',
    '-hls_segment_type',
    'fmp4',
    '-hls_time',
    '2',
    '-hls_playlist_type',
    'vod',
    '-hls_fmp4_init_filename',
    'init.mp4',
    '-hls_segment_filename',
    path.join(tmp, 'hls-fmp4', 'seg_%03d.m4s'),
    '-master_pl_name',
    'master.m3u8',
    path.join(tmp, 'hls-fmp4', 'index.m3u8'),
  ]);
  ff([
    ...copy,
    '-bsf:v',
    'h264_mp4toannexb',
    '-f',
    'hls',
    '-hls_segment_type',
    'mpegts',
    '-hls_time',
    '2',
    '-hls_playlist_type',
    'vod',
    '-hls_segment_filename',
    path.join(tmp, 'hls-ts', 'seg_%03d.ts'),
    '-master_pl_name',
    'master.m3u8',
    path.join(tmp, 'hls-ts', 'index.m3u8'),
  ]);
  ff([
    ...copy,
    '-f',
    'dash',
    '-seg_duration',
    '2',
    '-use_template',
    '1',
    '-use_timeline',
    '1',
    '-adaptation_sets',
    'id=0,streams=v id=1,streams=a',
    path.join(tmp, 'dash', 'manifest.mpd'),
  ]);
  fs.rmSync(refDir, { recursive: true, force: true });
  fs.renameSync(tmp, refDir);
  fs.writeFileSync(done, '');
  return refDir;
}

const TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mpd': 'application/dash+xml',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.ts': 'video/mp2t',
  '.m4a': 'audio/mp4',
};

/** A static file server on its own port; `cors: false` leaves out Access-Control-Allow-Origin. */
async function serveStatic(dir: string, options: { cors: boolean }): Promise<{ origin: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const headers: Record<string, string> = { 'cache-control': 'no-store' };
    if (options.cors) headers['access-control-allow-origin'] = '*';
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = path.join(dir, path.normalize(rel));
    if (!file.startsWith(dir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { ...headers, 'content-type': 'text/plain' });
      return res.end('not found');
    }
    const body = fs.readFileSync(file);
    res.writeHead(200, { ...headers, 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function report(label: string, r: PlayResult): string {
  return (
    `${label}: state=${r.state} ended=${r.ended} t=${r.currentTime.toFixed(3)}/${r.duration.toFixed(3)} frames=${r.decodedFrames}` +
    ` (dropped ${r.droppedFrames}) rate=${r.playbackRate} played=${JSON.stringify(r.played)} wall=${r.wallMs}ms` +
    ` errors=${JSON.stringify(r.errors)} warnings=${JSON.stringify(r.warnings)}\nlog:\n  ${r.log.join('\n  ')}`
  );
}

function assertPlayedThrough(label: string, r: PlayResult): void {
  const why = report(label, r);
  assert.deepEqual(r.errors, [], why);
  assert.equal(r.ended, true, why);
  assert.ok(Math.abs(r.duration - SECONDS) <= 0.5, `duration ≈ ${SECONDS}: ${why}`);
  assert.ok(Math.abs(r.currentTime - r.duration) <= 0.5, `currentTime ≈ duration: ${why}`);
  assert.ok(r.decodedFrames > 0.8 * SECONDS * FPS, `decoded frames > ${0.8 * SECONDS * FPS}: ${why}`);
  // Played through from the start without skipping: the played ranges cover [0, duration] except for tiny
  // gaps (players jump over the few tens of ms between 0 and the first TS/AAC timestamp).
  assert.ok(r.played.length > 0, `something was played: ${why}`);
  const first = r.played[0][0];
  const last = r.played[r.played.length - 1][1];
  const gaps = r.played.slice(1).reduce((sum, [start], i) => sum + (start - r.played[i][1]), 0);
  assert.ok(first <= 0.5 && last >= r.duration - 0.5 && gaps <= 0.5, `played ranges cover the clip: ${why}`);
  assert.equal(r.videoWidth, 640, why);
  assert.equal(r.videoHeight, 360, why);
}

describe('e2e playback harness against ffmpeg-packaged reference streams', { timeout: 240_000 }, () => {
  let media: { origin: string; close(): Promise<void> };
  let noCors: { origin: string; close(): Promise<void> };

  before(async () => {
    const dir = makeReferenceStreams();
    media = await serveStatic(dir, { cors: true });
    noCors = await serveStatic(dir, { cors: false });
  });
  after(async () => {
    await closeBrowser();
    await media?.close();
    await noCors?.close();
  });

  const cases: Array<{ player: PlayerName; stream: string; path: string }> = [
    { player: 'hls.js', stream: 'hls-fmp4', path: 'hls-fmp4/master.m3u8' },
    { player: 'hls.js', stream: 'hls-ts', path: 'hls-ts/master.m3u8' },
    { player: 'dash.js', stream: 'dash', path: 'dash/manifest.mpd' },
    { player: 'shaka', stream: 'hls-fmp4', path: 'hls-fmp4/master.m3u8' },
    { player: 'shaka', stream: 'hls-ts', path: 'hls-ts/master.m3u8' },
    { player: 'shaka', stream: 'dash', path: 'dash/manifest.mpd' },
  ];
  for (const c of cases) {
    test(`${c.player} plays ffmpeg's ${c.stream} to the end`, async () => {
      const r = await playToEnd({
        url: `${media.origin}/${c.path}`,
        player: c.player,
        timeoutMs: 30_000,
        playbackRate: 4,
        name: `ref-${c.player}-${c.stream}`,
      });
      assertPlayedThrough(`${c.player} ${c.stream}`, r);
      assert.ok(
        r.variants.some((v) => v.width === 640 && v.height === 360),
        `variant info: ${JSON.stringify(r.variants)}`,
      );
      assert.ok(r.screenshot && fs.statSync(r.screenshot).size > 1000, 'screenshot saved');
    });
  }

  test('a faster rate still decodes every frame (hls.js, 16x)', async () => {
    const r = await playToEnd({ url: `${media.origin}/hls-fmp4/master.m3u8`, player: 'hls.js', timeoutMs: 30_000, playbackRate: 16 });
    assertPlayedThrough('hls.js 16x', r);
    assert.equal(r.playbackRate, 16);
  });

  for (const player of ['hls.js', 'dash.js', 'shaka'] as const) {
    test(`${player}: a stream that 404s ends in state 'error' quickly`, async () => {
      const url = `${media.origin}/missing/${player === 'dash.js' ? 'manifest.mpd' : 'master.m3u8'}`;
      const started = Date.now();
      const r = await playToEnd({ url, player, timeoutMs: 20_000 });
      const elapsed = Date.now() - started;
      const why = report(`${player} 404`, r);
      assert.equal(r.state, 'error', why);
      assert.equal(r.timedOut, false, why);
      assert.equal(r.ended, false, why);
      assert.ok(
        r.errors.some((e) => e.includes('HTTP 404')),
        `the 404 response is reported: ${why}`,
      );
      assert.ok(
        r.errors.some((e) => !e.startsWith('HTTP ') && !e.startsWith('console:')),
        `the player reports an error: ${why}`,
      );
      assert.ok(elapsed < 10_000, `took ${elapsed} ms: ${why}`);
    });
  }

  test('a stream without CORS headers fails with the CORS problem visible (hls.js)', async () => {
    const r = await playToEnd({ url: `${noCors.origin}/hls-fmp4/master.m3u8`, player: 'hls.js', timeoutMs: 20_000 });
    const why = report('hls.js no CORS', r);
    assert.equal(r.state, 'error', why);
    assert.ok(
      r.errors.some((e) => /CORS|Access-Control-Allow-Origin/i.test(e)),
      `CORS named in errors: ${why}`,
    );
    assert.ok(
      r.errors.some((e) => e.startsWith('request failed:')),
      `failed request reported: ${why}`,
    );
  });
});
