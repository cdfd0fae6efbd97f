import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startTestServer, type TestServer } from '../support/server.js';
import { ApiClient, login, tokenFromSession } from '../support/api.js';
import { makeHevcMp4, makeLadder } from '../fixtures/media.js';
import { closeBrowser, playToEnd, type PlayerName } from './players/play.js';

/**
 * Reel's origin played to the end by real players in Chromium, through the streaming endpoint's own host
 * (`default-default.localhost`, which Chromium resolves to this machine), for every format each player reads.
 */
describe('real players play Reel streams to the end', () => {
  let server: TestServer;
  let host: string;
  const ladder = makeLadder();
  const locatorId = '7e1e7e1e-0000-4000-8000-000000000001';

  before(async () => {
    server = await startTestServer('sqlite', { REEL_LOG_LEVEL: 'warn' });
    const api = new ApiClient(server.url).withToken(
      (await tokenFromSession(server.url, await login(server.url, server.adminEmail, server.adminPassword))).token,
    );
    const root = path.join(server.localArea(), 'vod');
    fs.mkdirSync(path.join(root, 'ladder'), { recursive: true });
    for (const f of ladder.files) fs.copyFileSync(path.join(ladder.dir, f), path.join(root, 'ladder', f));
    fs.writeFileSync(path.join(root, 'ladder', 'clip.ism'), ladder.ism);
    const V = '/api/v1/projects/default/media';
    assert.equal((await api.put(`${V}/storage/vod`, { spec: { type: 'Local', path: root } }, { contract: false })).status, 201);
    assert.equal((await api.put(`${V}/assets/ladder`, { properties: { storageAccountName: 'vod', container: 'ladder' } })).status, 201);
    assert.equal(
      (
        await api.put(`${V}/streamingLocators/ladder`, {
          properties: { assetName: 'ladder', streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId: locatorId },
        })
      ).status,
      201,
    );
    const endpoint = await api.get(`${V}/streamingEndpoints/default`);
    host = `http://${endpoint.body.properties.hostName as string}`;
  });
  after(async () => {
    await closeBrowser();
    await server?.close();
  });

  const cases: Array<[PlayerName, string]> = [
    ['hls.js', 'm3u8-cmaf'],
    ['hls.js', 'm3u8-aapl'],
    ['dash.js', 'mpd-time-cmaf'],
    ['dash.js', 'mpd-time-csf'],
    ['shaka', 'm3u8-cmaf'],
    ['shaka', 'm3u8-aapl'],
    ['shaka', 'mpd-time-cmaf'],
  ];
  for (const [player, format] of cases) {
    it(`${player} plays ${format}`, async () => {
      const url = `${host}/${locatorId}/clip.ism/manifest(format=${format})`;
      const result = await playToEnd({ url, player, timeoutMs: 60_000, name: `reel-${player}-${format}` });
      assert.deepEqual(result.errors, [], `${player} ${format}: ${result.errors.join('; ')}`);
      assert.ok(result.ended, `${player} ${format} did not end (t=${result.currentTime} of ${result.duration})`);
      assert.ok(Math.abs(result.currentTime - ladder.seconds) < 0.5, `ended at ${result.currentTime}`);
      assert.ok(result.decodedFrames > 0.8 * ladder.seconds * 25, `decoded ${result.decodedFrames} frames`);
    });
  }

  it('shaka plays an H.265 asset packaged without a server manifest, or reports the codec unsupported where Chromium has no HEVC decoder', async () => {
    const api = new ApiClient(server.url).withToken(
      (await tokenFromSession(server.url, await login(server.url, server.adminEmail, server.adminPassword))).token,
    );
    const root = path.join(server.localArea(), 'vod', 'hevc');
    fs.mkdirSync(root, { recursive: true });
    fs.copyFileSync(makeHevcMp4(), path.join(root, 'movie.mp4'));
    const V = '/api/v1/projects/default/media';
    await api.put(`${V}/assets/hevc`, { properties: { storageAccountName: 'vod', container: 'hevc' } });
    const id = '7e1e7e1e-0000-4000-8000-000000000002';
    await api.put(`${V}/streamingLocators/hevc`, {
      properties: { assetName: 'hevc', streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId: id },
    });
    const result = await playToEnd({
      url: `${host}/${id}/manifest.ism/manifest(format=m3u8-cmaf)`,
      player: 'shaka',
      timeoutMs: 60_000,
      name: 'reel-shaka-hevc',
    });
    // Debian's Chromium may lack an HEVC decoder; then the player must say so, not hang or fail silently.
    if (result.errors.some((e) => /hvc1|hev1|hevc|codec|4032|not supported|3016/i.test(e))) {
      console.log('HEVC not decodable here:', result.errors.join('; '));
      assert.equal(result.ended, false);
      return;
    }
    assert.deepEqual(result.errors, []);
    assert.ok(result.ended, `H.265 did not end (t=${result.currentTime})`);
  });
});
