/**
 * Origin benchmark: Reel's just-in-time packager/origin side by side with two nginx peers over the same media
 * (issue 12's table, with ratios):
 *
 *   nginx-vod     nginx + kaltura/nginx-vod-module, just-in-time HLS fMP4 over the same MP4s (REEL_BENCH_NGINX_VOD:
 *                 an nginx binary with the module, built outside the repository; see docs/BENCHMARKS.md). Optional:
 *                 without it its column says so.
 *   nginx static  Debian's nginx (/usr/sbin/nginx, or BENCH_NGINX) with sendfile, serving the segments ffmpeg
 *                 packaged offline (`-c copy -f hls -hls_segment_type fmp4 -hls_time 2`, video and audio as
 *                 separate renditions like Reel's): serving pre-packaged files at its cheapest.
 *   Reel          REEL_ORIGIN_PROCESSES = BENCH_REEL_ORIGIN_PROCESSES (2, as many as nginx's workers), with its
 *                 default segment cache and with REEL_SEGMENT_CACHE_MB=0 (pure just-in-time).
 *
 * Media (bench/origin/media.ts, cached under test/fixtures/.cache/bench/): a 10-minute 1080p H.264 ~5 Mbit/s +
 * AAC file (300 video segments of ~1.3 MB, 2 s GOPs) and a 2-hour one (180,000 video samples, a ~4 MB moov).
 *
 * Measurements, in one run (load rounds alternate between origins, the order rotated each round):
 *   package-offline        ffmpeg's packaging time of both files (the pre-packaging workflow's up-front cost)
 *   frames                 the mdat payloads (video frames) of segments 1 and 151 from every origin, compared
 *   segments-warm          wrk c=32, each connection cycling over all 300 video segments of the 10-min asset:
 *                          req/s, MB/s, p50/p99, peak RSS of the origin's whole process tree, its CPU
 *   segment-hot            the same with one segment
 *   first-segment-fresh    first segment of the 10-min / 2-h asset as the first request of a fresh, listening process
 *   first-segment-new      first segment of a never-seen 10-min / 2-h asset on a running origin (Reel: a new
 *                          container, asset and locator over a hard link; nginx-vod: a new hard-linked path;
 *                          nginx static: a new hard link of ffmpeg's first segment)
 *   playlist-2h-fresh      the 2-h video media playlist as the first request of a fresh process
 *   playlist-2h-load       the same playlist under wrk c=32 (identity encoding)
 *   playlist-2h-load-gzip  the same with Accept-Encoding: gzip (Reel pre-compresses; nginx: gzip on, per request)
 *
 * Process layout (2 cores): the load generator is wrk (-t1; see segment-load.ts); Reel runs in a child process
 * (and its origin children), nginx as master + workers.
 *
 *   REEL_BENCH_NGINX_VOD=/path/to/nginx npx tsx bench/origin/origin.bench.ts     (or: npx tsx bench/run.ts origin)
 *
 * Knobs (environment): REEL_BENCH_NGINX_VOD, BENCH_NGINX (/usr/sbin/nginx), BENCH_REEL_ORIGIN_PROCESSES (2),
 * BENCH_NGINX_WORKERS (2), BENCH_NGINX_VOD_AIO (off; on: as its README advises; threads), BENCH_NGINX_VOD_OPEN_POOL
 * (0; 1: vod_open_file_thread_pool), BENCH_NGINX_VOD_MALLOC (tuned; glibc), BENCH_NGINX_VOD_EXTRA (directives),
 * BENCH_ROUNDS (3), BENCH_DURATION_S (8), BENCH_WARMUP_S (2), BENCH_FRESH_REPS (3),
 * BENCH_NEW_ASSET_REPS (8), BENCH_BIG_CACHE_MB (unset: no big-cache Reel; e.g. 600: one more Reel target whose
 * cache holds every segment), BENCH_MAX_OTHER_CPU (0.25), BENCH_RETRIES (2), BENCH_QUIET_WAIT_S (60; 0 = never
 * wait), BENCH_PROFILE (a directory: CPU-profile the default-cache Reel; nothing recorded then).
 * Results: stdout table + bench/results/origin.jsonl.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { BenchChild } from '../support/bench-child.js';
import { startOriginChild } from './origin-child.js';
import { appendResult, benchEnvironment, formatTable } from '../support/bench-results.js';
import { foreignCores, sampleCpu, waitForQuiet } from '../support/machine-load.js';
import { cpuMsOf, descendants, pssMb, rssSampler, sumOf } from '../support/process-tree.js';
import { ensureMedia, packageWithFfmpeg, readThrough, storeDir } from './media.js';
import { startNginx, vodDefaults, type NginxPeer, type NginxPeerOptions } from './nginx-peer.js';
import { closeAgent, getOk, rawTimedGet, runSegmentLoad, type SegmentLoadResult } from './segment-load.js';
import type { OriginStartOptions, StartedOrigin } from './origin-server.js';
import { mdatPayload, playlistUris, videoVariant } from '../support/hls-and-boxes.js';

const env = (name: string, fallback: string) => process.env[name] || fallback;
const settings = {
  connections: 32,
  rounds: Number(env('BENCH_ROUNDS', '3')),
  durationSec: Number(env('BENCH_DURATION_S', '8')),
  warmupSec: Number(env('BENCH_WARMUP_S', '2')),
  freshReps: Number(env('BENCH_FRESH_REPS', '3')),
  // V8 optimises the index parser over the first few never-seen files; several show the running origin's steady state.
  newAssetReps: Number(env('BENCH_NEW_ASSET_REPS', '8')),
  bigCacheMb: process.env.BENCH_BIG_CACHE_MB ? Number(process.env.BENCH_BIG_CACHE_MB) : undefined,
  reelProcesses: Number(env('BENCH_REEL_ORIGIN_PROCESSES', '2')),
  nginxWorkers: Number(env('BENCH_NGINX_WORKERS', '2')),
  nginx: env('BENCH_NGINX', '/usr/sbin/nginx'),
  nginxVod: process.env.REEL_BENCH_NGINX_VOD || undefined,
  // nginx-vod's configuration: the fastest measured on this machine by default (docs/BENCHMARKS.md, "nginx-vod configuration").
  nginxVodAio: env('BENCH_NGINX_VOD_AIO', vodDefaults.aio),
  nginxVodOpenPool: env('BENCH_NGINX_VOD_OPEN_POOL', vodDefaults.openFilePool ? '1' : '0') === '1',
  nginxVodMalloc: env('BENCH_NGINX_VOD_MALLOC', 'tuned'),
  nginxVodExtra: process.env.BENCH_NGINX_VOD_EXTRA || undefined,
  record: !process.env.BENCH_PROFILE,
  maxForeignCores: Number(env('BENCH_MAX_OTHER_CPU', '0.25')),
  retries: Number(env('BENCH_RETRIES', '2')),
  quietWaitSec: Number(env('BENCH_QUIET_WAIT_S', '60')),
};

/** How both nginx peers run (the vod-only settings are ignored by the static one); gzip serves playlists to players that ask. */
const nginxOptions = (kind: 'static' | 'vod', binary: string, root: string): NginxPeerOptions => ({
  kind,
  binary,
  root,
  workers: settings.nginxWorkers,
  aio: settings.nginxVodAio,
  openFilePool: settings.nginxVodOpenPool,
  malloc: kind === 'vod' && settings.nginxVodMalloc === 'tuned' ? vodDefaults.malloc : {},
  vodExtra: settings.nginxVodExtra,
  gzip: true,
});

