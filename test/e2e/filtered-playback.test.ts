import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startTestServer, type TestServer } from '../support/server.js';
import { ApiClient, login, tokenFromSession } from '../support/api.js';
import { makeLadder } from '../fixtures/media.js';
import { closeBrowser, playToEnd, type PlayerName } from './players/play.js';

/**
 * A filtered clip played by real players in Chromium: the locator's account filter keeps 2 s…6 s of the 6 s
 * ladder, the URL's asset filter keeps the English audio. Each player must start at the clip's start, play
 * the 4 s clip to its end and fetch nothing the filters removed.
 */
describe('real players play a filtered clip to its end', () => {
  let server: TestServer;
  let host: string;
  const ladder = makeLadder();
  const locatorId = '7e1e7e1e-1515-4000-8000-000000000001';
  const clip = { startSec: 2, endSec: 6 };

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
    const english = await api.put(`${V}/assets/ladder/assetFilters/english`, {
      properties: {
        tracks: [
          { trackSelections: [{ property: 'Type', operation: 'Equal', value: 'Video' }] },
          { trackSelections: [{ property: 'Language', operation: 'Equal', value: 'en' }] },
        ],
      },
    });
    assert.equal(english.status, 201, JSON.stringify(english.body));
    const middle = await api.put(`${V}/accountFilters/clip`, {
      properties: { presentationTimeRange: { startTimestamp: clip.startSec * 1000, endTimestamp: clip.endSec * 1000, timescale: 1000 } },
    });
    assert.equal(middle.status, 201, JSON.stringify(middle.body));
    const locator = await api.put(`${V}/streamingLocators/clip`, {
      properties: { assetName: 'ladder', streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId: locatorId, filters: ['clip'] },
    });
    assert.equal(locator.status, 201, JSON.stringify(locator.body));
    const endpoint = await api.get(`${V}/streamingEndpoints/default`);
    host = `http://${endpoint.body.properties.hostName as string}`;
  });
  after(async () => {
    await closeBrowser();
    await server?.close();
  });

  const cases: Array<[PlayerName, string]> = [
    ['hls.js', 'm3u8-cmaf'],
    ['dash.js', 'mpd-time-cmaf'],
    ['shaka', 'm3u8-aapl'],
  ];
  for (const [player, format] of cases) {
    it(`${player} plays the ${format} clip from its start to its end`, async () => {
      const url = `${host}/${locatorId}/clip.ism/manifest(format=${format},filter=english)`;
      const result = await playToEnd({ url, player, timeoutMs: 60_000, name: `filtered-${player}-${format}` });
      assert.deepEqual(result.errors, [], `${player} ${format}: ${result.errors.join('; ')}`);
      assert.ok(result.ended, `${player} ${format} did not end (t=${result.currentTime} of ${result.duration})`);
      const clipSec = clip.endSec - clip.startSec;
      // The timeline is the clip's: it may keep the asset's times (2 s…6 s) or start at 0, but playback starts at its start.
      const [firstStart] = result.played[0] ?? [Number.NaN];
      const timelineStart = result.currentTime - clipSec;
      assert.ok(Math.abs(timelineStart) < 0.5 || Math.abs(timelineStart - clip.startSec) < 0.5, `ended at ${result.currentTime}`);
      assert.ok(Math.abs(firstStart - timelineStart) < 0.5, `started at ${firstStart}, the clip starts at ${timelineStart}`);
      assert.ok(result.decodedFrames > 0.8 * clipSec * 25, `decoded ${result.decodedFrames} frames`);
      assert.ok(result.decodedFrames < 1.2 * clipSec * 25, `decoded ${result.decodedFrames} frames: more than the clip`);
    });
  }
});
