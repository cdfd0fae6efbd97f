// Real players read Reel's DRM signalling the way the writers' comments claim, in Debian's Chromium with its
// ClearKey CDM: Shaka Player and dash.js find the ClearKey licence server (`dashif:Laurl`) and hand init data
// built from the MPD's `cenc:default_KID` to the CDM, whose licence request names the right key ids; Shaka fetches the HLS
// `identity` key URLs of EXT-X-SESSION-KEY. Widevine and PlayReady descriptors are present too (this Chromium
// has neither) and must not stop the players choosing ClearKey. No media is served: only the manifests, the
// licence server and the key URLs, so this checks signalling, not decryption.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { dashMpd } from '../../src/media/packager/mux/manifest/dash.js';
import { hlsMasterPlaylist, hlsMediaPlaylist } from '../../src/media/packager/mux/manifest/hls.js';
import { parseMediaPlaylistPath, type ManifestProtection } from '../../src/media/packager/mux/manifest/manifest-context.js';
import { twoRenditionPresentation } from '../fixtures/hand-built-presentations.js';
import { closeBrowser, getBrowser } from './players/play.js';
import { PLAYER_LIBRARIES } from './players/player-page.js';

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
  const libs = (player === 'shaka' ? PLAYER_LIBRARIES.shaka : PLAYER_LIBRARIES['dash.js']).map((lib) => `<script src="/lib/${lib}"></script>`).join('');
  const start =
    player === 'shaka'
      ? `shaka.polyfill.installAll(); const p = new shaka.Player(); p.attach(video).then(() => p.load(${JSON.stringify(src)})).catch((e) => { window.loadError = String(e && e.code); });`
      : `const DASH_LOG = ${process.env.SIG_DEBUG ? 5 : 0}; const p = dashjs.MediaPlayer().create(); p.updateSettings({ debug: { logLevel: DASH_LOG } }); p.initialize(video, ${JSON.stringify(src)}, true);`;
  return `<!doctype html><html><body><video id="v" muted></video>${libs}<script>const video = document.getElementById('v'); ${start}</script></body></html>`;
}

function route(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', origin);
  const p = decodeURIComponent(url.pathname);
  const send = (status: number, type: string, data: string | Buffer) => {
    res.writeHead(status, { 'content-type': type, 'access-control-allow-origin': '*' });
    res.end(data);
  };
  if (p.startsWith('/lib/')) {
    const file = path.join(nodeModules, p.slice(5));
    if (!file.startsWith(nodeModules) || !fs.existsSync(file)) return send(404, 'text/plain', 'no');
    return send(200, 'text/javascript', fs.readFileSync(file));
  }
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
  if (p.startsWith('/key/')) return send(200, 'application/octet-stream', Buffer.alloc(16, 7));
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

  it('shaka: HLS-CMAF CENC fetches the identity key URLs of both keys', async () => {
    const keyPaths = (r: Seen[]) => new Set(r.filter((x) => x.path.startsWith('/key/')).map((x) => x.path));
    const mediaPlaylist = (r: Seen[]) => r.some((x) => x.path.includes('/Manifest(video,format=m3u8-cmaf)'));
    const requests = await run('shaka', '/video.ism/manifest.m3u8', (r) => keyPaths(r).size >= 2 && mediaPlaylist(r));
    assert.deepEqual(keyPaths(requests), new Set([`/key/${VIDEO_KEY}`, `/key/${AUDIO_KEY}`]));
    // It read the media playlists too (their EXT-X-KEY lines are what the streams are built from).
    assert.ok(mediaPlaylist(requests));
  });
});