const benchStarted = performance.now();
/** Progress on stderr, each line with the seconds since the start (how long each phase takes). */
const say = (line: string) => process.stderr.write(`[${Math.round((performance.now() - benchStarted) / 1000)} s] ${line}\n`);
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mb = (bytes: number) => bytes / 1e6;
const pathOf = (u: string) => {
  const x = new URL(u);
  return `${x.pathname}${x.search}`;
};

// ---------------------------------------------------------------------------------------------- Reel's API side

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

interface ReelOrigin {
  child: BenchChild;
  api: OriginApi;
  /** Where playback goes (the origin processes' port when there are some). */
  playUrl: string;
  processes: number;
  /** Main process, and the serving ones (its origin children; the main process itself when it has none). */
  mainPid: number;
  servingPids(): number[];
}

async function startReel(label: string, options: Omit<OriginStartOptions, 'storeDir'>, execArgv: string[] = []): Promise<ReelOrigin> {
  const child = startOriginChild(label, execArgv);
  try {
    const started = await child.call<StartedOrigin>('start', { storeDir, originProcesses: settings.reelProcesses, ...options } satisfies OriginStartOptions);
    const api = new OriginApi(started.url, started.token);
    await api.addStorage();
    const mainPid = child.pid as number;
    return {
      child,
      api,
      playUrl: started.playUrl,
      processes: started.originProcesses,
      mainPid,
      servingPids: () => (started.originProcesses > 1 ? descendants(mainPid) : [mainPid]),
    };
  } catch (err) {
    await child.stop();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------- playback

const text = (res: { body: Buffer; headers: Record<string, unknown> }) =>
  (res.headers['content-encoding'] === 'gzip' ? gunzipSync(res.body) : res.body).toString('utf8');
interface VideoRendition {
  playlistUrl: string;
  initUrl: string;
  segmentUrls: string[];
}

function rendition(playlist: string, playlistUrl: string): VideoRendition {
  const map = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)?.[1];
  if (!map) throw new Error(`no EXT-X-MAP in ${playlistUrl}`);
  return { playlistUrl, initUrl: new URL(map, playlistUrl).toString(), segmentUrls: playlistUris(playlist).map((u) => new URL(u, playlistUrl).toString()) };
}

async function openRendition(masterUrl: string): Promise<VideoRendition> {
  const playlistUrl = videoVariant(text(await getOk(masterUrl)), masterUrl);
  return rendition(text(await getOk(playlistUrl)), playlistUrl);
}

/** Fetches every URL once (sequentially): checks they answer, returns their body sizes. */
async function sizesOf(urls: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const u of urls) out.push((await getOk(u)).body.length);
  return out;
}

const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex').slice(0, 16);

// ---------------------------------------------------------------------------------------------- origins

type OriginKey = 'vod' | 'static' | 'reel';
const originNames: Record<OriginKey, string> = { vod: 'nginx-vod', static: 'nginx static', reel: 'Reel' };

/** What the bench asks of one origin, whatever it is. */
interface Playback {
  /** Every video segment of the 10-min asset, and the 2-h one's first, as paths on `url`. */
  segments10: string[];
  first10: string;
  first2h: string;
  playlist2h: string;
}

/** A running server under load. */
interface LoadTarget {
  key: string;
  origin: OriginKey;
  label: string;
  url: string;
  /** The whole process tree, and how its memory is reported. */
  groups(): Record<string, number[]>;
  paths: string[];
  headers?: Record<string, string>;
}

interface Round extends SegmentLoadResult {
  serverCores: number;
  /** Server CPU (whole process tree, user + system) per request, ms: steadier than req/s on a shared machine. */
  cpuMsPerRequest: number;
  otherCores: number | undefined;
  peakRssMb: Record<string, number>;
  /** Summed proportional set size at the end of the round (shared pages counted once). */
  pssMb: number;
}

