/**
 * Origin benchmark: Reel's just-in-time packager/origin against the same media packaged offline by ffmpeg
 * (`-c copy -f hls -hls_segment_type fmp4 -hls_time 2 -hls_playlist_type vod`, video and audio as separate
 * renditions like Reel's) and served as static files by a bare Node `http` server (the peer: stat +
 * createReadStream per request; nginx is not installed here).
 *
 * Media (bench/origin/media.ts, cached under test/fixtures/.cache/bench/): a 10-minute 1080p H.264 ~5 Mbit/s +
 * AAC file (~300 video segments of ~1.25 MB) and a 2-hour one (180,000 video samples, a ~4 MB moov).
 *
 * Scenarios, in one run:
 *   package-offline      ffmpeg's packaging time of both files: what a pre-packaging workflow pays up front
 *   cold-*               master → media playlist → init → first segment of a never-seen 2-hour asset, and the
 *                        first segment alone: in a fresh server process; as a new asset (hard link in a new
 *                        container, new locator, so no index is cached) on a running origin with the file in
 *                        the page cache; and the same with the file evicted from the page cache
 *   playlist-2h          the 2-hour video media playlist, warm, one request at a time (gzip and identity)
 *   segments-warm        c=32, every connection cycling over its share of all video segments of the 10-minute
 *                        asset; Reel with its default segment cache and with one large enough to hold them all,
 *                        the static peer on ffmpeg's segments; req/s, MB/s, p50/p99, peak RSS
 *
 * Process layout (2 cores): the load generator is wrk (-t1, one core; see segment-load.ts for why not autocannon);
 * Reel and the peer each run in a child process.
 *
 *   npx tsx bench/origin/origin.bench.ts        (or all benchmarks: npx tsx bench/run.ts origin)
 *
 * Knobs (environment): BENCH_ROUNDS (3), BENCH_DURATION_S (8), BENCH_WARMUP_S (2), BENCH_COLD_REPS (5), BENCH_COLD_FIRST_SEGMENT_REPS (12),
 * BENCH_FRESH_REPS (3), BENCH_PLAYLIST_REQUESTS (200), BENCH_BIG_CACHE_MB (600), BENCH_MAX_OTHER_CPU (0.25),
 * BENCH_RETRIES (2), BENCH_QUIET_WAIT_S (60; 0 = never wait), BENCH_PROFILE (a directory: CPU-profile the
 * default-cache Reel process; nothing is recorded then). Results: stdout table + bench/results/origin.jsonl.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { BenchChild } from '../support/bench-child.js';
import { appendResult, benchEnvironment, formatTable } from '../support/bench-results.js';
import { foreignCores, sampleCpu, waitForQuiet } from '../support/machine-load.js';
import { quantile } from '../support/run-load.js';
import { dropFromPageCache, ensureMedia, packageWithFfmpeg, readThrough, storeDir } from './media.js';
import { closeAgent, getOk, runSegmentLoad, type SegmentLoadResult } from './segment-load.js';
import type { OriginStartOptions, StartedOrigin } from './origin-server.js';

const env = (name: string, fallback: string) => process.env[name] || fallback;
const settings = {
  connections: 32,
  rounds: Number(env('BENCH_ROUNDS', '3')),
  durationSec: Number(env('BENCH_DURATION_S', '8')),
  warmupSec: Number(env('BENCH_WARMUP_S', '2')),
  coldReps: Number(env('BENCH_COLD_REPS', '5')),
  // V8 optimises the index parser over the first few 2 h files; a dozen shows the running origin's steady state.
  coldFirstSegmentReps: Number(env('BENCH_COLD_FIRST_SEGMENT_REPS', '12')),
  freshReps: Number(env('BENCH_FRESH_REPS', '3')),
  playlistRequests: Number(env('BENCH_PLAYLIST_REQUESTS', '200')),
  bigCacheMb: Number(env('BENCH_BIG_CACHE_MB', '600')),
  record: !process.env.BENCH_PROFILE,
  maxForeignCores: Number(env('BENCH_MAX_OTHER_CPU', '0.25')),
  retries: Number(env('BENCH_RETRIES', '2')),
  quietWaitSec: Number(env('BENCH_QUIET_WAIT_S', '60')),
};
/** The issue's aims. */
const aims = { warmSegmentsPerSec: 1200, coldFirstSegmentMs: 50, rssMb: 300 };
const gzip = { 'accept-encoding': 'gzip, deflate, br' };

const say = (line: string) => process.stderr.write(`${line}\n`);
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sorted = (xs: number[]) => Float64Array.from(xs).sort();
const mb = (bytes: number) => bytes / 1e6;

// ---------------------------------------------------------------------------------------------- the API side

