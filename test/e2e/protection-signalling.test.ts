// Real players read Reel's protection signalling the way the writers' comments claim, in Debian's Chromium:
// - DASH CENC: Shaka Player and dash.js find the ClearKey licence server (`dashif:Laurl`) and hand init data built
//   from `cenc:default_KID` to the ClearKey CDM, whose licence request names the MPD's key ids; the Widevine and
//   PlayReady descriptors beside it (this Chromium has neither) do not stop them choosing ClearKey.
// - HLS-CMAF CENC: Shaka fetches the `identity` key URLs (EXT-X-SESSION-KEY, then the media playlists).
// - HLS AES-128: hls.js and Shaka play a really encrypted stream to the end with Reel's playlists (key URL, no IV).
// The CENC cases check signalling only (no encrypted fMP4 is served); decryption belongs to the encryptor's tests.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { createRequire } from 'node:module';
import os from 'node:os';
import { after, before, describe, it } from 'node:test';
import { dashMpd } from '../../src/media/packager/mux/manifest/dash.js';
import { hlsMasterPlaylist, hlsMediaPlaylist } from '../../src/media/packager/mux/manifest/hls.js';
import { parseFragmentPath, parseMediaPlaylistPath, type ManifestProtection } from '../../src/media/packager/mux/manifest/manifest-context.js';
import type { Presentation } from '../../src/media/packager/model/presentation.js';
import { makeTrack, twoRenditionPresentation } from '../fixtures/hand-built-presentations.js';
import { closeBrowser, getBrowser } from './players/play.js';
import { PLAYER_LIBRARIES, type PlayerName } from './players/player-page.js';

const VIDEO_KEY = '0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9';
const AUDIO_KEY = 'f0e1d2c3-b4a5-9687-7869-5a4b3c2d1e0f';
const base64url = (guid: string) => Buffer.from(guid.replace(/-/g, ''), 'hex').toString('base64url');

interface Seen {
  method: string;
  path: string;
  body: string;
}

const nodeModules = path.dirname(path.dirname(createRequire(import.meta.url).resolve('shaka-player/package.json')));
const presentation = twoRenditionPresentation();

let server: http.Server;
let origin = '';
const seen: Seen[] = [];

function protection(): ManifestProtection {
  return {
    scheme: 'cenc',
    keyIdOf: (t) => (t.kind === 'video' ? VIDEO_KEY : AUDIO_KEY),
    keyUrl: (keyId) => `${origin}/key/${keyId}`,
    clearKey: { licenseUrl: `${origin}/license?via=manifest` },
    widevine: { licenseUrl: `${origin}/widevine` },
    playReady: { licenseUrl: `${origin}/playready` },
  };
}

function page(player: string, src: string): string {
  const libs = PLAYER_LIBRARIES[player as PlayerName].map((lib) => `<script src="/lib/${lib}"></script>`).join('');
  const start =
    player === 'hls.js'
      ? `const p = new Hls(); p.loadSource(${JSON.stringify(src)}); p.attachMedia(video);`
      : player === 'shaka'
        ? `shaka.polyfill.installAll(); const p = new shaka.Player(); p.attach(video).then(() => p.load(${JSON.stringify(src)})).catch((e) => { window.loadError = String(e && e.code); });`
        : `const DASH_LOG = ${process.env.SIG_DEBUG ? 5 : 0}; const p = dashjs.MediaPlayer().create(); p.updateSettings({ debug: { logLevel: DASH_LOG } }); p.initialize(video, ${JSON.stringify(src)}, true);`;
  // window.outcome: 'ended' once the video played to its end, or the first error.
  const watch =
    `window.outcome = ''; video.addEventListener('ended', () => { window.outcome ||= 'ended'; });` +
    `video.addEventListener('error', () => { window.outcome ||= 'video error ' + (video.error && video.error.message); });` +
    (player === 'hls.js'
      ? `p.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal) window.outcome ||= 'hls.js error ' + d.details; });`
      : player === 'shaka'
        ? `p.addEventListener('error', (e) => { window.outcome ||= 'shaka error ' + (e.detail && e.detail.code); });`
        : `p.on(dashjs.MediaPlayer.events.ERROR, (e) => { window.outcome ||= 'dash.js error ' + JSON.stringify(e.error && (e.error.message || e.error.code)); });`);
  return `<!doctype html><html><body><video id="v" muted autoplay></video>${libs}<script>const video = document.getElementById('v'); ${start} ${watch}</script></body></html>`;
}