async function measureRound(t: LoadTarget, ownPids: () => number[], label: string): Promise<Round> {
  let best: Round | undefined;
  for (let attempt = 0; attempt <= settings.retries; attempt++) {
    const groups = t.groups();
    const tree = [...new Set(Object.values(groups).flat())];
    const pids = ownPids();
    const waited = await waitForQuiet(() => pids, {
      thresholdCores: settings.maxForeignCores,
      maxWaitSec: settings.quietWaitSec,
      onWait: (cores) => say(`${label}: other processes use ${cores.toFixed(2)} cores; waiting up to ${settings.quietWaitSec} s for a quiet machine`),
    });
    if (waited > 0) say(`${label}: waited ${waited} s`);
    const cpuBefore = cpuMsOf(tree);
    const machineBefore = sampleCpu(pids, { countInterrupts: false });
    const rss = rssSampler(groups);
    const started = performance.now();
    const load = await runSegmentLoad({ url: t.url, paths: t.paths, connections: settings.connections, durationSec: settings.durationSec, headers: t.headers });
    const peakRssMb = rss.stop();
    const machineAfter = sampleCpu(pids, { countInterrupts: false });
    const serverCpuMs = cpuMsOf(tree) - cpuBefore;
    const serverCores = serverCpuMs / (performance.now() - started);
    const run: Round = {
      ...load,
      serverCores,
      cpuMsPerRequest: serverCpuMs / load.requests,
      otherCores: foreignCores(machineBefore, machineAfter),
      peakRssMb,
      pssMb: sumOf(tree, pssMb),
    };
    if (!best || (run.otherCores ?? 0) < (best.otherCores ?? 0)) best = run;
    if (run.otherCores === undefined || run.otherCores <= settings.maxForeignCores) break;
    say(
      `${label}: other processes used ${run.otherCores.toFixed(2)} cores during the round${attempt < settings.retries ? '; repeating it' : '; keeping the quietest attempt'}`,
    );
  }
  return best as Round;
}

interface LoadSummary {
  reqPerSec: number;
  reqPerSecRounds: number[];
  mbPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  requests: number;
  /** Peak summed VmRSS over the rounds, per process group (`total` is the whole tree). */
  peakRssMb: Record<string, number>;
  pssMb: number;
  serverCores: number;
  cpuMsPerRequest: number;
  loadgenCores: number;
  otherCores: number | null;
}

function summarize(runs: Round[]): LoadSummary {
  const groups = Object.keys(runs[0].peakRssMb);
  return {
    reqPerSec: round(median(runs.map((r) => r.reqPerSec)), 1),
    reqPerSecRounds: runs.map((r) => round(r.reqPerSec, 1)),
    mbPerSec: round(mb(median(runs.map((r) => r.bytesPerSec))), 1),
    // wrk reports percentiles per run, not every latency: these are medians over the rounds.
    p50Ms: round(median(runs.map((r) => r.p50Ms)), 3),
    p99Ms: round(median(runs.map((r) => r.p99Ms)), 3),
    maxMs: round(Math.max(...runs.map((r) => r.maxMs)), 3),
    requests: runs.reduce((n, r) => n + r.requests, 0),
    peakRssMb: Object.fromEntries(groups.map((g) => [g, round(Math.max(...runs.map((r) => r.peakRssMb[g])), 1)])),
    pssMb: round(Math.max(...runs.map((r) => r.pssMb)), 1),
    serverCores: round(median(runs.map((r) => r.serverCores))),
    cpuMsPerRequest: round(median(runs.map((r) => r.cpuMsPerRequest)), 3),
    loadgenCores: round(Math.max(...runs.map((r) => r.loadgenCores))),
    otherCores: runs.some((r) => r.otherCores === undefined) ? null : round(Math.max(...runs.map((r) => r.otherCores as number))),
  };
}

/** Warm-up, then `rounds` rounds over the targets, rotating who goes first so a drift does not favour one side. */
async function loadRounds(name: string, targets: LoadTarget[], ownPids: () => number[]): Promise<Record<string, LoadSummary>> {
  for (const t of targets)
    await runSegmentLoad({ url: t.url, paths: t.paths, connections: settings.connections, durationSec: settings.warmupSec, headers: t.headers });
  const rounds: Record<string, Round[]> = Object.fromEntries(targets.map((t) => [t.key, []]));
  for (let r = 0; r < settings.rounds; r++) {
    for (const t of targets.map((_, i) => targets[(i + r) % targets.length])) {
      const label = `origin: ${name} c=${settings.connections} round ${r + 1}/${settings.rounds} ${t.label}`;
      const run = await measureRound(t, ownPids, label);
      rounds[t.key].push(run);
      say(
        `${label}: ${run.reqPerSec.toFixed(0)} req/s, ${mb(run.bytesPerSec).toFixed(0)} MB/s, p50 ${run.p50Ms.toFixed(1)} ms, p99 ${run.p99Ms.toFixed(1)} ms, peak RSS ${run.peakRssMb.total.toFixed(0)} MB, server ${run.serverCores.toFixed(2)} cores (${run.cpuMsPerRequest.toFixed(2)} CPU-ms/req), generator ${run.loadgenCores.toFixed(2)}${run.otherCores !== undefined ? `, others ${run.otherCores.toFixed(2)}` : ''}`,
      );
    }
  }
  return Object.fromEntries(targets.map((t) => [t.key, summarize(rounds[t.key])]));
}

const timings = (xs: number[]) => ({
  medianMs: round(median(xs), 2),
  minMs: round(Math.min(...xs), 2),
  maxMs: round(Math.max(...xs), 2),
  msRounds: xs.map((x) => round(x, 2)),
});

// ---------------------------------------------------------------------------------------------- the run