class OriginApi {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  private async put(p: string, body: unknown): Promise<void> {
    const res = await fetch(`${this.url}${p}`, {
      method: 'PUT',
      headers: { 'x-mkio-token': this.token, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 200 && res.status !== 201) throw new Error(`PUT ${p}: HTTP ${res.status}: ${await res.text()}`);
  }

  /** The Local storage account `bench` over the cached media store. */
  async addStorage(): Promise<void> {
    await this.put('/api/v1/projects/default/media/storage/bench', { spec: { type: 'Local', path: storeDir } });
  }

  /** An asset on `container` and a clear-streaming locator for it; returns the locator id. */
  async publish(container: string): Promise<string> {
    await this.put(`/api/ams/default/assets/${container}`, { properties: { storageAccountName: 'bench', container } });
    const id = crypto.randomUUID();
    await this.put(`/api/ams/default/streamingLocators/${container}`, {
      properties: { assetName: container, streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId: id },
    });
    return id;
  }
}

async function startOrigin(
  label: string,
  options: Omit<OriginStartOptions, 'storeDir'>,
  execArgv: string[] = [],
): Promise<{ child: BenchChild; api: OriginApi }> {
  // Compiled and with npm start's malloc and young-generation settings: the memory and speed of the server as deployed.
  const child = BenchChild.start('bench/origin/origin-server.ts', [], {
    label,
    execArgv: ['--max-semi-space-size=16', ...execArgv],
    compiled: true,
    env: { MALLOC_MMAP_THRESHOLD_: '131072' },
  });
  try {
    const started = await child.call<StartedOrigin>('start', { storeDir, ...options } satisfies OriginStartOptions);
    const api = new OriginApi(started.url, started.token);
    await api.addStorage();
    return { child, api };
  } catch (err) {
    await child.stop();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------- playback

const text = (res: { body: Buffer; headers: Record<string, unknown> }) =>
  (res.headers['content-encoding'] === 'gzip' ? gunzipSync(res.body) : res.body).toString('utf8');
const uris = (playlist: string) =>
  playlist
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

/** The highest video variant of an HLS multivariant playlist. */
function videoVariant(master: string, masterUrl: string): string {
  const lines = master.split('\n');
  let best: { bandwidth: number; uri: string } | undefined;
  lines.forEach((line, i) => {
    const inf = /^#EXT-X-STREAM-INF:(.*)$/.exec(line);
    if (!inf || !/RESOLUTION=/.test(inf[1])) return;
    const bandwidth = Number(/(?:^|,)BANDWIDTH=(\d+)/.exec(inf[1])?.[1] ?? 0);
    const uri = lines
      .slice(i + 1)
      .find((l) => l.trim() && !l.startsWith('#'))
      ?.trim();
    if (uri && (!best || bandwidth > best.bandwidth)) best = { bandwidth, uri };
  });
  if (!best) throw new Error(`no video variant in ${masterUrl}:\n${master.slice(0, 500)}`);
  return new URL(best.uri, masterUrl).toString();
}

interface VideoRendition {
  playlistUrl: string;
  initUrl: string;
  segmentUrls: string[];
}

function rendition(playlist: string, playlistUrl: string): VideoRendition {
  const map = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)?.[1];
  if (!map) throw new Error(`no EXT-X-MAP in ${playlistUrl}`);
  return { playlistUrl, initUrl: new URL(map, playlistUrl).toString(), segmentUrls: uris(playlist).map((u) => new URL(u, playlistUrl).toString()) };
}

interface Chain {
  masterMs: number;
  playlistMs: number;
  initMs: number;
  segmentMs: number;
  totalMs: number;
  playlistBytes: number;
  segmentBytes: number;
}

/** What a player does to start: multivariant playlist → video media playlist → init → first segment, each timed. */
async function firstSegmentChain(originUrl: string, locatorId: string): Promise<Chain> {
  const started = performance.now();
  const masterUrl = `${originUrl}/${locatorId}/manifest.ism/manifest(format=m3u8-cmaf)`;
  const master = await getOk(masterUrl, gzip);
  const playlistUrl = videoVariant(text(master), masterUrl);
  const playlist = await getOk(playlistUrl, gzip);
  const r = rendition(text(playlist), playlistUrl);
  const init = await getOk(r.initUrl);
  const segment = await getOk(r.segmentUrls[0]);
  return {
    masterMs: master.ms,
    playlistMs: playlist.ms,
    initMs: init.ms,
    segmentMs: segment.ms,
    totalMs: performance.now() - started,
    playlistBytes: playlist.body.length,
    segmentBytes: segment.body.length,
  };
}

async function openRendition(originUrl: string, locatorId: string): Promise<VideoRendition> {
  const masterUrl = `${originUrl}/${locatorId}/manifest.ism/manifest(format=m3u8-cmaf)`;
  const playlistUrl = videoVariant(text(await getOk(masterUrl)), masterUrl);
  return rendition(text(await getOk(playlistUrl)), playlistUrl);
}

/** Fetches every URL once (sequentially): checks they answer, returns their body sizes. */
async function sizesOf(urls: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const u of urls) out.push((await getOk(u)).body.length);
  return out;
}

// ---------------------------------------------------------------------------------------------- measuring

/** VmRSS / VmHWM of a process, MB (from /proc; undefined elsewhere or once it is gone). */
function procMemMb(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number | undefined {
  if (!pid) return undefined;
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; returns the peak seen. */
function rssSampler(pid: number | undefined, everyMs = 100): { stop(): number | undefined } {
  let peak: number | undefined;
  const sample = () => {
    const v = procMemMb(pid, 'VmRSS');
    if (v !== undefined) peak = Math.max(peak ?? 0, v);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

interface Target {
  key: 'reel' | 'reel-big-cache' | 'static';
  label: string;
  child: BenchChild;
  url: string;
  /** Request paths (no host) of every video segment. */
  paths: string[];
  segmentBytes: number[];
}

interface Round extends SegmentLoadResult {
  serverCores: number;
  otherCores: number | undefined;
  peakRssMb: number | undefined;
}

async function measureRound(t: Target, ownPids: () => number[], label: string): Promise<Round> {
  let best: Round | undefined;
  for (let attempt = 0; attempt <= settings.retries; attempt++) {
    const pids = ownPids();
    const waited = await waitForQuiet(() => pids, {
      thresholdCores: settings.maxForeignCores,
      maxWaitSec: settings.quietWaitSec,
      onWait: (cores) => say(`${label}: other processes use ${cores.toFixed(2)} cores; waiting up to ${settings.quietWaitSec} s for a quiet machine`),
    });
    if (waited > 0) say(`${label}: waited ${waited} s`);
    const cpuBefore = await t.child.cpuMs();
    const machineBefore = sampleCpu(pids, { countInterrupts: false });
    const rss = rssSampler(t.child.pid);
    const started = performance.now();
    const load = await runSegmentLoad({ url: t.url, paths: t.paths, connections: settings.connections, durationSec: settings.durationSec });
    const peakRssMb = rss.stop();
    const machineAfter = sampleCpu(pids, { countInterrupts: false });
    const serverCores = ((await t.child.cpuMs()) - cpuBefore) / (performance.now() - started);
    const run: Round = { ...load, serverCores, otherCores: foreignCores(machineBefore, machineAfter), peakRssMb };
    if (!best || (run.otherCores ?? 0) < (best.otherCores ?? 0)) best = run;
    if (run.otherCores === undefined || run.otherCores <= settings.maxForeignCores) break;
    say(
      `${label}: other processes used ${run.otherCores.toFixed(2)} cores during the round${attempt < settings.retries ? '; repeating it' : '; keeping the quietest attempt'}`,
    );
  }
  return best as Round;
}

interface ThroughputSummary {
  reqPerSec: number;
  reqPerSecRounds: number[];
  mbPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  requests: number;
  peakRssMb: number | null;
  /** Peak RSS of the process over its whole life (VmHWM), MB. */
  hwmRssMb: number | null;
  serverCores: number;
  loadgenCores: number;
  otherCores: number | null;
  segments: number;
  meanSegmentMb: number;
}

function summarize(t: Target, runs: Round[]): ThroughputSummary {
  const peaks = runs.map((r) => r.peakRssMb).filter((x): x is number => x !== undefined);
  const hwm = procMemMb(t.child.pid, 'VmHWM');
  return {
    reqPerSec: round(median(runs.map((r) => r.reqPerSec)), 1),
    reqPerSecRounds: runs.map((r) => round(r.reqPerSec, 1)),
    mbPerSec: round(mb(median(runs.map((r) => r.bytesPerSec))), 1),
    // wrk reports percentiles per run, not every latency: these are medians over the rounds.
    p50Ms: round(median(runs.map((r) => r.p50Ms)), 3),
    p99Ms: round(median(runs.map((r) => r.p99Ms)), 3),
    maxMs: round(Math.max(...runs.map((r) => r.maxMs)), 3),
    requests: runs.reduce((n, r) => n + r.requests, 0),
    peakRssMb: peaks.length ? round(Math.max(...peaks), 1) : null,
    hwmRssMb: hwm === undefined ? null : round(hwm, 1),
    serverCores: round(median(runs.map((r) => r.serverCores))),
    loadgenCores: round(Math.max(...runs.map((r) => r.loadgenCores))),
    otherCores: runs.some((r) => r.otherCores === undefined) ? null : round(Math.max(...runs.map((r) => r.otherCores as number))),
    segments: t.paths.length,
    meanSegmentMb: round(mb(t.segmentBytes.reduce((a, b) => a + b, 0) / t.segmentBytes.length), 3),
  };
}

interface Timings {
  medianMs: number;
  p99Ms: number;
  minMs: number;
  maxMs: number;
  n: number;
}

function timings(xs: number[]): Timings {
  const s = sorted(xs);
  return { medianMs: round(median(xs), 3), p99Ms: round(quantile(s, 0.99), 3), minMs: round(s[0], 3), maxMs: round(s[s.length - 1], 3), n: xs.length };
}

function chainSummary(chains: Chain[]) {
  const pick = (k: keyof Chain) => round(median(chains.map((c) => c[k])), 2);
  return {
    reps: chains.length,
    medianMs: { master: pick('masterMs'), playlist: pick('playlistMs'), init: pick('initMs'), firstSegment: pick('segmentMs'), total: pick('totalMs') },
    totalMsRounds: chains.map((c) => round(c.totalMs, 1)),
    firstSegmentMsRounds: chains.map((c) => round(c.segmentMs, 1)),
    playlistBytes: chains[0]?.playlistBytes,
    segmentBytes: chains[0]?.segmentBytes,
  };
}

// ---------------------------------------------------------------------------------------------- the run

async function main(): Promise<void> {
  const environment = benchEnvironment();
  say(
    `origin: ${environment.cpu} ×${environment.cpuCount}, node ${environment.node}, commit ${environment.commit.slice(0, 12)}${environment.dirty ? ' (dirty)' : ''}`,
  );
  const runStarted = performance.now();
  const media = await ensureMedia(say);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-origin-bench-'));
  const children: BenchChild[] = [];
  const coldDirs: string[] = [];
  const records: object[] = [];
  const rows: string[][] = [['scenario', 'measure', 'Reel', 'peer', 'ratio', 'aim']];
  const record = (scenario: string, what: string, data: object) => records.push({ ...environment, bench: 'origin', scenario, what, ...data });

  const stopAll = async () => {
    await Promise.all(children.splice(0).map((c) => c.stop()));
    closeAgent();
    for (const d of coldDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  const onSignal = () => {
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    // ---- 1. the pre-packaging workflow's up-front cost (inputs in the page cache, as Reel's are below)
    await readThrough(media.tenMin.file);
    await readThrough(media.twoHours.file);
    say('origin: ffmpeg packaging 10 min and 2 h into HLS fMP4…');
    const pack10 = await packageWithFfmpeg(media.tenMin.file, path.join(tmp, 'static', '10min'));
    const pack2h = await packageWithFfmpeg(media.twoHours.file, path.join(tmp, 'hls-2h'));
    // The peer serves the 10-minute package, and the 2-hour video playlist (for the playlist scenario).
    fs.mkdirSync(path.join(tmp, 'static', '2h', '0'), { recursive: true });
    fs.copyFileSync(path.join(pack2h.dir, '0', 'index.m3u8'), path.join(tmp, 'static', '2h', '0', 'index.m3u8'));
    const pack2hSegments = fs.readdirSync(path.join(pack2h.dir, '0')).filter((f) => f.endsWith('.m4s')).length;
    fs.rmSync(pack2h.dir, { recursive: true, force: true });
    say(`origin: ffmpeg packaged 10 min in ${(pack10.ms / 1000).toFixed(2)} s, 2 h in ${(pack2h.ms / 1000).toFixed(2)} s (${pack2hSegments} video segments)`);

    // ---- 2. servers
    const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
    const reel = await startOrigin('reel origin', {}, profile);
    children.push(reel.child);
    const staticChild = BenchChild.start('bench/origin/static-server.ts', [], { label: 'static peer' });
    children.push(staticChild);
    const staticUrl = (await staticChild.call<{ url: string }>('listen', { root: path.join(tmp, 'static') })).url;
    const ownPids = () => [process.pid, ...children.map((c) => c.pid)].filter((p): p is number => p !== undefined);
    const originUrl = reel.api.url;
    // Reel's memory at checkpoints: RSS, and V8's view (heap vs external: segment and index buffers are external).
    const reelMemory: Record<string, { rssMb: number | null; heapUsedMb: number; externalMb: number }> = {};
    const noteRss = async (at: string) => {
      const rss = procMemMb(reel.child.pid, 'VmRSS');
      const m = await reel.child.memory();
      reelMemory[at] = {
        rssMb: rss === undefined ? null : round(rss, 1),
        heapUsedMb: round(m.heapUsed / 2 ** 20, 1),
        externalMb: round(m.external / 2 ** 20, 1),
      };
    };
    await noteRss('started');

    // ---- 3. the 10-minute asset's video rendition on both sides (one pass over every segment: checks and warms)
    const loc10 = await reel.api.publish(media.tenMin.container);
    const reel10 = await openRendition(originUrl, loc10);
    const reelSizes = await sizesOf(reel10.segmentUrls);
    const staticPlaylistUrl = `${staticUrl}/10min/0/index.m3u8`;
    const static10 = rendition(text(await getOk(staticPlaylistUrl)), staticPlaylistUrl);
    const staticSizes = await sizesOf(static10.segmentUrls);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    await noteRss('after one pass over the 10 min asset');
    say(
      `origin: Reel ${reelSizes.length} video segments (${mb(sum(reelSizes)).toFixed(0)} MB), ffmpeg ${staticSizes.length} (${mb(sum(staticSizes)).toFixed(0)} MB)`,
    );

    // ---- 4. warm segment throughput (before the cold runs, so RSS under load is not inflated by their indexes)
    const big = await startOrigin('reel origin (big segment cache)', { segmentCacheMb: settings.bigCacheMb });
    children.push(big.child);
    const locBig = await big.api.publish(media.tenMin.container);
    const big10 = await openRendition(big.api.url, locBig);
    const bigSizes = await sizesOf(big10.segmentUrls);
    const pathOf = (u: string) => {
      const x = new URL(u);
      return `${x.pathname}${x.search}`;
    };
    const targets: Target[] = [
      {
        key: 'reel',
        label: 'Reel (default 32 MB segment cache)',
        child: reel.child,
        url: originUrl,
        paths: reel10.segmentUrls.map(pathOf),
        segmentBytes: reelSizes,
      },
      {
        key: 'reel-big-cache',
        label: `Reel (${settings.bigCacheMb} MB segment cache)`,
        child: big.child,
        url: big.api.url,
        paths: big10.segmentUrls.map(pathOf),
        segmentBytes: bigSizes,
      },
      {
        key: 'static',
        label: 'static peer (ffmpeg segments, Node http)',
        child: staticChild,
        url: staticUrl,
        paths: static10.segmentUrls.map(pathOf),
        segmentBytes: staticSizes,
      },
    ];
    for (const t of targets) await runSegmentLoad({ url: t.url, paths: t.paths, connections: settings.connections, durationSec: settings.warmupSec });
    const rounds: Record<Target['key'], Round[]> = { reel: [], 'reel-big-cache': [], static: [] };
    for (let r = 0; r < settings.rounds; r++) {
      // Rotate who goes first, so a drift (thermal, a neighbour) does not favour one side.
      const order = targets.map((_, i) => targets[(i + r) % targets.length]);
      for (const t of order) {
        const label = `origin: segments c=${settings.connections} round ${r + 1}/${settings.rounds} ${t.key}`;
        const run = await measureRound(t, ownPids, label);
        rounds[t.key].push(run);
        say(
          `${label}: ${run.reqPerSec.toFixed(0)} req/s, ${mb(run.bytesPerSec).toFixed(0)} MB/s, p50 ${run.p50Ms.toFixed(1)} ms, p99 ${run.p99Ms.toFixed(1)} ms, peak RSS ${run.peakRssMb?.toFixed(0) ?? '-'} MB, server ${run.serverCores.toFixed(2)} cores, generator ${run.loadgenCores.toFixed(2)} cores${run.otherCores !== undefined ? `, others ${run.otherCores.toFixed(2)}` : ''}`,
        );
      }
    }
    const seg = Object.fromEntries(targets.map((t) => [t.key, summarize(t, rounds[t.key])])) as Record<Target['key'], ThroughputSummary>;
    await big.child.stop();
    await noteRss('after the segment load');

    // ---- 5. cold: a never-seen 2-hour asset on the running origin (its JIT warm from the runs above)
    const loc2h = await reel.api.publish(media.twoHours.container);
    const firstTouch = await firstSegmentChain(originUrl, loc2h);
    say(
      `origin: 2 h asset, first touch on this process: ${firstTouch.totalMs.toFixed(1)} ms to the first segment (master ${firstTouch.masterMs.toFixed(1)} ms)`,
    );
    const coldChains: Record<'pagecache' | 'disk', Chain[]> = { pagecache: [], disk: [] };
    // The first request a never-seen asset gets is its first segment (a player resuming, a CDN miss): the URL
    // is the 2 h asset's own, under the new locator.
    const firstSegmentPath = new URL((await openRendition(originUrl, loc2h)).segmentUrls[0]).pathname.slice(loc2h.length + 1);
    const directMs: number[] = [];
    for (let i = 0; i < settings.coldFirstSegmentReps; i++) {
      const container = `cold-${process.pid}-s${i}`;
      const dir = path.join(storeDir, container);
      coldDirs.push(dir);
      fs.mkdirSync(dir, { recursive: true });
      fs.linkSync(media.twoHours.file, path.join(dir, 'movie.mp4'));
      const locator = await reel.api.publish(container);
      const pids = ownPids();
      await waitForQuiet(() => pids, { thresholdCores: settings.maxForeignCores, maxWaitSec: Math.min(settings.quietWaitSec, 20) });
      const got = await getOk(`${originUrl}/${locator}${firstSegmentPath}`);
      directMs.push(got.ms);
      say(`origin: cold 2 h, first request = first segment ${i + 1}/${settings.coldFirstSegmentReps}: ${got.ms.toFixed(1)} ms (${got.body.length} bytes)`);
    }
    for (const mode of ['pagecache', 'disk'] as const) {
      for (let i = 0; i < settings.coldReps; i++) {
        const container = `cold-${process.pid}-${mode === 'disk' ? 'd' : 'p'}${i}`;
        const dir = path.join(storeDir, container);
        coldDirs.push(dir);
        fs.mkdirSync(dir, { recursive: true });
        // Same bytes, new container: the index cache (keyed by account/container/path/etag) has never seen it.
        fs.linkSync(media.twoHours.file, path.join(dir, 'movie.mp4'));
        const locator = await reel.api.publish(container);
        if (mode === 'disk') await dropFromPageCache(media.twoHours.file);
        const pids = ownPids();
        await waitForQuiet(() => pids, { thresholdCores: settings.maxForeignCores, maxWaitSec: Math.min(settings.quietWaitSec, 20) });
        const chain = await firstSegmentChain(originUrl, locator);
        coldChains[mode].push(chain);
        say(
          `origin: cold 2 h (${mode === 'disk' ? 'file evicted from the page cache' : 'file in the page cache'}) ${i + 1}/${settings.coldReps}: master ${chain.masterMs.toFixed(1)}, playlist ${chain.playlistMs.toFixed(1)}, init ${chain.initMs.toFixed(1)}, segment ${chain.segmentMs.toFixed(1)}, total ${chain.totalMs.toFixed(1)} ms`,
        );
      }
    }
    await readThrough(media.twoHours.file);
    await noteRss(`after ${1 + 2 * settings.coldReps} cold 2 h assets`);
    say(`origin: Reel memory ${JSON.stringify(reelMemory)}`);

    // ---- 6. the 2-hour media playlist, warm, one request at a time
    const reel2h = await openRendition(originUrl, loc2h);
    const playlistTimes: Record<'gzip' | 'identity' | 'static', number[]> = { gzip: [], identity: [], static: [] };
    const staticPlaylist2h = `${staticUrl}/2h/0/index.m3u8`;
    const playlistBytes = { gzip: 0, identity: 0, static: 0 };
    {
      const pids = ownPids();
      await waitForQuiet(() => pids, { thresholdCores: settings.maxForeignCores, maxWaitSec: settings.quietWaitSec });
    }
    for (let i = 0; i < settings.playlistRequests + 20; i++) {
      const g = await getOk(reel2h.playlistUrl, gzip);
      const id = await getOk(reel2h.playlistUrl);
      const s = await getOk(staticPlaylist2h);
      if (i < 20) continue; // warm-up
      playlistTimes.gzip.push(g.ms);
      playlistTimes.identity.push(id.ms);
      playlistTimes.static.push(s.ms);
      playlistBytes.gzip = g.body.length;
      playlistBytes.identity = id.body.length;
      playlistBytes.static = s.body.length;
    }

    // ---- 7. cold in a fresh process: nothing cached, no origin code ever run (JIT cold too)
    const freshChains: Chain[] = [];
    for (let i = 0; i < settings.freshReps; i++) {
      const fresh = await startOrigin(`reel origin (fresh ${i + 1})`, {});
      children.push(fresh.child);
      const locator = await fresh.api.publish(media.twoHours.container);
      const pids = ownPids();
      await waitForQuiet(() => pids, { thresholdCores: settings.maxForeignCores, maxWaitSec: Math.min(settings.quietWaitSec, 20) });
      const chain = await firstSegmentChain(fresh.api.url, locator);
      freshChains.push(chain);
      say(
        `origin: cold 2 h, fresh process ${i + 1}/${settings.freshReps}: master ${chain.masterMs.toFixed(1)}, playlist ${chain.playlistMs.toFixed(1)}, init ${chain.initMs.toFixed(1)}, segment ${chain.segmentMs.toFixed(1)}, total ${chain.totalMs.toFixed(1)} ms`,
      );
      await fresh.child.stop();
    }

    // ---- results
    const cold = { fresh: chainSummary(freshChains), pagecache: chainSummary(coldChains.pagecache), disk: chainSummary(coldChains.disk) };
    const ffmpegCmd =
      'ffmpeg -i movie.mp4 -map 0:v:0 -map 0:a:0 -c copy -f hls -hls_segment_type fmp4 -hls_time 2 -hls_playlist_type vod -var_stream_map "v:0,agroup:aud a:0,agroup:aud" …';
    record('package-offline', 'ffmpeg packaging time (page-cached input) vs Reel time to first segment of the same never-seen asset', {
      peer: {
        name: 'ffmpeg HLS fMP4 packaging',
        version: ffmpegVersion(),
        command: ffmpegCmd,
        tenMinMs: round(pack10.ms, 1),
        twoHoursMs: round(pack2h.ms, 1),
        twoHoursVideoSegments: pack2hSegments,
      },
      reel: { twoHoursColdFirstSegmentMs: cold.pagecache.medianMs.total },
      ratio: { packagingOverReelColdStart: round(pack2h.ms / cold.pagecache.medianMs.total, 1), better: 'higher' },
    });
    const coldAim = (ms: number) => ({ aim: `cold first segment <${aims.coldFirstSegmentMs} ms`, aimMet: ms < aims.coldFirstSegmentMs });
    const direct = timings(directMs);
    record(
      'cold-2h-first-segment',
      'the first segment of a never-seen 2 h asset as its first request (new container and locator, file in the page cache): index read + parse + segmenting + packaging',
      {
        asset: media.twoHours.label,
        reps: directMs.length,
        medianMs: direct.medianMs,
        firstMs: round(directMs[0], 1),
        msRounds: directMs.map((x) => round(x, 1)),
        aim: `cold first segment <${aims.coldFirstSegmentMs} ms`,
        aimMet: direct.medianMs < aims.coldFirstSegmentMs,
        peer: { name: 'ffmpeg packaging of the 2 h file (must finish before anything is served)', ms: round(pack2h.ms, 1) },
        ratio: { peerOverReel: round(pack2h.ms / direct.medianMs, 1), better: 'higher' },
      },
    );
    for (const [key, what] of [
      ['fresh', 'fresh server process: nothing cached, origin code never run'],
      ['pagecache', 'new asset (new container, new locator) on a running origin, file in the page cache'],
      ['disk', 'new asset on a running origin, file evicted from the page cache (dd iflag=nocache)'],
    ] as const) {
      record(`cold-2h-${key}`, `master → media playlist → init → first segment of a never-seen 2 h asset: ${what}`, {
        asset: media.twoHours.label,
        ...cold[key],
        ...coldAim(cold[key].medianMs.total),
        ...(key === 'pagecache' ? { firstTouchAfterTheSegmentLoad: { masterMs: round(firstTouch.masterMs, 2), totalMs: round(firstTouch.totalMs, 2) } } : {}),
        peer: { name: 'ffmpeg packaging of the 2 h file (must finish before anything is served)', ms: round(pack2h.ms, 1) },
        ratio: { peerOverReel: round(pack2h.ms / cold[key].medianMs.total, 1), better: 'higher' },
      });
    }
    const pl = { gzip: timings(playlistTimes.gzip), identity: timings(playlistTimes.identity), static: timings(playlistTimes.static) };
    record('playlist-2h', 'the 2 h video media playlist, warm, one request at a time', {
      requests: settings.playlistRequests,
      reel: { gzip: { ...pl.gzip, bytes: playlistBytes.gzip }, identity: { ...pl.identity, bytes: playlistBytes.identity } },
      peer: { name: "ffmpeg's 2 h video index.m3u8 from the static Node server (no gzip)", ...pl.static, bytes: playlistBytes.static },
      ratio: { p50IdentityOverPeer: round(pl.identity.medianMs / pl.static.medianMs, 2), better: 'lower' },
    });
    for (const key of ['reel', 'reel-big-cache'] as const) {
      const s = seg[key];
      record(
        `segments-warm${key === 'reel' ? '' : '-big-cache'}`,
        `GET video segments of the 10 min 1080p asset, c=${settings.connections}, each connection cycling over its share of all ${s.segments}`,
        {
          connections: settings.connections,
          rounds: settings.rounds,
          durationSec: settings.durationSec,
          warmupSec: settings.warmupSec,
          maxOtherCores: settings.maxForeignCores,
          segmentCacheMb: key === 'reel' ? 32 : settings.bigCacheMb,
          ...(key === 'reel' ? { memoryCheckpoints: reelMemory } : {}),
          reqPerSec: s.reqPerSec,
          latencyMs: { p50: s.p50Ms, p99: s.p99Ms },
          reel: s,
          peer: { name: "bare Node http static server (stat + createReadStream) over ffmpeg's segments", ...seg.static },
          ratio: {
            reqPerSec: round(s.reqPerSec / seg.static.reqPerSec, 3),
            mbPerSec: round(s.mbPerSec / seg.static.mbPerSec, 3),
            reqPerSecBetter: 'higher',
            p99: round(s.p99Ms / seg.static.p99Ms, 3),
            latencyBetter: 'lower',
          },
          aim: `≥${aims.warmSegmentsPerSec} segments/s, RSS <${aims.rssMb} MB`,
          aimMet: s.reqPerSec >= aims.warmSegmentsPerSec && (s.peakRssMb ?? Infinity) < aims.rssMb,
        },
      );
    }
    record('memory', 'Reel (default config) RSS and V8 heap/external at checkpoints of this run', {
      checkpoints: reelMemory,
      aim: `RSS <${aims.rssMb} MB`,
      note: 'every never-seen 2 h asset keeps its ~15 MB sample tables; see docs/BENCHMARKS.md (Origin, hot spots)',
    });
    if (settings.record) for (const r of records) appendResult('origin.jsonl', r);

    // ---- the table
    const ms = (x: number) => `${x.toFixed(1)} ms`;
    const ratio = (x: number) => `${x.toFixed(2)}×`;
    const met = (ok: boolean, aim: string) => `${ok ? 'met' : 'MISSED'}: ${aim}`;
    rows.push(['package-offline', 'ffmpeg HLS fMP4 packaging, 10 min (400 MB)', '0 (none)', `${(pack10.ms / 1000).toFixed(2)} s`, '', '']);
    rows.push(['package-offline', 'ffmpeg HLS fMP4 packaging, 2 h', '0 (none)', `${(pack2h.ms / 1000).toFixed(2)} s`, '', '']);
    rows.push([
      'cold-2h (first request = segment)',
      `first segment of a never-seen asset (median of ${directMs.length})`,
      ms(direct.medianMs),
      `${(pack2h.ms / 1000).toFixed(2)} s (packaging)`,
      `${ratio(pack2h.ms / direct.medianMs)} sooner`,
      met(direct.medianMs < aims.coldFirstSegmentMs, `<${aims.coldFirstSegmentMs} ms`),
    ]);
    for (const [key, what] of [
      ['fresh', 'fresh process'],
      ['pagecache', 'new asset, page cache'],
      ['disk', 'new asset, file not cached'],
    ] as const) {
      const c = cold[key].medianMs;
      rows.push([
        `cold-2h (${what})`,
        `master / playlist / init / segment (median of ${cold[key].reps})`,
        `${c.master.toFixed(1)} / ${c.playlist.toFixed(1)} / ${c.init.toFixed(1)} / ${c.firstSegment.toFixed(1)} ms`,
        '',
        '',
        '',
      ]);
      rows.push([
        `cold-2h (${what})`,
        'time to first segment (total)',
        ms(c.total),
        `${(pack2h.ms / 1000).toFixed(2)} s (packaging)`,
        `${ratio(pack2h.ms / c.total)} sooner`,
        met(c.total < aims.coldFirstSegmentMs, `<${aims.coldFirstSegmentMs} ms`),
      ]);
    }
    rows.push([
      'playlist-2h',
      `video playlist, gzip (${(playlistBytes.gzip / 1024).toFixed(0)} KiB) p50 / p99`,
      `${pl.gzip.medianMs.toFixed(2)} / ${pl.gzip.p99Ms.toFixed(2)} ms`,
      '',
      '',
      '',
    ]);
    rows.push([
      'playlist-2h',
      `video playlist, identity (${(playlistBytes.identity / 1024).toFixed(0)} KiB; peer ${(playlistBytes.static / 1024).toFixed(0)} KiB) p50 / p99`,
      `${pl.identity.medianMs.toFixed(2)} / ${pl.identity.p99Ms.toFixed(2)} ms`,
      `${pl.static.medianMs.toFixed(2)} / ${pl.static.p99Ms.toFixed(2)} ms`,
      `${ratio(pl.identity.medianMs / pl.static.medianMs)} (↓)`,
      '',
    ]);
    for (const key of ['reel', 'reel-big-cache'] as const) {
      const s = seg[key];
      const p = seg.static;
      const name = key === 'reel' ? 'segments-warm (32 MB cache)' : `segments-warm (${settings.bigCacheMb} MB cache)`;
      rows.push([
        name,
        `req/s (c=${settings.connections}, ${s.segments} segments of ${s.meanSegmentMb.toFixed(2)} MB)`,
        s.reqPerSec.toFixed(0),
        p.reqPerSec.toFixed(0),
        `${ratio(s.reqPerSec / p.reqPerSec)} (↑)`,
        met(s.reqPerSec >= aims.warmSegmentsPerSec, `≥${aims.warmSegmentsPerSec}/s`),
      ]);
      rows.push([name, 'MB/s', s.mbPerSec.toFixed(0), p.mbPerSec.toFixed(0), `${ratio(s.mbPerSec / p.mbPerSec)} (↑)`, '']);
      rows.push([
        name,
        'p50 / p99',
        `${s.p50Ms.toFixed(1)} / ${s.p99Ms.toFixed(1)} ms`,
        `${p.p50Ms.toFixed(1)} / ${p.p99Ms.toFixed(1)} ms`,
        `${ratio(s.p99Ms / p.p99Ms)} (↓ p99)`,
        '',
      ]);
      rows.push([
        name,
        'peak RSS under load (VmRSS)',
        s.peakRssMb === null ? '-' : `${s.peakRssMb.toFixed(0)} MB`,
        p.peakRssMb === null ? '-' : `${p.peakRssMb.toFixed(0)} MB`,
        '',
        s.peakRssMb === null ? '' : met(s.peakRssMb < aims.rssMb, `<${aims.rssMb} MB`),
      ]);
      rows.push([
        name,
        'server / generator / other CPU (cores)',
        `${s.serverCores.toFixed(2)} / ${s.loadgenCores.toFixed(2)} / ${s.otherCores?.toFixed(2) ?? '-'}`,
        `${p.serverCores.toFixed(2)} / ${p.loadgenCores.toFixed(2)} / ${p.otherCores?.toFixed(2) ?? '-'}`,
        '',
        '',
      ]);
    }
    for (const [at, m] of Object.entries(reelMemory)) {
      rows.push([
        'memory (Reel, defaults)',
        `RSS ${at}`,
        m.rssMb === null ? '-' : `${m.rssMb.toFixed(0)} MB`,
        '',
        '',
        `heap ${m.heapUsedMb.toFixed(0)} MB, external ${m.externalMb.toFixed(0)} MB`,
      ]);
    }
    process.stdout.write(
      `\nOrigin: Reel just-in-time vs ffmpeg-packaged files on a bare Node static server (peer). Ratios are Reel ÷ peer unless stated.\n${formatTable(rows)}\n`,
    );
    say(
      `origin: done in ${Math.round((performance.now() - runStarted) / 1000)} s${settings.record ? '; results appended to bench/results/origin.jsonl' : ' (profiling: nothing recorded)'}`,
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stopAll();
  }
}

function ffmpegVersion(): string {
  try {
    // execFileSync is fine here: no server runs in this process.
    return execFileSync('ffmpeg', ['-version'], { encoding: 'utf8' }).split('\n')[0];
  } catch {
    return 'unknown';
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`origin bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