/**
 * A real AES-128 stream for the playback tests: 8 s of H.264 in four 2 s MPEG-TS segments (ffmpeg), each encrypted
 * here as HLS AES-128 asks (RFC 8216 §5.2: AES-128-CBC of the whole segment, PKCS7 padding, IV = the media
 * sequence number, i.e. the segment index), served under the playback grammar with Reel's playlists, which name
 * the key URL and no IV. (A CENC playback test waits for Reel's own fMP4 encryptor: ffmpeg's fragmented CENC
 * output has no `senc`, and Chromium refuses it.)
 */
const CONTENT_KEY = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
let envelopeSegments: Buffer[] | undefined;
const envelopePresentation: Presentation = {
  durationSec: 8,
  targetSegmentSec: 2,
  tracks: [
    makeTrack({
      kind: 'video',
      name: 'video',
      bitrateBps: 400000,
      timescale: 90000,
      fourcc: 'avc1',
      codecs: 'avc1.42c01e',
      video: { width: 320, height: 240, frameRate: 25 },
      durations: [180000, 180000, 180000, 180000],
    }),
  ],
};

function makeEnvelopeStream(dir: string): Buffer[] {
  execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-t', '8'],
    ...['-c:v', 'libx264', '-profile:v', 'baseline', '-level', '3.0', '-pix_fmt', 'yuv420p', '-g', '50', '-keyint_min', '50', '-sc_threshold', '0', '-an'],
    ...['-f', 'hls', '-hls_time', '2', '-hls_playlist_type', 'vod', '-hls_segment_filename', path.join(dir, 'seg%d.ts'), path.join(dir, 'clear.m3u8')],
  ]);
  return [0, 1, 2, 3].map((index) => {
    const iv = Buffer.alloc(16);
    iv.writeUInt32BE(index, 12);
    const cipher = createCipheriv('aes-128-cbc', CONTENT_KEY, iv);
    return Buffer.concat([cipher.update(fs.readFileSync(path.join(dir, `seg${index}.ts`))), cipher.final()]);
  });
}

/** `/enc/video.ism/…`: Reel's playlists of the AES-128 stream and its segments by the playback grammar. */
function routeEnvelope(p: string, send: (status: number, type: string, data: string | Buffer) => void): boolean {
  if (!p.startsWith('/enc/video.ism/') || !envelopeSegments) return false;
  const rest = p.slice('/enc/video.ism/'.length);
  const ctx = {
    format: 'm3u8-aapl' as const,
    extraOptions: ['encryption=cbc'],
    protection: { scheme: 'aes-128' as const, keyIdOf: () => VIDEO_KEY, keyUrl: (keyId: string) => `${origin}/enc/key/${keyId}` },
  };
  const track = envelopePresentation.tracks[0];
  if (rest === 'manifest.m3u8') send(200, 'application/vnd.apple.mpegurl', hlsMasterPlaylist(envelopePresentation, ctx));
  else if (parseMediaPlaylistPath(rest)) send(200, 'application/vnd.apple.mpegurl', hlsMediaPlaylist(envelopePresentation, track, ctx));
  else {
    const f = parseFragmentPath(rest);
    if (!f) return false;
    const body = typeof f.start === 'number' ? envelopeSegments[f.start / 180000] : undefined;
    if (body) send(200, 'video/mp2t', body);
    else send(404, 'text/plain', 'no such segment');
  }
  return true;
}

