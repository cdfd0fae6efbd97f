import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '../support/server.js';
import { ApiClient, login, tokenFromSession } from '../support/api.js';
import { request } from '../support/http.js';
import { createRecordingAsset, liveEventBody, loopbackOnly } from '../support/live-events.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

const probe = async (url: string) =>
  JSON.parse(
    (await run('ffprobe', ['-v', 'error', '-rw_timeout', '10000000', '-print_format', 'json', '-show_streams', url], { encoding: 'utf8' })).stdout,
  ) as {
    streams: Array<{ codec_type: string }>;
  };

const segmentsIn = (playlist: string) => (playlist.match(/#EXTINF/g) ?? []).length;

/**
 * Live playback with origin processes (REEL_ORIGIN_PROCESSES = 2): the live runtime runs in the main process only,
 * while endpoint host names send players to the origin processes' port. What is live there is relayed to the main
 * process (live-relay.ts); everything else is served by the origin processes themselves.
 */
describe('live playback through origin processes', () => {
  let server: TestServer;
  let api: ApiClient;
  let encoder: ChildProcess | undefined;
  let encoderErr = '';
  let rtmpUrl = '';
  let previewLocator = '';
  const V = '/api/v1/projects/default/media';
  const locatorId = crypto.randomUUID();

  before(async () => {
    server = await startTestServer('sqlite', { REEL_ORIGIN_PROCESSES: '2', REEL_LIVE_RTMP_PORT: '0', REEL_LOG_LEVEL: 'warn' });
    api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, await login(server.url, server.adminEmail, server.adminPassword))).token);
    const root = path.join(server.localArea(), 'live');
    await createRecordingAsset(api, V, root, { storageName: 'live', assetName: 'recording' });
    const created = await api.put(`${V}/liveEvents/hall`, liveEventBody({ inputIpAllow: loopbackOnly }));
    assert.ok(created.status === 200 || created.status === 201, JSON.stringify(created.body));
    rtmpUrl = (created.body.properties.input.endpoints as Array<{ protocol: string; url: string }>).find((e) => e.protocol === 'RTMP')?.url ?? '';
    previewLocator = created.body.properties.preview.previewLocator as string;
    assert.equal((await api.post(`${V}/liveEvents/hall/start`)).status, 200);
    const output = await api.put(`${V}/liveEvents/hall/liveOutputs/dvr`, {
      properties: { assetName: 'recording', archiveWindowLength: 'PT5M', manifestName: 'hall' },
    });
    assert.equal(output.status, 201, JSON.stringify(output.body));
    const locator = await api.put(`${V}/streamingLocators/hall`, {
      properties: { assetName: 'recording', streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId: locatorId },
    });
    assert.equal(locator.status, 201, JSON.stringify(locator.body));
  });

  after(async () => {
    encoder?.kill('SIGKILL');
    await server?.close();
  });

  let mediaUrl = '';
  let firstPlaylist = '';

  it('plays a running event live from the origin port: HLS, DASH, the preview, segments as the main port has them', async () => {
    const origin = server.reel.originUrl;
    assert.notEqual(origin, server.url, 'origin processes listen on a port of their own');
    const base = `${origin}/${locatorId}/hall.ism`;
    encoder = spawn(
      'ffmpeg',
      [
        ...['-hide_banner', '-loglevel', 'error', '-re'],
        ...['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
        ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-keyint_min', '50', '-sc_threshold', '0', '-pix_fmt', 'yuv420p'],
        ...['-c:a', 'aac', '-b:a', '64k', '-t', '40', '-f', 'flv', `${rtmpUrl}/stream`],
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    encoder.stderr?.on('data', (d: Buffer) => (encoderErr += d.toString()));

    // The live media playlist, from the origin port, once it lists two segments.
    mediaUrl = await until('a live playlist on the origin port', async () => {
      const master = await request(`${base}/manifest(format=m3u8-cmaf)`);
      if (master.status !== 200) return undefined;
      const lines = master.body.toString().split('\n');
      const url = new URL(lines[lines.findIndex((l) => l.startsWith('#EXT-X-STREAM-INF')) + 1], `${base}/manifest(format=m3u8-cmaf)`).toString();
      const media = await request(url);
      return media.status === 200 && segmentsIn(media.body.toString()) >= 2 ? url : undefined;
    });
    assert.equal(encoder.exitCode, null, encoderErr);
    const first = (firstPlaylist = (await request(mediaUrl)).body.toString());
    assert.ok(!first.includes('#EXT-X-ENDLIST'), 'a live playlist has no ENDLIST');
    assert.match(first, /#EXT-X-PROGRAM-DATE-TIME:/);
    // It grows while the encoder sends.
    await until('the live playlist grows', async () => (segmentsIn((await request(mediaUrl)).body.toString()) > segmentsIn(first) ? true : undefined), 10_000);

    const hls = await probe(`${base}/manifest(format=m3u8-cmaf)`);
    assert.deepEqual(new Set(hls.streams.map((s) => s.codec_type)), new Set(['video', 'audio']), 'ffprobe reads the live HLS from the origin port');
    const mpd = await request(`${base}/manifest(format=mpd-time-cmaf)`);
    assert.equal(mpd.status, 200);
    assert.match(mpd.body.toString(), /type="dynamic"/);
    // The DASH clock is named on the host the player asked (the origin port), which serves it too.
    const timing = /<UTCTiming[^>]*value="([^"]+)"/.exec(mpd.body.toString())?.[1];
    assert.ok(timing !== undefined && timing.startsWith(origin), `UTCTiming on the origin port: ${timing}`);
    assert.equal((await request(timing)).status, 200);
    const dash = await probe(`${base}/manifest(format=mpd-time-cmaf)`);
    assert.ok(
      dash.streams.some((s) => s.codec_type === 'video'),
      'ffprobe reads the live DASH from the origin port',
    );

    // The preview locator (known only to the live runtime) plays from the origin port too.
    const preview = await request(`${origin}/${previewLocator}/manifest.ism/manifest(format=m3u8-cmaf)`);
    assert.equal(preview.status, 200, preview.body.toString().slice(0, 300));
    assert.match(preview.body.toString(), /#EXT-X-STREAM-INF/);

    // A segment comes through whole, with the headers the main process gave it.
    const segmentPath = first.split('\n').find((l) => l && !l.startsWith('#'));
    assert.ok(segmentPath, first);
    const segmentUrl = new URL(segmentPath, mediaUrl).toString();
    const [viaOrigin, viaMain] = await Promise.all([request(segmentUrl), request(segmentUrl.replace(origin, server.url))]);
    assert.equal(viaOrigin.status, 200);
    assert.ok(viaOrigin.body.equals(viaMain.body), 'the same segment bytes on both ports');
    for (const h of ['content-type', 'content-length', 'etag', 'cache-control', 'access-control-allow-origin'])
      assert.equal(viaOrigin.headers[h], viaMain.headers[h], h);
  });

  it('checks endpoint address allow-lists of live playback against the client, and never takes a client address from the client', async () => {
    const body = (allow: Array<{ name: string; address: string; subnetPrefixLength: number }>) => ({
      location: 'local',
      tags: {},
      properties: { scaleUnits: 0, accessControl: { ip: { allow } } },
    });
    assert.equal((await api.put(`${V}/streamingEndpoints/office`, body([{ name: 'office', address: '203.0.113.0', subnetPrefixLength: 24 }]))).status, 201);
    assert.equal((await api.post(`${V}/streamingEndpoints/office/start`)).status, 200);
    const originPort = new URL(server.reel.originUrl).port;
    const path = `/${locatorId}/hall.ism/manifest(format=m3u8-cmaf)`;
    const forged = { 'x-reel-relay-client': '203.0.113.7', 'x-reel-relay-secret': 'guessed' };
    for (const base of [server.reel.originUrl, server.url]) {
      const port = new URL(base).port;
      const res = await request(`${base}${path}`, { host: `office-default.localhost:${port}`, headers: forged });
      assert.equal(res.status, 403, `${base}: ${res.body.toString()}`);
    }
    // The default endpoint admits everyone: the same request passes.
    assert.equal((await request(`${server.reel.originUrl}${path}`, { host: `default-default.localhost:${originPort}` })).status, 200);
  });

  it('plays the archive as VOD from the origin port once the event stops', async () => {
    const origin = server.reel.originUrl;
    // Stopped: the archive plays as VOD from the origin port (once the relay has seen the stop).
    assert.equal(encoder?.exitCode, null, `still pushing: ${encoderErr}`);
    encoder?.kill('SIGINT');
    assert.equal((await api.post(`${V}/liveEvents/hall/stop`)).status, 200);
    const vod = await until('the archive as VOD on the origin port', async () => {
      const res = await request(mediaUrl.replace(/\?.*$/, ''));
      return res.status === 200 && res.body.toString().includes('#EXT-X-ENDLIST') ? res.body.toString() : undefined;
    });
    assert.ok(segmentsIn(vod) >= segmentsIn(firstPlaylist));
    assert.equal((await request(`${origin}/${previewLocator}/manifest.ism/manifest(format=m3u8-cmaf)`)).status, 404, 'no preview once stopped');
  });
});