async function main(): Promise<void> {
  const environment = benchEnvironment();
  say(
    `origin: ${environment.cpu} ×${environment.cpuCount}, node ${environment.node}, commit ${environment.commit.slice(0, 12)}${environment.dirty ? ' (dirty)' : ''}`,
  );
  const runStarted = performance.now();
  const media = await ensureMedia(say);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-origin-bench-'));
  const stoppers: Array<() => Promise<void>> = [];
  const linkedDirs: string[] = [];
  const records: object[] = [];
  const record = (scenario: string, what: string, data: object) => records.push({ ...environment, bench: 'origin', scenario, what, ...data });
  const serverPids = new Set<number>();
  const ownPids = () => {
    const roots = [process.pid, ...serverPids];
    return [...new Set([...roots, ...roots.flatMap((p) => descendants(p))])];
  };

  const stopAll = async () => {
    await Promise.all(stoppers.splice(0).map((s) => s().catch(() => undefined)));
    closeAgent();
    for (const d of linkedDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  const onSignal = () => {
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  /** Starts an nginx peer, or says why not (its columns then say so and the run goes on). */
  const nginxOrWhy = async (kind: 'static' | 'vod', binary: string | undefined, root: string): Promise<NginxPeer | string> => {
    if (!binary) return 'not run (REEL_BENCH_NGINX_VOD unset)';
    if (!fs.existsSync(binary)) return `not run (${binary} missing)`;
    try {
      return await startNginx(nginxOptions(kind, binary, root));
    } catch (err) {
      say(`origin: nginx ${kind} did not start: ${(err as Error).message}`);
      return `failed to start (${(err as Error).message.split('\n')[0].slice(0, 60)})`;
    }
  };

  try {
    // ---- 1. the pre-packaging workflow's up-front cost (inputs in the page cache, as every origin's are below)
    await readThrough(media.tenMin.file);
    await readThrough(media.twoHours.file);
    say('origin: ffmpeg packaging 10 min and 2 h into HLS fMP4…');
    const staticRoot = path.join(tmp, 'static');
    const pack10 = await packageWithFfmpeg(media.tenMin.file, path.join(staticRoot, '10min'));
    const pack2h = await packageWithFfmpeg(media.twoHours.file, path.join(tmp, 'hls-2h'));
    // nginx static serves the 10-minute package, and of the 2-hour one its video playlist, init and first segment.
    const static2h = path.join(staticRoot, '2h', '0');
    fs.mkdirSync(static2h, { recursive: true });
    for (const f of ['index.m3u8', 'init_0.mp4', 'seg_00000.m4s']) fs.copyFileSync(path.join(pack2h.dir, '0', f), path.join(static2h, f));
    const pack2hSegments = fs.readdirSync(path.join(pack2h.dir, '0')).filter((f) => f.endsWith('.m4s')).length;
    fs.rmSync(pack2h.dir, { recursive: true, force: true });
    say(`origin: ffmpeg packaged 10 min in ${(pack10.ms / 1000).toFixed(2)} s, 2 h in ${(pack2h.ms / 1000).toFixed(2)} s (${pack2hSegments} video segments)`);

    // ---- 2. servers
    const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
    const reel = await startReel('reel origin', {}, profile);
    stoppers.push(() => reel.child.stop());
    serverPids.add(reel.mainPid);
    const reel0 = await startReel('reel origin (segment cache 0)', { segmentCacheMb: 0 });
    stoppers.push(() => reel0.child.stop());
    serverPids.add(reel0.mainPid);
    const reelBig =
      settings.bigCacheMb !== undefined ? await startReel(`reel origin (${settings.bigCacheMb} MB cache)`, { segmentCacheMb: settings.bigCacheMb }) : undefined;
    if (reelBig) {
      stoppers.push(() => reelBig.child.stop());
      serverPids.add(reelBig.mainPid);
    }
    say(
      `origin: Reel runs ${reel.processes} origin process${reel.processes === 1 ? '' : 'es'} (asked for ${settings.reelProcesses}), playback at ${reel.playUrl}`,
    );
    const peers: Record<'vod' | 'static', NginxPeer | string> = {
      vod: await nginxOrWhy('vod', settings.nginxVod, storeDir),
      static: await nginxOrWhy('static', settings.nginx, staticRoot),
    };
    for (const p of Object.values(peers)) {
      if (typeof p === 'string') continue;
      stoppers.push(() => p.stop());
      serverPids.add(p.pid);
    }
    const running = (k: 'vod' | 'static') => (typeof peers[k] === 'string' ? undefined : peers[k]);

    // ---- 3. each origin's URLs; one pass over every 10-min segment checks them and warms the origin
    const reelMaster = (base: string, locator: string) => `${base}/${locator}/manifest.ism/manifest(format=m3u8-cmaf)`;
    const loc10 = await reel.api.publish(media.tenMin.container);
    const loc2h = await reel.api.publish(media.twoHours.container);
    const reel10 = await openRendition(reelMaster(reel.playUrl, loc10));
    const reel2h = await openRendition(reelMaster(reel.playUrl, loc2h));
    /** Paths after the locator: the same under any locator of the same file. */
    const afterLocator = (u: string, locator: string) => pathOf(u).slice(locator.length + 1);
    const reelSuffix = {
      first10: afterLocator(reel10.segmentUrls[0], loc10),
      first2h: afterLocator(reel2h.segmentUrls[0], loc2h),
      playlist2h: afterLocator(reel2h.playlistUrl, loc2h),
    };
    const playback: Partial<Record<OriginKey, Playback>> = {
      reel: {
        segments10: reel10.segmentUrls.map(pathOf),
        first10: pathOf(reel10.segmentUrls[0]),
        first2h: pathOf(reel2h.segmentUrls[0]),
        playlist2h: pathOf(reel2h.playlistUrl),
      },
    };
    const firstBodies: Partial<Record<OriginKey, Buffer[]>> = {};
    const checkIndex = [0, 156];
    const sizes: Partial<Record<OriginKey, number[]>> = {};
    sizes.reel = await sizesOf(reel10.segmentUrls);
    firstBodies.reel = await Promise.all(checkIndex.map(async (i) => (await getOk(reel10.segmentUrls[i])).body));
    const vodPeer = running('vod');
    const vodMaster = (base: string, container: string) => `${base}/hls/${container}/movie.mp4/master.m3u8`;
    if (vodPeer) {
      const v10 = await openRendition(vodMaster(vodPeer.url, media.tenMin.container));
      const v2h = await openRendition(vodMaster(vodPeer.url, media.twoHours.container));
      playback.vod = {
        segments10: v10.segmentUrls.map(pathOf),
        first10: pathOf(v10.segmentUrls[0]),
        first2h: pathOf(v2h.segmentUrls[0]),
        playlist2h: pathOf(v2h.playlistUrl),
      };
      sizes.vod = await sizesOf(v10.segmentUrls);
      firstBodies.vod = await Promise.all(checkIndex.map(async (i) => (await getOk(v10.segmentUrls[i])).body));
    }
    const staticPeer = running('static');
    if (staticPeer) {
      const s10 = rendition(text(await getOk(`${staticPeer.url}/10min/0/index.m3u8`)), `${staticPeer.url}/10min/0/index.m3u8`);
      playback.static = {
        segments10: s10.segmentUrls.map(pathOf),
        first10: pathOf(s10.segmentUrls[0]),
        first2h: '/2h/0/seg_00000.m4s',
        playlist2h: '/2h/0/index.m3u8',
      };
      sizes.static = await sizesOf(s10.segmentUrls);
      firstBodies.static = await Promise.all(checkIndex.map(async (i) => (await getOk(s10.segmentUrls[i])).body));
    }
    // nginx-vod ends the 10-min asset with a 0.3 s segment where Reel and ffmpeg make the last one 2.3 s: all cycle over the same count.
    const common = Math.min(...Object.values(playback).map((p) => p.segments10.length));
    for (const k of Object.keys(sizes) as OriginKey[]) {
      const s = sizes[k] as number[];
      if (s.length > common) say(`origin: ${originNames[k]} lists ${s.length} segments; cycling over the first ${common}, as the others`);
      (playback[k] as Playback).segments10 = (playback[k] as Playback).segments10.slice(0, common);
      say(`origin: ${originNames[k]}: ${s.length} video segments of the 10-min asset, ${mb(s.slice(0, common).reduce((a, b) => a + b, 0)).toFixed(0)} MB`);
    }

    // ---- 4. the video frames are the same bytes everywhere (mdat payloads of segments 1 and 151)
    const frames = checkIndex.map((index, n) => {
      const hashes = Object.fromEntries((Object.keys(firstBodies) as OriginKey[]).map((k) => [k, sha(mdatPayload((firstBodies[k] as Buffer[])[n]))]));
      return { segment: index + 1, hashes, same: new Set(Object.values(hashes)).size === 1 };
    });
    const framesSame = frames.every((f) => f.same);
    const compared = Object.keys(firstBodies).map((k) => originNames[k as OriginKey]);
    const framesLine =
      compared.length < 2
        ? 'video frames not compared: no peer ran'
        : `video frames (mdat payloads of segments ${checkIndex.map((i) => i + 1).join(' and ')}) ${framesSame ? 'byte-identical' : 'DIFFER'} across ${compared.join(', ')}: ${frames
            .map(
              (f) =>
                `#${f.segment} ${Object.entries(f.hashes)
                  .map(([k, h]) => `${originNames[k as OriginKey]} ${h}`)
                  .join(' / ')}`,
            )
            .join('; ')}`;
    say(`origin: ${framesLine}`);
    record('frames', 'sha256 (first 16 hex) of the mdat payloads of the 10-min asset video segments, per origin', {
      frames,
      same: compared.length < 2 ? null : framesSame,
    });

    // ---- 5. warm cycling over all segments, and one hot segment
    const reelTarget = (key: string, label: string, r: ReelOrigin, paths: string[]): LoadTarget => ({
      key,
      origin: 'reel',
      label,
      url: r.playUrl,
      paths,
      groups: () => {
        const serving = r.servingPids();
        return r.processes > 1
          ? { total: [r.mainPid, ...serving], main: [r.mainPid], serving }
          : { total: [r.mainPid], main: [r.mainPid], serving: [r.mainPid] };
      },
    });
    const nginxTarget = (key: 'vod' | 'static', paths: string[]): LoadTarget => {
      const p = running(key) as NginxPeer;
      return { key, origin: key, label: originNames[key], url: p.url, paths, groups: () => ({ total: p.pids() }) };
    };
    const reelPlayback = playback.reel as Playback;
    const reelPaths0 = async (r: ReelOrigin) => {
      const loc = await r.api.publish(media.tenMin.container);
      const rend = await openRendition(reelMaster(r.playUrl, loc));
      await sizesOf(rend.segmentUrls);
      return rend.segmentUrls.map(pathOf);
    };
    const cycling: LoadTarget[] = [
      reelTarget('reel', 'Reel (default segment cache)', reel, reelPlayback.segments10),
      reelTarget('reel-cache0', 'Reel (segment cache 0)', reel0, await reelPaths0(reel0)),
      ...(reelBig ? [reelTarget('reel-big', `Reel (${settings.bigCacheMb} MB cache)`, reelBig, await reelPaths0(reelBig))] : []),
      ...(['vod', 'static'] as const).filter((k) => playback[k]).map((k) => nginxTarget(k, (playback[k] as Playback).segments10)),
    ];
    const warm = await loadRounds('segments cycling', cycling, ownPids);
    const hotIndex = 10;
    const hot = await loadRounds(
      'one hot segment',
      cycling.filter((t) => t.key !== 'reel-big').map((t) => ({ ...t, paths: [t.paths[hotIndex]] })),
      ownPids,
    );
    if (reelBig) {
      await reelBig.child.stop();
      serverPids.delete(reelBig.mainPid);
    }

    // ---- 6. the 2-h media playlist under load (identity, as wrk asks)
    const playlistTargets: LoadTarget[] = [
      reelTarget('reel', 'Reel', reel, [reelPlayback.playlist2h]),
      ...(['vod', 'static'] as const).filter((k) => playback[k]).map((k) => nginxTarget(k, [(playback[k] as Playback).playlist2h])),
    ];
    const playlistBytes: Partial<Record<OriginKey, number>> = {};
    for (const t of playlistTargets) playlistBytes[t.origin] = (await getOk(`${t.url}${t.paths[0]}`)).body.length;
    const playlistLoad = await loadRounds('2-h playlist', playlistTargets, ownPids);
    // ---- 6b. the same with Accept-Encoding: gzip, as players send it (Reel: pre-compressed; nginx: gzip on, on the fly)
    const gzip = { 'accept-encoding': 'gzip' };
    const playlistGzBytes: Partial<Record<OriginKey, number>> = {};
    for (const t of playlistTargets) {
      const res = await getOk(`${t.url}${t.paths[0]}`, gzip);
      if (res.headers['content-encoding'] !== 'gzip') say(`origin: ${originNames[t.origin]} answered the gzip playlist request without gzip`);
      playlistGzBytes[t.origin] = res.body.length;
    }
    const playlistLoadGz = await loadRounds(
      '2-h playlist gzip',
      playlistTargets.map((t) => ({ ...t, headers: gzip })),
      ownPids,
    );

    // ---- 7. first segment of a never-seen asset on the running origins (file in the page cache)
    const newAsset: Record<OriginKey, Record<'10min' | '2h', number[]>> = {
      reel: { '10min': [], '2h': [] },
      vod: { '10min': [], '2h': [] },
      static: { '10min': [], '2h': [] },
    };
    const link = (file: string, dir: string, name: string) => {
      linkedDirs.push(dir);
      fs.mkdirSync(dir, { recursive: true });
      fs.linkSync(file, path.join(dir, name));
    };
    const quiet = async () => {
      const pids = ownPids();
      await waitForQuiet(() => pids, { thresholdCores: settings.maxForeignCores, maxWaitSec: Math.min(settings.quietWaitSec, 20) });
    };
    for (let i = 0; i < settings.newAssetReps; i++) {
      for (const asset of ['10min', '2h'] as const) {
        const m = asset === '10min' ? media.tenMin : media.twoHours;
        // Reel: same bytes, new container, asset and locator: its index cache has never seen it.
        const container = `new-${process.pid}-${asset}-${i}`;
        link(m.file, path.join(storeDir, container), 'movie.mp4');
        const locator = await reel.api.publish(container);
        // nginx-vod: a new path (its caches are keyed by it).
        const vodContainer = `${container}-vod`;
        if (vodPeer) link(m.file, path.join(storeDir, vodContainer), 'movie.mp4');
        const staticDir = `new-${asset}-${i}`;
        if (staticPeer)
          link(path.join(staticRoot, asset === '10min' ? '10min/0/seg_00000.m4s' : '2h/0/seg_00000.m4s'), path.join(staticRoot, staticDir), 'seg_00000.m4s');
        await quiet();
        newAsset.reel[asset].push((await getOk(`${reel.playUrl}/${locator}${asset === '10min' ? reelSuffix.first10 : reelSuffix.first2h}`)).ms);
        if (vodPeer) {
          const first = (playback.vod as Playback)[asset === '10min' ? 'first10' : 'first2h'].replace(`/hls/${m.container}/`, `/hls/${vodContainer}/`);
          newAsset.vod[asset].push((await getOk(`${vodPeer.url}${first}`)).ms);
        }
        if (staticPeer) newAsset.static[asset].push((await getOk(`${staticPeer.url}/${staticDir}/seg_00000.m4s`)).ms);
      }
      say(
        `origin: never-seen asset ${i + 1}/${settings.newAssetReps}, first segment 10 min / 2 h: ${(Object.keys(newAsset) as OriginKey[])
          .filter((k) => newAsset[k]['10min'].length > 0)
          .map((k) => `${originNames[k]} ${newAsset[k]['10min'][i].toFixed(1)} / ${newAsset[k]['2h'][i].toFixed(1)} ms`)
          .join(', ')}`,
      );
    }

    // ---- 8. fresh processes: the first request of a started, ready server (nothing cached, JIT cold), on a raw socket
    // (a new connection, as a player's first request; no HTTP client work in the figure)
    type FreshKind = 'first10' | 'first2h' | 'playlist2h';
    const fresh: Record<OriginKey, Record<FreshKind, number[]>> = {
      reel: { first10: [], first2h: [], playlist2h: [] },
      vod: { first10: [], first2h: [], playlist2h: [] },
      static: { first10: [], first2h: [], playlist2h: [] },
    };
    for (let i = 0; i < settings.freshReps; i++) {
      for (const kind of ['first10', 'first2h', 'playlist2h'] as FreshKind[]) {
        const container = kind === 'first10' ? media.tenMin.container : media.twoHours.container;
        // One wait for a quiet machine per measurement, not per origin: each start is milliseconds (nginx) to seconds (Reel).
        await quiet();
        {
          const r = await startReel(`reel origin (fresh ${kind} ${i + 1})`, {});
          // The locator is made through the API first (the control plane): the origin has served nothing yet.
          const locator = await r.api.publish(container);
          fresh.reel[kind].push((await rawTimedGet(`${r.playUrl}/${locator}${reelSuffix[kind]}`)).ms);
          await r.child.stop();
        }
        for (const k of ['vod', 'static'] as const) {
          if (!playback[k]) continue;
          // startNginx resolves once the workers are up (not merely the master's socket): the request meets a ready server.
          const p = await startNginx(nginxOptions(k, k === 'vod' ? (settings.nginxVod as string) : settings.nginx, k === 'vod' ? storeDir : staticRoot));
          try {
            fresh[k][kind].push((await rawTimedGet(`${p.url}${playback[k][kind]}`)).ms);
          } finally {
            await p.stop();
          }
        }
      }
      say(
        `origin: fresh process ${i + 1}/${settings.freshReps}, first segment 10 min / 2 h / 2-h playlist: ${(Object.keys(fresh) as OriginKey[])
          .filter((k) => fresh[k].first10.length > 0)
          .map((k) => `${originNames[k]} ${fresh[k].first10[i].toFixed(1)} / ${fresh[k].first2h[i].toFixed(1)} / ${fresh[k].playlist2h[i].toFixed(1)} ms`)
          .join(', ')}`,
      );
    }

    // ---- results
    const have = (k: OriginKey) => k === 'reel' || !!playback[k];
    const why = (k: OriginKey) => (k === 'reel' ? '' : typeof peers[k] === 'string' ? peers[k] : '');
    const peerInfo = {
      vod: {
        name: 'nginx + nginx-vod-module (HLS fMP4, vod_mode local)',
        binary: settings.nginxVod ?? null,
        version: vodPeer?.version ?? null,
        workers: settings.nginxWorkers,
        aio: settings.nginxVodAio,
        openFileThreadPool: settings.nginxVodOpenPool,
        malloc: settings.nginxVodMalloc,
        extra: settings.nginxVodExtra ?? null,
        gzip: 'gzip on (playlists)',
      },
      static: {
        name: "Debian nginx, sendfile, ffmpeg's HLS fMP4 segments",
        binary: settings.nginx,
        version: staticPeer?.version ?? null,
        workers: settings.nginxWorkers,
        gzip: 'gzip on (on the fly; gzip_static would serve a pre-compressed copy)',
      },
      reel: { originProcesses: reel.processes, askedOriginProcesses: settings.reelProcesses },
    };
    record('package-offline', 'ffmpeg packaging time (page-cached input): what pre-packaging pays before serving anything', {
      tenMinMs: round(pack10.ms, 1),
      twoHoursMs: round(pack2h.ms, 1),
      twoHoursVideoSegments: pack2hSegments,
      ffmpeg: ffmpegVersion(),
    });
    const loadRecord = (scenario: string, what: string, s: Record<string, LoadSummary>) =>
      record(scenario, what, {
        connections: settings.connections,
        rounds: settings.rounds,
        durationSec: settings.durationSec,
        peers: peerInfo,
        results: s,
        ratios: Object.fromEntries(
          Object.keys(s)
            .filter((k) => k.startsWith('reel'))
            .map((k) => [
              k,
              {
                reqPerSecOverVod: s.vod ? round(s[k].reqPerSec / s.vod.reqPerSec, 3) : null,
                reqPerSecOverStatic: s.static ? round(s[k].reqPerSec / s.static.reqPerSec, 3) : null,
                p99OverVod: s.vod ? round(s[k].p99Ms / s.vod.p99Ms, 3) : null,
                rssOverVod: s.vod ? round(s[k].peakRssMb.total / s.vod.peakRssMb.total, 3) : null,
              },
            ]),
        ),
      });
    loadRecord('segments-warm', `GET video segments of the 10 min 1080p asset, c=${settings.connections}, cycling over all ${common}`, warm);
    loadRecord('segment-hot', `GET one video segment (#${hotIndex + 1}) of the 10 min asset, c=${settings.connections}`, hot);
    loadRecord('playlist-2h-load', `GET the 2 h video media playlist (identity), c=${settings.connections}`, playlistLoad);
    loadRecord('playlist-2h-load-gzip', `GET the 2 h video media playlist with Accept-Encoding: gzip, c=${settings.connections}`, playlistLoadGz);
    record('first-segment-new', 'first segment of a never-seen asset on a running origin (file in the page cache), ms', {
      peers: peerInfo,
      results: Object.fromEntries(
        (Object.keys(newAsset) as OriginKey[]).filter(have).map((k) => [k, { '10min': timings(newAsset[k]['10min']), '2h': timings(newAsset[k]['2h']) }]),
      ),
    });
    record('first-request-fresh', 'first request of a fresh, listening server process (first segment 10 min / 2 h, 2 h media playlist), ms', {
      peers: peerInfo,
      results: Object.fromEntries(
        (Object.keys(fresh) as OriginKey[])
          .filter(have)
          .map((k) => [k, Object.fromEntries((Object.keys(fresh[k]) as FreshKind[]).map((f) => [f, timings(fresh[k][f])]))]),
      ),
      playlistBytes,
      playlistGzBytes,
    });
    if (settings.record) for (const r of records) appendResult('origin.jsonl', r);

    // ---- the table: measurement | nginx-vod | nginx static | Reel | Reel ÷ nginx-vod | Reel ÷ nginx static
    const rows: string[][] = [['measurement', 'nginx-vod', 'nginx static', 'Reel', 'Reel ÷ nginx-vod', 'Reel ÷ nginx static']];
    const x = (a: number, b: number | undefined) => (b === undefined || !Number.isFinite(a / b) ? '' : `${(a / b).toFixed(2)}`);
    const cell = (k: OriginKey, v: number | undefined, fmt: (n: number) => string) => (v === undefined ? why(k) || '-' : fmt(v));
    const reqs = (n: number) => `${n.toFixed(0)} req/s`;
    const msf = (n: number) => `${n.toFixed(1)} ms`;
    const row = (what: string, vod: number | undefined, stat: number | undefined, reelV: number, fmt: (n: number) => string, reelText?: string) =>
      rows.push([what, cell('vod', vod, fmt), cell('static', stat, fmt), reelText ?? fmt(reelV), x(reelV, vod), x(reelV, stat)]);
    rows.push([
      'ffmpeg packaging before serving, 10 min / 2 h',
      'none',
      `${(pack10.ms / 1000).toFixed(2)} / ${(pack2h.ms / 1000).toFixed(2)} s`,
      'none',
      '',
      '',
    ]);
    const cacheLabel = (k: string) =>
      k === 'reel' ? 'default cache' : k === 'reel-cache0' ? 'segment cache 0 (pure just-in-time)' : `${settings.bigCacheMb} MB cache`;
    for (const k of Object.keys(warm).filter((k) => k.startsWith('reel'))) {
      row(`warm, cycling all ${common} segments, Reel ${cacheLabel(k)}`, warm.vod?.reqPerSec, warm.static?.reqPerSec, warm[k].reqPerSec, reqs);
      row(
        `  ↳ p50 / p99 (ratios: p99)`,
        warm.vod?.p99Ms,
        warm.static?.p99Ms,
        warm[k].p99Ms,
        msf,
        `${warm[k].p50Ms.toFixed(1)} / ${warm[k].p99Ms.toFixed(1)} ms`,
      );
      rows[rows.length - 1][1] = warm.vod ? `${warm.vod.p50Ms.toFixed(1)} / ${warm.vod.p99Ms.toFixed(1)} ms` : rows[rows.length - 1][1];
      rows[rows.length - 1][2] = warm.static ? `${warm.static.p50Ms.toFixed(1)} / ${warm.static.p99Ms.toFixed(1)} ms` : rows[rows.length - 1][2];
    }
    for (const k of Object.keys(hot).filter((k) => k.startsWith('reel'))) {
      row(`warm, one hot segment, Reel ${cacheLabel(k)}`, hot.vod?.reqPerSec, hot.static?.reqPerSec, hot[k].reqPerSec, reqs);
    }
    const rssText = (s: LoadSummary, processes: number) =>
      processes > 1
        ? `${s.peakRssMb.total.toFixed(0)} MB (main ${s.peakRssMb.main.toFixed(0)} + ${processes} serving ${s.peakRssMb.serving.toFixed(0)})`
        : `${s.peakRssMb.total.toFixed(0)} MB (1 process)`;
    const nginxRss = (s: LoadSummary | undefined) => (s ? `${s.peakRssMb.total.toFixed(0)} MB` : undefined);
    for (const k of ['reel', 'reel-cache0'] as const) {
      rows.push([
        `peak RSS while cycling (process tree), Reel ${cacheLabel(k)}`,
        nginxRss(warm.vod) ?? why('vod'),
        nginxRss(warm.static) ?? why('static'),
        rssText(warm[k], reel.processes),
        x(warm[k].peakRssMb.total, warm.vod?.peakRssMb.total),
        x(warm[k].peakRssMb.total, warm.static?.peakRssMb.total),
      ]);
      row(`  ↳ PSS at the end of a round (shared pages counted once)`, warm.vod?.pssMb, warm.static?.pssMb, warm[k].pssMb, (n) => `${n.toFixed(0)} MB`);
    }
    row(
      '  ↳ server CPU per request while cycling, Reel default cache',
      warm.vod?.cpuMsPerRequest,
      warm.static?.cpuMsPerRequest,
      warm.reel.cpuMsPerRequest,
      (n) => `${n.toFixed(2)} ms`,
    );
    row('  ↳ server CPU while cycling (cores), Reel default cache', warm.vod?.serverCores, warm.static?.serverCores, warm.reel.serverCores, (n) =>
      n.toFixed(2),
    );
    const med = (xs: number[]) => (xs.length ? median(xs) : undefined);
    row('first segment, 10-min asset, fresh process', med(fresh.vod.first10), med(fresh.static.first10), median(fresh.reel.first10), msf);
    row('first segment, 2-h asset, fresh process', med(fresh.vod.first2h), med(fresh.static.first2h), median(fresh.reel.first2h), msf);
    row(
      'first segment, never-seen 10-min asset, running origin',
      med(newAsset.vod['10min']),
      med(newAsset.static['10min']),
      median(newAsset.reel['10min']),
      msf,
    );
    row('first segment, never-seen 2-h asset, running origin', med(newAsset.vod['2h']), med(newAsset.static['2h']), median(newAsset.reel['2h']), msf);
    row('2-h media playlist, fresh process', med(fresh.vod.playlist2h), med(fresh.static.playlist2h), median(fresh.reel.playlist2h), msf);
    row('2-h media playlist under load', playlistLoad.vod?.reqPerSec, playlistLoad.static?.reqPerSec, playlistLoad.reel.reqPerSec, reqs);
    row('  ↳ its size', playlistBytes.vod, playlistBytes.static, playlistBytes.reel as number, (n) => `${(n / 1000).toFixed(0)} KB`);
    row(
      '2-h media playlist under load, Accept-Encoding: gzip',
      playlistLoadGz.vod?.reqPerSec,
      playlistLoadGz.static?.reqPerSec,
      playlistLoadGz.reel.reqPerSec,
      reqs,
    );
    row('  ↳ its size, gzip', playlistGzBytes.vod, playlistGzBytes.static, playlistGzBytes.reel as number, (n) => `${(n / 1000).toFixed(0)} KB`);
    process.stdout.write(
      `\nOrigin: Reel (${reel.processes} origin process${reel.processes === 1 ? '' : 'es'}) vs nginx-vod-module and Debian nginx serving ffmpeg's segments (${settings.nginxWorkers} workers each); c=${settings.connections}, medians of ${settings.rounds} rounds × ${settings.durationSec} s, ${settings.freshReps} fresh processes, ${settings.newAssetReps} never-seen assets.\n` +
        `Ratios are Reel ÷ peer: above 1 is better for req/s, worse for ms and MB.\n${formatTable(rows)}\n${framesLine}\n`,
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