function route(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', origin);
  // The AES-128 stream's key URL is the same handler under /enc.
  const p = decodeURIComponent(url.pathname).replace(/^\/enc\/key\//, '/key/');
  const send = (status: number, type: string, data: string | Buffer) => {
    res.writeHead(status, { 'content-type': type, 'access-control-allow-origin': '*' });
    res.end(data);
  };
  if (p.startsWith('/lib/')) {
    const file = path.join(nodeModules, p.slice(5));
    if (!file.startsWith(nodeModules) || !fs.existsSync(file)) return send(404, 'text/plain', 'no');
    return send(200, 'text/javascript', fs.readFileSync(file));
  }
  if (routeEnvelope(p, send)) return;
  if (p === '/page.html') return send(200, 'text/html', page(url.searchParams.get('player') ?? '', url.searchParams.get('src') ?? ''));
  if (p === '/video.ism/manifest.mpd')
    return send(200, 'application/dash+xml', dashMpd(presentation, { format: 'mpd-time-cmaf', extraOptions: [], protection: protection() }));
  if (p === '/video.ism/manifest.m3u8')
    return send(200, 'application/vnd.apple.mpegurl', hlsMasterPlaylist(presentation, { format: 'm3u8-cmaf', extraOptions: [], protection: protection() }));
  const media = p.startsWith('/video.ism/') ? parseMediaPlaylistPath(p.slice('/video.ism/'.length)) : undefined;
  if (media) {
    const track = presentation.tracks.find((t) => t.bitrateBps === media.bitrate && t.name === media.trackName);
    if (track)
      return send(
        200,
        'application/vnd.apple.mpegurl',
        hlsMediaPlaylist(presentation, track, { format: 'm3u8-cmaf', extraOptions: [], protection: protection() }),
      );
  }
  if (p === '/license' && req.method === 'POST') {
    // The W3C ClearKey licence (EME §9.1.4): a JWK set for the requested key ids (any 16-byte value will do here).
    const { kids } = JSON.parse(body) as { kids: string[] };
    return send(
      200,
      'application/json',
      JSON.stringify({ keys: kids.map((kid) => ({ kty: 'oct', kid, k: Buffer.alloc(16, 7).toString('base64url') })), type: 'temporary' }),
    );
  }
  if (p.startsWith('/key/')) return send(200, 'application/octet-stream', p === `/key/${VIDEO_KEY}` ? CONTENT_KEY : Buffer.alloc(16, 7));
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*', 'access-control-allow-methods': 'GET, POST' });
    return void res.end();
  }
  send(404, 'text/plain', 'not served in this test');
}

