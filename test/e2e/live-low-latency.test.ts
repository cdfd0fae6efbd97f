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

/** What the page samples from hls.js once a second while it plays. */
interface Sample {
  atMs: number;
  currentTime: number;
  /** hls.js `latency`: seconds behind the live edge it computes from the playlist. */
  latency: number;
  targetLatency: number | null;
  /** Wall clock now minus hls.js `playingDate` (the playhead's EXT-X-PROGRAM-DATE-TIME time), ms. */
  behindWallMs: number | null;
  decodedFrames: number;
  paused: boolean;
  lowLatencyMode: boolean;
  /** The loaded level's details: parts listed and whether the server can block. */
  partCount: number;
  canBlockReload: boolean;
}

/** One viewer: a page that plays `src` with hls.js and `config` for 12 s, sampling it every second. */
async function watch(
  context: BrowserContext,
  pages: PlayerPageServer,
  src: string,
  config: Record<string, unknown>,
): Promise<{ errors: string[]; warnings: string[]; samples: Sample[] }> {
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  // The harness page loads hls.js (its own script then stops: no src); hls.js is driven here, with its live
  // defaults (start at the live edge) and `config`.
  await page.goto(`${pages.origin}/player.html?player=hls.js`, { waitUntil: 'load' });
  await page.evaluate(
    ([src, config]) => {
      const w = window as unknown as Record<string, any>;
      const Hls = w.Hls;
      const video = document.createElement('video');
      video.muted = true;
      document.body.appendChild(video);
      const hls = new Hls({ enableWorker: true, ...config });
      const state = { errors: [] as string[], warnings: [] as string[], samples: [] as unknown[] };
      w.ll = state;
      hls.on(Hls.Events.ERROR, (_e: unknown, data: { fatal: boolean; type: string; details: string }) =>
        (data.fatal ? state.errors : state.warnings).push(`${data.type}/${data.details}`),
      );
      hls.on(Hls.Events.MANIFEST_PARSED, () => void video.play().catch((e: Error) => state.errors.push(`play(): ${e.message}`)));
      hls.attachMedia(video);
      hls.loadSource(src);
      setInterval(() => {
        const details = hls.levels?.[hls.currentLevel >= 0 ? hls.currentLevel : 0]?.details;
        const playing: Date | null = hls.playingDate;
        state.samples.push({
          atMs: Date.now(),
          currentTime: video.currentTime,
          latency: hls.latency,
          targetLatency: hls.targetLatency,
          behindWallMs: playing ? Date.now() - playing.getTime() : null,
          decodedFrames: video.getVideoPlaybackQuality().totalVideoFrames,
          paused: video.paused,
          lowLatencyMode: hls.lowLatencyMode,
          partCount: details?.partList?.length ?? 0,
          canBlockReload: details?.canBlockReload === true,
        });
      }, 1000);
    },
    [src, config] as const,
  );
  await page.waitForTimeout(12_000);
  const state = await page.evaluate<{ errors: string[]; warnings: string[]; samples: Sample[] }>('JSON.parse(JSON.stringify(window.ll))');
  await page.close();
  return { errors: [...state.errors, ...pageErrors], warnings: state.warnings, samples: state.samples };
}

/**
 * A LowLatency event pushed over RTMP in real time (1 s GOPs) and played by hls.js in its low-latency mode from the
 * event's preview locator: hls.js must see the parts and the blocking reload capability, play without a fatal
 * error, and its latency behind live is reported (glass-to-glass: wall clock minus the time of day of the frame
 * on screen, tick 0 being the first frame's arrival at the server).
 */
describe('hls.js plays a LowLatency event in low-latency mode', () => {
  let server: TestServer;
  let api: ApiClient;
  let pages: PlayerPageServer;
  let tmp: string;
  let source: string;
  const V = '/api/v1/projects/default/media';
  const sourceSec = 34;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-ll-e2e-'));
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

  it('joins near the live edge with parts and blocking reloads, and plays without errors', async (t) => {
    const { rtmpUrl, previewLocator } = await createAndStartLiveEvent(
      api,
      V,
      'llplay',
      liveEventBody({ streamOptions: ['LowLatency'], keyFrameIntervalDuration: 'PT1S' }),
    );

    const live = pushRtmp(source, `${rtmpUrl}/stream`);
    try {
      const url = `${server.url}/${previewLocator}/manifest.ism/manifest(format=m3u8-cmaf)`;
      // Join once a couple of segments are there, as a viewer arriving at a running event would.
      for (let i = 0; i < 100; i++) {
        const master = await request(url);
        if (master.status === 200) {
          const lines = master.body.toString().split('\n');
          const media = await request(
            new URL(lines[lines.findIndex((l) => l.startsWith('#EXT-X-STREAM-INF')) + 1], url.replace(/manifest\(.*$/, '')).toString(),
          );
          if ((media.body.toString().match(/#EXTINF/g) ?? []).length >= 2) break;
        }
        await sleep(200);
      }

      const browser = await getBrowser();
      const context = await browser.newContext({ viewport: { width: 640, height: 360 }, serviceWorkers: 'block' });
      try {
        // Two viewers: hls.js with its defaults in low-latency mode, and the same with live catch-up
        // (`maxLiveSyncPlaybackRate`), which plays slightly fast until it is back at its target latency.
        const viewers = [
          { name: 'default', config: { lowLatencyMode: true } },
          { name: 'catch-up 1.5', config: { lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.5 } },
        ];
        // One after the other: two decoders at once on a small machine stall each other.
        const results = [];
        for (const v of viewers) results.push(await watch(context, pages, url, v.config));
        for (const [i, { errors, warnings, samples }] of results.entries()) {
          const name = viewers[i].name;
          assert.deepEqual(errors, [], `hls.js (${name}) errors; warnings: ${warnings.join(', ')}`);
          const last = samples.at(-1)!;
          assert.ok(last.lowLatencyMode && last.canBlockReload, `hls.js runs in low-latency mode against a blocking server: ${JSON.stringify(last)}`);
          assert.ok(last.partCount > 0, 'hls.js reads the parts');
          assert.ok(!last.paused && last.decodedFrames > 0 && last.currentTime > samples[4].currentTime, `it plays on: ${JSON.stringify(samples)}`);
          // Reported, not asserted: how far behind live hls.js plays once settled (the last 6 samples).
          const settled = samples.slice(-6);
          const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
          t.diagnostic(
            `${name}: hls.js latency (vs. the playlist's live edge) ${settled.map((s) => s.latency.toFixed(2)).join(', ')} s, mean ${avg(settled.map((s) => s.latency)).toFixed(2)} s, target ${last.targetLatency}`,
          );
          const wall = settled.map((s) => s.behindWallMs).filter((x): x is number => x !== null);
          if (wall.length > 0)
            t.diagnostic(
              `${name}: glass-to-glass (wall clock − PROGRAM-DATE-TIME of the frame playing) ${wall.map((x) => x.toFixed(0)).join(', ')} ms, mean ${avg(wall).toFixed(0)} ms`,
            );
          t.diagnostic(`${name}: ${warnings.length} warnings (${[...new Set(warnings)].join(', ')}), ${last.decodedFrames} frames decoded`);
        }
      } finally {
        await context.close();
      }
    } finally {
      live.kill();
      await live.done;
    }
    assert.equal((await api.post(`${V}/liveEvents/llplay/stop`)).status, 200);
  });
});
