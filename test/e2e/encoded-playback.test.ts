import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestServer, type TestServer } from '../support/server.js';
import { ApiClient, login, tokenFromSession } from '../support/api.js';
import { makeMp4 } from '../fixtures/media.js';
import { closeBrowser, playToEnd, type PlayerName } from './players/play.js';

/**
 * The whole VOD workflow through the public API, as an MK.IO user scripts it: a source file in storage →
 * asset → transform (a built-in ladder) → job → output asset → streaming locator → real players in Chromium
 * play the encoded ladder to the end from the streaming endpoint's host.
 */
describe('an asset encoded by a job plays in real players', () => {
  const seconds = 8;
  const source = makeMp4({ seconds, width: 640, height: 360 });
  let server: TestServer;
  let api: ApiClient;
  let host: string;
  const V = '/api/v1/projects/default/media';
  const locatorId = '7e1e7e1e-0000-4000-8000-0000000000e1';

  before(async () => {
    server = await startTestServer('sqlite', { REEL_LOG_LEVEL: 'warn' });
    api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, await login(server.url, server.adminEmail, server.adminPassword))).token);
    const root = path.join(server.localArea(), 'vod');
    fs.mkdirSync(path.join(root, 'upload'), { recursive: true });
    fs.copyFileSync(source, path.join(root, 'upload', 'talk.mp4'));
    assert.equal((await api.put(`${V}/storage/vod`, { spec: { type: 'Local', path: root } }, { contract: false })).status, 201);
    assert.equal((await api.put(`${V}/assets/upload`, { properties: { storageAccountName: 'vod', container: 'upload' } })).status, 201);
    const transform = await api.put(`${V}/transforms/ladder720`, {
      properties: { outputs: [{ preset: { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H264MultipleBitrate720p' } }] },
    });
    assert.equal(transform.status, 201, transform.text);
    const job = await api.put(`${V}/transforms/ladder720/jobs/encode1`, {
      properties: {
        input: { '@odata.type': '#Microsoft.Media.JobInputAsset', assetName: 'upload' },
        outputs: [{ '@odata.type': '#Microsoft.Media.JobOutputAsset', assetName: 'encoded' }],
      },
    });
    assert.equal(job.status, 201, job.text);
    // A safety net against a hung suite, not a performance threshold.
    const deadline = Date.now() + 10 * 60_000;
    for (;;) {
      const res = await api.get(`${V}/transforms/ladder720/jobs/encode1`);
      const state = res.body.properties.state as string;
      if (state === 'Finished') break;
      assert.ok(!['Error', 'Canceled'].includes(state), `job ended ${state}: ${res.text}`);
      assert.ok(Date.now() < deadline, `job still ${state}`);
      await sleep(250);
    }
    const locator = await api.put(`${V}/streamingLocators/encoded`, {
      properties: { assetName: 'encoded', streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId: locatorId },
    });
    assert.equal(locator.status, 201, locator.text);
    host = `http://${(await api.get(`${V}/streamingEndpoints/default`)).body.properties.hostName as string}`;
  });
  after(async () => {
    await closeBrowser();
    await server?.close();
  });

  it('lists the ladder the preset asked for, without upscaling, in the playback paths and the master playlist', async () => {
    const paths = await api.post(`${V}/streamingLocators/encoded/listPaths`, {});
    assert.equal(paths.status, 200, paths.text);
    const hls = (paths.body.streamingPaths as Array<{ streamingProtocol: string; paths: string[] }>).find((p) => p.streamingProtocol === 'Hls');
    assert.ok(hls && hls.paths.length > 0, paths.text);
    const masterPath = hls.paths.find((p) => p.includes('m3u8-cmaf')) ?? hls.paths[0];
    // Node does not resolve *.localhost as Chromium does; any other host is the default endpoint.
    const master = await (await fetch(`${server.url}${masterPath}`)).text();
    // The variant streams' resolutions (the I-frame playlists repeat them on EXT-X-I-FRAME-STREAM-INF lines).
    const resolutions = [...master.matchAll(/^#EXT-X-STREAM-INF:.*RESOLUTION=(\d+x\d+)/gm)].map((m) => m[1]).sort();
    // H264MultipleBitrate720p on a 360p source: 320x180, 640x360 (600 kbps) and 640x360 (1000 kbps); none above.
    assert.deepEqual([...new Set(resolutions)], ['320x180', '640x360']);
    assert.equal(resolutions.length, 3, master);
    assert.match(master, /TYPE=AUDIO/);
  });

  const cases: Array<[PlayerName, string]> = [
    ['hls.js', 'm3u8-cmaf'],
    ['dash.js', 'mpd-time-cmaf'],
    ['shaka', 'm3u8-aapl'],
  ];
  for (const [player, format] of cases) {
    it(`${player} plays the encoded asset (${format}) to the end`, async () => {
      // The engine names the server manifest after the source file (talk.mp4 → talk.ism), as AMS did.
      const url = `${host}/${locatorId}/talk.ism/manifest(format=${format})`;
      const result = await playToEnd({ url, player, timeoutMs: 60_000, name: `encoded-${player}-${format}` });
      assert.deepEqual(result.errors, [], `${player} ${format}: ${result.errors.join('; ')}`);
      assert.ok(result.ended, `${player} ${format} did not end (t=${result.currentTime} of ${result.duration})`);
      assert.ok(Math.abs(result.currentTime - seconds) < 0.5, `ended at ${result.currentTime}`);
      assert.ok(result.decodedFrames > 0.8 * seconds * 25, `decoded ${result.decodedFrames} frames`);
    });
  }
});