/** Opens the player page and waits until `done` holds for the requests the server saw (or 20 s). */
async function run(player: 'shaka' | 'dash.js', src: string, done: (requests: Seen[]) => boolean): Promise<Seen[]> {
  const from = seen.length;
  const browser = await getBrowser();
  const context = await browser.newContext();
  try {
    const tab = await context.newPage();
    if (process.env.SIG_DEBUG) tab.on('console', (m) => console.log(`[${player}] ${m.text().slice(0, 300)}`));
    await tab.goto(`${origin}/page.html?player=${player}&src=${encodeURIComponent(origin + src)}`);
    const deadline = Date.now() + 20_000;
    while (!done(seen.slice(from)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    return seen.slice(from);
  } finally {
    await context.close();
  }
}

/** Opens the player page and waits for `window.outcome` ('ended' or an error), at most `timeoutMs`. */
async function play(player: PlayerName, src: string, timeoutMs = 30_000): Promise<{ outcome: string; currentTime: number; frames: number }> {
  const browser = await getBrowser();
  const context = await browser.newContext();
  try {
    const tab = await context.newPage();
    if (process.env.SIG_DEBUG) tab.on('console', (m) => console.log(`[${player}] ${m.text().slice(0, 300)}`));
    await tab.goto(`${origin}/page.html?player=${player}&src=${encodeURIComponent(origin + src)}`);
    await tab
      .waitForFunction(() => (window as unknown as { outcome?: string }).outcome, undefined, { timeout: timeoutMs, polling: 100 })
      .catch(() => undefined);
    return await tab.evaluate(() => {
      const video = document.querySelector('video') as HTMLVideoElement;
      return {
        outcome: (window as unknown as { outcome?: string }).outcome || `timed out at ${video.currentTime}`,
        currentTime: video.currentTime,
        frames: video.getVideoPlaybackQuality().totalVideoFrames,
      };
    });
  } finally {
    await context.close();
  }
}

const licenceKids = (requests: Seen[]) =>
  new Set(requests.filter((r) => r.path === '/license').flatMap((r) => (JSON.parse(r.body) as { kids: string[] }).kids));

describe('players read Reel DRM signalling (Chromium ClearKey)', () => {
  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
        if (!p.startsWith('/lib/')) seen.push({ method: req.method ?? '', path: p, body });
        route(req, body, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  before(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-cenc-'));
    try {
      envelopeSegments = makeEnvelopeStream(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  after(async () => {
    await closeBrowser();
    await new Promise((resolve) => server.close(resolve));
  });

  for (const player of ['shaka', 'dash.js'] as const) {
    it(`${player}: DASH ClearKey licence request to dashif:Laurl names the MPD's key ids`, async () => {
      const requests = await run(player, '/video.ism/manifest.mpd', (r) => licenceKids(r).size >= 2);
      const kids = licenceKids(requests);
      assert.ok(kids.size > 0, `a licence request reached ${origin}/license (saw ${requests.map((r) => `${r.method} ${r.path}`).join(', ')})`);
      // The CDM's request carries the key ids from the W3C common PSSH (base64url, EME keyids format).
      for (const kid of kids) assert.ok([base64url(VIDEO_KEY), base64url(AUDIO_KEY)].includes(kid), `unexpected kid ${kid}`);
      assert.ok(kids.has(base64url(VIDEO_KEY)), 'the video key was asked for');
      // Neither player went to the Widevine or PlayReady licence URLs: this Chromium has only ClearKey.
      assert.ok(!requests.some((r) => r.path === '/widevine' || r.path === '/playready'));
    });
  }

  for (const player of ['hls.js', 'shaka'] as const) {
    it(`${player} plays AES-128 HLS (MPEG-TS) to the end: key URL from EXT-X-KEY, IV = media sequence number`, async () => {
      const from = seen.length;
      const result = await play(player, '/enc/video.ism/manifest.m3u8');
      assert.equal(result.outcome, 'ended', JSON.stringify(result));
      assert.ok(result.currentTime > 7.5 && result.frames >= 150, JSON.stringify(result));
      assert.ok(
        seen.slice(from).some((r) => r.path === `/enc/key/${VIDEO_KEY}`),
        'the key came from the EXT-X-KEY URI',
      );
    });
  }

  it('shaka: HLS-CMAF CENC fetches the identity key URLs of both keys', async () => {
    const keyPaths = (r: Seen[]) => new Set(r.filter((x) => x.path.startsWith('/key/')).map((x) => x.path));
    const mediaPlaylist = (r: Seen[]) => r.some((x) => x.path.includes('/Manifest(video,format=m3u8-cmaf)'));
    const requests = await run('shaka', '/video.ism/manifest.m3u8', (r) => keyPaths(r).size >= 2 && mediaPlaylist(r));
    assert.deepEqual(keyPaths(requests), new Set([`/key/${VIDEO_KEY}`, `/key/${AUDIO_KEY}`]));
    // It read the media playlists too (their EXT-X-KEY lines are what the streams are built from).
    assert.ok(mediaPlaylist(requests));
  });
});
