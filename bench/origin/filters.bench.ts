/**
 * Filter benchmark (issue 15): what dynamic manifests cost the origin. One Reel (one process, default caches)
 * serves the 2-hour asset of bench/origin/media.ts (3,600 two-second segments per track) through one locator,
 * with no filter, one filter and three filters:
 *
 *   one      `middle`: an asset filter keeping 0:10:00…1:10:00 (time trim)
 *   three    `middle` + `av` (asset filter: video or audio tracks, by type) + `first` (account filter: firstQuality)
 *
 * Measurements, per manifest (HLS multivariant, HLS video media playlist, DASH MPD):
 *   first    the first request of each URL on the running server (presentation built, writers warmed up): the
 *            filter lookup, the filter stage and the writer, the manifest not yet cached (one sample: indicative)
 *   p50/p99  sequential requests on one kept-alive connection, the variants interleaved (BENCH_REQUESTS each):
 *            what players see once the manifest is rendered (cache hit, filters looked up every request)
 * and the ratio of each filtered latency to the unfiltered one (the aim: ≤ 1.5×).
 *
 *   npx tsx bench/origin/filters.bench.ts        (or: npx tsx bench/run.ts filters)
 *
 * Knobs: BENCH_REQUESTS (400), BENCH_WARMUP (50). Results: stdout table + bench/results/filters.jsonl.
 */
import crypto from 'node:crypto';
import { startOriginChild } from './origin-child.js';
import { ensureMedia, storeDir } from './media.js';
import { closeAgent, getOk, timedGet } from './segment-load.js';
import type { OriginStartOptions, StartedOrigin } from './origin-server.js';
import { appendResult, benchEnvironment, formatTable } from '../support/bench-results.js';
import { playlistUris } from '../support/hls-and-boxes.js';

const requests = Number(process.env.BENCH_REQUESTS || '400');
const warmup = Number(process.env.BENCH_WARMUP || '50');
const started = performance.now();
const say = (line: string) => process.stderr.write(`[${Math.round((performance.now() - started) / 1000)} s] ${line}\n`);
const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

async function put(url: string, token: string, p: string, body: unknown): Promise<void> {
  const res = await fetch(`${url}${p}`, { method: 'PUT', headers: { 'x-mkio-token': token, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 200 && res.status !== 201) throw new Error(`PUT ${p}: HTTP ${res.status}: ${await res.text()}`);
}

async function main(): Promise<void> {
  const { twoHours } = await ensureMedia(say);
  const child = startOriginChild('reel');
  try {
    const reel = await child.call<StartedOrigin>('start', { storeDir, originProcesses: 1 } satisfies OriginStartOptions);
    const { url, token } = reel;
    const V = '/api/v1/projects/default/media';
    const asset = twoHours.container;
    await put(url, token, `${V}/storage/bench`, { spec: { type: 'Local', path: storeDir } });
    await put(url, token, `${V}/assets/${asset}`, { properties: { storageAccountName: 'bench', container: asset } });
    await put(url, token, `${V}/assets/${asset}/assetFilters/middle`, {
      properties: { presentationTimeRange: { startTimestamp: 600, endTimestamp: 4200, timescale: 1 } },
    });
    await put(url, token, `${V}/assets/${asset}/assetFilters/av`, {
      properties: {
        tracks: [
          { trackSelections: [{ property: 'Type', operation: 'Equal', value: 'Video' }] },
          { trackSelections: [{ property: 'Type', operation: 'Equal', value: 'Audio' }] },
        ],
      },
    });
    await put(url, token, `${V}/accountFilters/first`, { properties: { firstQuality: { bitrate: 300000 } } });
    const locatorId = crypto.randomUUID();
    await put(url, token, `${V}/streamingLocators/${asset}`, {
      properties: { assetName: asset, streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId: locatorId },
    });
    const base = `${reel.playUrl}/${locatorId}/manifest.ism`;
    // The presentation (the 2-hour moov) is built once, and each writer runs once, by requests none of the measured
    // ones repeats (`audio-only=false` makes another URL, rendered anew): "first" is then a render, not a JIT warm-up.
    await getOk(`${base}/manifest`);
    const warmMaster = await getOk(`${base}/manifest(format=m3u8-cmaf,audio-only=false)`);
    await getOk(new URL(playlistUris(warmMaster.body.toString())[0], `${base}/manifest(format=m3u8-cmaf)`).toString());
    await getOk(`${base}/manifest(format=mpd-time-cmaf,audio-only=false)`);

    const variants = [
      { name: 'none', filter: '' },
      { name: 'one', filter: ',filter=middle' },
      { name: 'three', filter: ',filter=middle;av;first' },
    ];
    const masterOf = (filter: string) => `${base}/manifest(format=m3u8-cmaf${filter})`;
    const urls = new Map<string, Map<string, string>>();
    const first = new Map<string, number>();
    for (const v of variants) {
      const master = await getOk(masterOf(v.filter));
      first.set(`${v.name}/hls`, master.ms);
      const video = playlistUris(master.body.toString()).find((u) => /video/i.test(u)) ?? playlistUris(master.body.toString())[0];
      const playlistUrl = new URL(video, masterOf(v.filter)).toString();
      first.set(`${v.name}/playlist`, (await getOk(playlistUrl)).ms);
      const mpdUrl = `${base}/manifest(format=mpd-time-cmaf${v.filter})`;
      first.set(`${v.name}/dash`, (await getOk(mpdUrl)).ms);
      urls.set(
        v.name,
        new Map([
          ['hls', masterOf(v.filter)],
          ['playlist', playlistUrl],
          ['dash', mpdUrl],
        ]),
      );
    }
    say(`measuring ${requests} requests per manifest and variant (after ${warmup} warm-up rounds)…`);
    const samples = new Map<string, number[]>();
    for (let i = 0; i < warmup + requests; i++) {
      for (const v of variants) {
        for (const [kind, u] of urls.get(v.name)!) {
          const res = await timedGet(u);
          if (res.status !== 200) throw new Error(`GET ${u}: HTTP ${res.status}`);
          if (i < warmup) continue;
          const key = `${v.name}/${kind}`;
          if (!samples.has(key)) samples.set(key, []);
          samples.get(key)!.push(res.ms);
        }
      }
    }
    const rows = [['manifest', 'filters', 'first ms', 'p50 ms', 'p99 ms', 'p50 ratio']];
    const results: Record<string, unknown> = {};
    for (const kind of ['hls', 'playlist', 'dash']) {
      const noneP50 = quantile(samples.get(`none/${kind}`)!, 0.5);
      for (const v of variants) {
        const xs = samples.get(`${v.name}/${kind}`)!;
        const p50 = quantile(xs, 0.5);
        const entry = { firstMs: round(first.get(`${v.name}/${kind}`)!), p50Ms: round(p50), p99Ms: round(quantile(xs, 0.99)), ratio: round(p50 / noneP50, 2) };
        results[`${kind}/${v.name}`] = entry;
        rows.push([kind, v.name, String(entry.firstMs), String(entry.p50Ms), String(entry.p99Ms), `${entry.ratio}×`]);
      }
    }
    process.stdout.write(`\nManifest latency with filters (${twoHours.label}, ${requests} sequential requests each)\n${formatTable(rows)}\n`);
    appendResult('filters.jsonl', { ...benchEnvironment(), requests, results });
  } finally {
    closeAgent();
    await child.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
