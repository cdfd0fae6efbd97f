import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LiveDouble, startLiveOrigin, type LiveOrigin } from '../support/live-origin.js';
import { closeBrowser, playToEnd, type PlayerName } from './players/play.js';

/**
 * A live event as real players see it: the origin serves a recording that gains a 2 s segment every 2 s of wall
 * clock (a DVR window of 4 segments, tick 0 set so that the live edge is now), and ends for good after the last
 * segment of the 12 s source. Each player must join live, follow the growing manifests, and end when ingest ends
 * (HLS `EXT-X-ENDLIST`, DASH `mediaPresentationDuration`) without a fetch error.
 */
describe('real players play a live event to its end', () => {
  let origin: LiveOrigin;
  const locatorId = '11ce11ce-1616-4000-8000-000000000001';
  const segmentMs = 2000;
  const joinSegments = 3;

  /** A fresh recording per player: it starts with `joinSegments` already available and grows with the clock. */
  let startedMs = Date.now();
  const position = (segments: number) => {
    const end = joinSegments + Math.floor((Date.now() - startedMs) / segmentMs);
    return { end: Math.min(end, segments), isEnded: end >= segments };
  };

  before(async () => {
    origin = await startLiveOrigin({
      seconds: 12,
      locators: [{ name: 'live', locatorId, policy: 'Predefined_ClearStreamingOnly' }],
      live: (whole, recording) => {
        const double: LiveDouble = new LiveDouble(whole, recording, {
          // Tick 0 moves with each run: segment i is available once (i + 1) segments of time have passed.
          get availabilityStartMs() {
            return startedMs - joinSegments * segmentMs;
          },
          windowSegments: 4,
          previewLocator: '00000000-0000-4000-8000-000000000000',
          position: () => position(double.segments),
        });
        return double;
      },
    });
  });
  after(async () => {
    await closeBrowser();
    await origin?.close();
  });

  const cases: Array<[PlayerName, string]> = [
    ['hls.js', 'm3u8-cmaf'],
    ['dash.js', 'mpd-time-cmaf'],
    ['shaka', 'mpd-time-cmaf'],
    ['shaka', 'm3u8-aapl'],
  ];
  for (const [player, format] of cases) {
    it(`${player} joins the ${format} live stream and plays until ingest ends`, async () => {
      startedMs = Date.now();
      const url = `${origin.base}/${locatorId}/live.ism/manifest(format=${format})`;
      const result = await playToEnd({ url, player, timeoutMs: 45_000, playbackRate: 1, name: `live-${player}-${format}` });
      assert.deepEqual(result.errors, [], `${player} ${format}: ${result.errors.join('; ')}\n${result.log.slice(-20).join('\n')}`);
      assert.ok(result.ended, `${player} ${format} did not end (t=${result.currentTime} of ${result.duration})`);
      // It played at least the segments that arrived after it joined (more when it joined behind the edge).
      assert.ok(result.decodedFrames >= 2 * 25, `decoded ${result.decodedFrames} frames, ended at ${result.currentTime}`);
    });
  }
});
