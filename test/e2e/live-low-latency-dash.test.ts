import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, type TestServer } from '../support/server.js';
import { ApiClient, login, tokenFromSession } from '../support/api.js';
import { request } from '../support/http.js';
import { createAndStartLiveEvent, liveEventBody, makeFlvSource, pushRtmp } from '../support/live-events.js';
import type { BrowserContext } from 'playwright-core';
import { closeBrowser, getBrowser } from './players/play.js';
import { startPlayerPageServer, type PlayerPageServer } from './players/player-page.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the page samples from dash.js once a second while it plays. */
interface Sample {
  currentTime: number;
  /** dash.js `getCurrentLiveLatency()`: seconds behind the live edge (its clock synchronised with UTCTiming). */
  latency: number;
  targetDelay: number | null;
  dynamic: boolean;
  lowLatency: boolean;
  playbackRate: number;
  buffer: number;
  decodedFrames: number;
  paused: boolean;
}

/** One viewer: a page that plays `src` with dash.js and `settings` for 12 s, sampling it every second. */
async function watch(
  context: BrowserContext,
  pages: PlayerPageServer,
  src: string,
  settings: Record<string, unknown>,
): Promise<{ errors: string[]; samples: Sample[] }> {
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  // The harness page loads dash.js (its own script then stops: no src); dash.js is driven here.
  await page.goto(`${pages.origin}/player.html?player=dash.js`, { waitUntil: 'load' });
  await page.evaluate(
    ([src, settings]) => {
      const w = window as unknown as Record<string, any>;
      const dashjs = w.dashjs;
      const video = document.createElement('video');
      video.muted = true;
      document.body.appendChild(video);
      const player = dashjs.MediaPlayer().create();
      player.updateSettings({ debug: { logLevel: dashjs.Debug.LOG_LEVEL_WARNING }, ...settings });
      const state = { errors: [] as string[], samples: [] as unknown[] };
      w.ll = state;
      player.on(dashjs.MediaPlayer.events.ERROR, (e: { error?: { code?: number; message?: string } }) =>
        state.errors.push(`${e.error?.code ?? ''} ${e.error?.message ?? JSON.stringify(e)}`),
      );
      player.initialize(video, src, true);
      setInterval(() => {
        // No named helpers in here: the test bundler would wrap them in a `__name` the page does not have.
        let live = { latency: NaN, targetDelay: null as number | null, dynamic: false, lowLatency: false, buffer: NaN };
        try {
          if (player.isReady())
            live = {
              latency: player.getCurrentLiveLatency(),
              targetDelay: player.getTargetLiveDelay(),
              dynamic: player.isDynamic(),
              lowLatency: player.getLowLatencyModeEnabled(),
              buffer: player.getBufferLength('video'),
            };
        } catch {
          // Playback not initialised yet.
        }
        state.samples.push({
          currentTime: video.currentTime,
          ...live,
          playbackRate: video.playbackRate,
          decodedFrames: video.getVideoPlaybackQuality().totalVideoFrames,
          paused: video.paused,
        });
      }, 1000);
    },
    [src, settings] as const,
  );
  await page.waitForTimeout(12_000);
  const state = await page.evaluate<{ errors: string[]; samples: Sample[] }>('JSON.parse(JSON.stringify(window.ll))');
  await page.close();
  return { errors: [...state.errors, ...pageErrors], samples: state.samples };
}

/**
 * A LowLatency event pushed over RTMP in real time (1 s GOPs) and played by dash.js from the event's preview
 * locator as low-latency DASH (chunked CMAF: the MPD's `availabilityTimeComplete="false"` turns dash.js's
 * low-latency mode on, and the open segment streams part by part): dash.js must play live without an error, and
 * its latency (`getCurrentLiveLatency()`) is reported, not asserted.
 */
describe('dash.js plays a LowLatency event as low-latency DASH', () => {
  let server: TestServer;
  let api: ApiClient;
  let pages: PlayerPageServer;
  let tmp: string;
  let source: string;
  const V = '/api/v1/projects/default/media';
  const sourceSec = 34;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-lldash-e2e-'));
    source = path.join(tmp, 'source.flv');
    await makeFlvSource(source, { seconds: sourceSec });
    server = await startTestServer('sqlite', { REEL_LIVE_RTMP_PORT: '0', REEL_LOG_LEVEL: 'warn' });
    const cookie = await login(server.url, server.adminEmail, server.adminPassword);
    api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, cookie)).token);
    pages = await startPlayerPageServer();
  });

  after(async () => {
    await closeBrowser();
    await pages?.close();
    await server?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('plays live in low-latency mode without errors, reporting its latency', async (t) => {
    const { rtmpUrl, previewLocator } = await createAndStartLiveEvent(
      api,
      V,
      'lldash',
      liveEventBody({ streamOptions: ['LowLatency'], keyFrameIntervalDuration: 'PT1S' }),
    );

    const live = pushRtmp(source, `${rtmpUrl}/stream`);
    try {
      const url = `${server.url}/${previewLocator}/manifest.ism/manifest(format=mpd-time-cmaf)`;
      // Join once a couple of segments are there, as a viewer arriving at a running event would.
      for (let i = 0; i < 100; i++) {
        const mpd = await request(url);
        if (mpd.status === 200 && (mpd.body.toString().match(/<S /g) ?? []).length >= 2 && mpd.body.toString().includes('availabilityTimeComplete="false"'))
          break;
        await sleep(200);
      }

      const browser = await getBrowser();
      const context = await browser.newContext({ viewport: { width: 640, height: 360 }, serviceWorkers: 'block' });
      try {
        // Two viewers: dash.js with its defaults (the MPD's ServiceDescription sets the target latency and its
        // catch-up), and with an explicit `liveDelay` of 2.5 s.
        const viewers = [
          { name: 'defaults', settings: {} },
          { name: 'liveDelay 2.5', settings: { streaming: { delay: { liveDelay: 2.5 } } } },
        ];
        // One after the other: two decoders at once on a small machine stall each other.
        const results = [];
        for (const v of viewers) results.push(await watch(context, pages, url, v.settings));
        for (const [i, { errors, samples }] of results.entries()) {
          const name = viewers[i].name;
          assert.deepEqual(errors, [], `dash.js (${name}) errors`);
          const last = samples.at(-1)!;
          assert.ok(last.dynamic, `dash.js plays it as live: ${JSON.stringify(last)}`);
          assert.ok(last.lowLatency, `dash.js runs in low-latency mode: ${JSON.stringify(last)}`);
          assert.ok(!last.paused && last.decodedFrames > 0 && last.currentTime > samples[4].currentTime, `it plays on: ${JSON.stringify(samples)}`);
          // Reported, not asserted: how far behind live dash.js plays once settled (the last 6 samples).
          const settled = samples.slice(-6);
          const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
          t.diagnostic(
            `${name}: dash.js getCurrentLiveLatency ${settled.map((s) => s.latency.toFixed(2)).join(', ')} s, mean ${avg(settled.map((s) => s.latency)).toFixed(2)} s, target ${last.targetDelay}; rate ${settled.map((s) => s.playbackRate.toFixed(2)).join(', ')}; video buffer ${settled.map((s) => s.buffer.toFixed(2)).join(', ')} s; ${last.decodedFrames} frames decoded`,
          );
        }
      } finally {
        await context.close();
      }
    } finally {
      live.kill();
      await live.done;
    }
    assert.equal((await api.post(`${V}/liveEvents/lldash/stop`)).status, 200);
  });
});
