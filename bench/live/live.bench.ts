/**
 * Live benchmark (issue 16): Reel's live origin side by side with Debian's nginx + libnginx-mod-rtmp (HLS out of
 * an RTMP push), one after the other in the same run, on the same pushes.
 *
 * Media: a 5 Mbit/s 1280x720 25 fps H.264 + AAC FLV with 2 s GOPs made by ffmpeg once (cached in the temp dir),
 * pushed with `ffmpeg -re -stream_loop -1 -c copy` (real time, no encoding) to RTMP.
 *
 * Measurements, per server and number of events pushed at once (BENCH_EVENTS, default 1,10,20):
 *   available   segment available latency: when a segment is first listed in the live playlist (polled every
 *               50 ms) minus when its last frame was pushed (push start + the segment's end media time)
 *   g2g         frame pushed → first listed: the same for the segment's first frame. What a player showing the
 *               newest segment at once would see; players add their own hold-back on top (3 segments by default
 *               in hls.js), the same for both servers.
 *   sustained   every event's playlist kept up: its media time at the end is within 2 segments + 1 s of what was
 *               pushed, and its p99 availability stays under 2 segments + 1 s (no backlog building up)
 *   cpu/event   the server's process tree CPU over the push, per event, in % of one core
 *   rss         peak resident memory of the server's process tree
 * Reel plays the live output's locator (HLS TS, `format=m3u8-aapl`, the same container as nginx-rtmp's HLS) and
 * records every event into an asset, as MK.IO users run it; nginx-rtmp writes its HLS files to disk. A last round
 * (BENCH_LL=0 skips it) runs one LowLatency event (`reel-lowlatency`, HLS CMAF with LL-HLS parts of 0.5 s), where
 * "available" and "g2g" are measured per part, as low-latency players fetch them (aim: g2g ≤ 2 s).
 *
 *   npx tsx bench/live/live.bench.ts        (or: npx tsx bench/run.ts live)
 *
 * Needs `apt-get install nginx-light libnginx-mod-rtmp` (or BENCH_NGINX / BENCH_NGINX_RTMP_MODULE); without them
 * only Reel is measured and the table says so. Knobs: BENCH_SECONDS (30), BENCH_EVENTS (1,10,20).
 * Results: stdout table + bench/results/live.jsonl.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startOriginChild } from '../origin/origin-child.js';
import type { OriginStartOptions, StartedOrigin } from '../origin/origin-server.js';
import { appendResult, benchEnvironment, formatTable } from '../support/bench-results.js';
import { cpuMsOf, descendants, memMb, sumOf } from '../support/process-tree.js';
import { freePort } from '../support/free-port.js';

const seconds = Number(process.env.BENCH_SECONDS || '30');
const eventCounts = (process.env.BENCH_EVENTS || '1,10,20').split(',').map(Number);
const nginxBinary = process.env.BENCH_NGINX ?? '/usr/sbin/nginx';
const rtmpModule = process.env.BENCH_NGINX_RTMP_MODULE ?? '/usr/lib/nginx/modules/ngx_rtmp_module.so';
const segmentSec = 2;
const started = performance.now();
const say = (line: string) => process.stderr.write(`[${Math.round((performance.now() - started) / 1000)} s] ${line}\n`);
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The pushed source: made once, kept in the temp dir between runs. */
function ensureSource(): string {
  const file = path.join(os.tmpdir(), 'reel-live-bench-720p-5mbps-v1.flv');
  if (fs.existsSync(file)) return file;
  say('making the 5 Mbit/s source (20 s)');
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=1280x720:rate=25',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
  ];
  args.push(
    '-t',
    '20',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-b:v',
    '5000k',
    '-maxrate',
    '5000k',
    '-bufsize',
    '5000k',
    '-g',
    '50',
    '-keyint_min',
    '50',
    '-sc_threshold',
    '0',
  );
  args.push('-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k', '-f', 'flv', `${file}.part`);
  const made = spawnSync('ffmpeg', args, { stdio: 'inherit' });
  if (made.status !== 0) throw new Error('ffmpeg could not make the source');
  fs.renameSync(`${file}.part`, file);
  return file;
}

interface SegmentSeen {
  listedMs: number;
  startSec: number;
  durationSec: number;
}

/**
 * Polls a live media playlist and notes when each segment (by media sequence number) first appears. Media time
 * is the sum of the durations of every segment before it, from sequence `firstSequence` (the stream's first).
 */
class PlaylistWatcher {
  readonly seen = new Map<number, SegmentSeen>();
  /** LL-HLS parts (`EXT-X-PART`), by `{segment start ticks}.{part}`: their media times come from their URIs. */
  readonly parts = new Map<string, SegmentSeen>();
  #stopped = false;
  #done: Promise<void>;
  #endSec = 0;
  #nextSeq: number | undefined;

  constructor(private readonly url: () => Promise<string | undefined>) {
    this.#done = this.#loop();
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      const at = Date.now();
      const url = await this.url().catch(() => undefined);
      const res = url ? await fetch(url, { headers: { 'cache-control': 'no-cache' } }).catch(() => undefined) : undefined;
      if (res?.ok) this.#note(await res.text(), at);
      else await res?.arrayBuffer().catch(() => undefined);
      await sleep(Math.max(0, 50 - (Date.now() - at)));
    }
  }

  #note(playlist: string, at: number): void {
    const partEnds = new Map<string, number>();
    for (const m of playlist.matchAll(/#EXT-X-PART:DURATION=([\d.]+),URI="[^"]*video=(\d+),[^"]*part=(\d+)/g)) {
      const [durationSec, startTicks, k] = [Number(m[1]), Number(m[2]), Number(m[3])];
      // Parts of a segment are listed in order: each starts where the one before ended (90 kHz video ticks).
      const startSec = k === 0 ? startTicks / 90_000 : (partEnds.get(`${startTicks}.${k - 1}`) ?? NaN);
      partEnds.set(`${startTicks}.${k}`, startSec + durationSec);
      const key = `${startTicks}.${k}`;
      if (!this.parts.has(key) && Number.isFinite(startSec)) this.parts.set(key, { listedMs: at, startSec, durationSec });
    }
    const seq = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(playlist)?.[1] ?? '0');
    const durations = [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]));
    for (let i = 0; i < durations.length; i++) {
      const n = seq + i;
      if (this.seen.has(n)) continue;
      // Segments must be seen in order from the first one, or media time is unknown: the window is 60 s or more.
      if (this.#nextSeq !== undefined && n !== this.#nextSeq) continue;
      this.seen.set(n, { listedMs: at, startSec: this.#endSec, durationSec: durations[i] });
      this.#endSec += durations[i];
      this.#nextSeq = n + 1;
    }
  }

  get mediaSec(): number {
    return this.#endSec;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }
}

function push(source: string, url: string): { child: ChildProcess; startMs: number; exit: Promise<number> } {
  const args = ['-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', source, '-t', String(seconds), '-c', 'copy', '-f', 'flv', url];
  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  const exit = new Promise<number>((resolve) =>
    child.on('exit', (code) => {
      if (code !== 0) say(`push to a ${url.split('/')[2]} event ended with ${code}: ${err.trim().split('\n').pop() ?? ''}`);
      resolve(code ?? 1);
    }),
  );
  return { child, startMs: Date.now(), exit };
}

interface Peer {
  name: string;
  pids(): number[];
  /** Prepares `n` streams: their ingest URLs and live media playlist URLs. */
  prepare(n: number): Promise<Array<{ ingest: string; playlist: () => Promise<string | undefined> }>>;
  /** Ends the streams of a round (Reel stops its events). */
  finish(): Promise<void>;
  close(): Promise<void>;
}

async function startNginx(): Promise<Peer | undefined> {
  if (!fs.existsSync(nginxBinary) || !fs.existsSync(rtmpModule)) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-live-bench-nginx-'));
  const rtmpPort = await freePort();
  const httpPort = await freePort();
  fs.mkdirSync(path.join(dir, 'hls'));
  // nginx's workers run as an unprivileged user: they write the HLS files and read them back.
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(path.join(dir, 'hls'), 0o777);
  const conf = `load_module ${rtmpModule};
daemon off; master_process on; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events { worker_connections 4096; }
rtmp { server { listen 127.0.0.1:${rtmpPort}; chunk_size 4096;
  application live { live on; record off; hls on; hls_path ${dir}/hls; hls_fragment ${segmentSec}s; hls_playlist_length 120s; hls_cleanup on; } } }
http { access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
  server { listen 127.0.0.1:${httpPort}; location /hls/ { alias ${dir}/hls/; add_header Cache-Control no-cache; } } }
`;
  fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
  const child = spawn(nginxBinary, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')], { stdio: 'inherit' });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(rtmpPort, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    await sleep(50);
  }
  const version = spawnSync(nginxBinary, ['-v'], { encoding: 'utf8' }).stderr.trim();
  say(`peer: ${version} with ${rtmpModule}`);
  let round = 0;
  return {
    name: 'nginx-rtmp',
    pids: () => (child.pid ? [child.pid, ...descendants(child.pid)] : []),
    prepare: async (n) => {
      round++;
      return Array.from({ length: n }, (_, i) => ({
        ingest: `rtmp://127.0.0.1:${rtmpPort}/live/r${round}s${i}`,
        playlist: async () => `http://127.0.0.1:${httpPort}/hls/r${round}s${i}.m3u8`,
      }));
    },
    finish: async () => undefined,
    close: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startReel(options: { lowLatency?: boolean } = {}): Promise<Peer> {
  const child = startOriginChild('reel');
  const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-live-bench-store-'));
  const rtmpPort = await freePort();
  const reel = await child.call<StartedOrigin>('start', {
    storeDir,
    originProcesses: 1,
    env: { REEL_LIVE_RTMP_PORT: String(rtmpPort), REEL_LIVE_SRT_PORT: '0' },
  } satisfies OriginStartOptions);
  const V = `${reel.url}/api/v1/projects/default/media`;
  const call = async (method: string, p: string, body?: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`${V}${p}`, {
      method,
      headers: { 'x-mkio-token': reel.token, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${p}: HTTP ${res.status}: ${text}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
  let round = 0;
  let running: string[] = [];
  return {
    name: options.lowLatency ? 'reel-lowlatency' : 'reel',
    pids: () => (child.pid ? [child.pid, ...descendants(child.pid)] : []),
    prepare: async (n) => {
      round++;
      const streams: Array<{ ingest: string; playlist: () => Promise<string | undefined> }> = [];
      running = [];
      for (let i = 0; i < n; i++) {
        const name = `r${round}e${i}`;
        await call('PUT', `/assets/${name}`, { properties: { storageAccountName: 'local' } });
        const event = await call('PUT', `/liveEvents/${name}`, {
          properties: {
            encoding: { encodingType: 'PassthroughBasic' },
            input: { streamingProtocol: 'RTMP' },
            streamOptions: [options.lowLatency ? 'LowLatency' : 'Default'],
          },
          tags: {},
        });
        void event;
        await call('POST', `/liveEvents/${name}/start`, {});
        running.push(name);
        await call('PUT', `/liveEvents/${name}/liveOutputs/out`, { properties: { assetName: name, archiveWindowLength: 'PT10M', manifestName: name } });
        const locatorId = crypto.randomUUID();
        await call('PUT', `/streamingLocators/${name}`, {
          properties: { assetName: name, streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId: locatorId },
        });
        const got = (await call('GET', `/liveEvents/${name}`)) as { properties: { input: { endpoints: Array<{ protocol: string; url: string }> } } };
        const rtmp = got.properties.input.endpoints.find((e) => e.protocol === 'RTMP');
        if (!rtmp) throw new Error(`event ${name} has no RTMP endpoint`);
        // LL-HLS parts come with CMAF playlists only; Default rounds use TS like nginx-rtmp's HLS.
        const master = `${reel.playUrl}/${locatorId}/${name}.ism/manifest(format=${options.lowLatency ? 'm3u8-cmaf' : 'm3u8-aapl'})`;
        let media: string | undefined;
        streams.push({
          ingest: `${rtmp.url}/stream`,
          playlist: async () => {
            if (media) return media;
            const res = await fetch(master);
            if (!res.ok) return (await res.arrayBuffer(), undefined);
            const lines = (await res.text()).split('\n');
            const video = lines.findIndex((l) => l.startsWith('#EXT-X-STREAM-INF'));
            if (video < 0) return undefined;
            media = new URL(lines[video + 1], master).toString();
            return media;
          },
        });
      }
      return streams;
    },
    finish: async () => {
      for (const name of running) await call('POST', `/liveEvents/${name}/stop`, { removeOutputsOnStop: true });
      running = [];
    },
    close: async () => {
      await child.stop();
      fs.rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

interface RoundResult {
  server: string;
  events: number;
  availableP50Ms: number;
  availableP99Ms: number;
  g2gP50Ms: number;
  g2gP99Ms: number;
  sustained: boolean;
  lagging: number;
  cpuPerEventPct: number;
  rssMb: number;
}

async function measure(peer: Peer, source: string, events: number): Promise<RoundResult> {
  const streams = await peer.prepare(events);
  const pids = peer.pids();
  const cpuBefore = cpuMsOf(pids);
  const wallBefore = Date.now();
  const pushes = streams.map((s) => push(source, s.ingest));
  const watchers = streams.map((s) => new PlaylistWatcher(s.playlist));
  let rssMb = 0;
  const rssTimer = setInterval(
    () =>
      (rssMb = Math.max(
        rssMb,
        sumOf(peer.pids(), (p) => memMb(p)),
      )),
    200,
  );
  await Promise.all(pushes.map((p) => p.exit));
  const cpuMs = cpuMsOf(peer.pids()) - cpuBefore;
  const wallMs = Date.now() - wallBefore;
  await sleep(segmentSec * 1000 + 1500); // the last whole segments get listed
  clearInterval(rssTimer);
  for (const w of watchers) await w.stop();
  await peer.finish();

  const available: number[] = [];
  const g2g: number[] = [];
  let lagging = 0;
  const budgetMs = 2 * segmentSec * 1000 + 1000;
  watchers.forEach((w, i) => {
    const startMs = pushes[i].startMs;
    const own: number[] = [];
    // LowLatency: what becomes available is a part (players fetch parts); otherwise whole segments.
    for (const s of w.parts.size > 0 ? w.parts.values() : w.seen.values()) {
      if (s.startSec + s.durationSec > seconds) continue; // cut by the push's end, not by the server
      const a = s.listedMs - (startMs + (s.startSec + s.durationSec) * 1000);
      available.push(a);
      own.push(a);
      g2g.push(s.listedMs - (startMs + s.startSec * 1000));
    }
    if (w.mediaSec < seconds - budgetMs / 1000 || !(quantile(own, 0.99) <= budgetMs)) lagging++;
  });
  return {
    server: peer.name,
    events,
    availableP50Ms: Math.round(quantile(available, 0.5)),
    availableP99Ms: Math.round(quantile(available, 0.99)),
    g2gP50Ms: Math.round(quantile(g2g, 0.5)),
    g2gP99Ms: Math.round(quantile(g2g, 0.99)),
    sustained: lagging === 0,
    lagging,
    cpuPerEventPct: round((cpuMs / wallMs / events) * 100, 1),
    rssMb: Math.round(rssMb),
  };
}

async function main(): Promise<void> {
  const source = ensureSource();
  const peers: Peer[] = [];
  const nginx = await startNginx();
  if (nginx) peers.push(nginx);
  else say(`no nginx-rtmp peer (${nginxBinary}, ${rtmpModule}): apt-get install nginx-light libnginx-mod-rtmp`);
  peers.push(await startReel());
  const results: RoundResult[] = [];
  const report = (r: RoundResult) => {
    results.push(r);
    say(
      `${r.server}: available p50 ${r.availableP50Ms} ms, g2g p50 ${r.g2gP50Ms} ms, sustained ${r.sustained} (${r.lagging} lagging), cpu/event ${r.cpuPerEventPct}%`,
    );
  };
  try {
    for (const events of eventCounts) {
      for (const peer of peers) {
        say(`${peer.name}: ${events} event(s) for ${seconds} s`);
        report(await measure(peer, source, events));
      }
    }
    // One LowLatency event (LL-HLS parts): nginx-rtmp has no low-latency HLS to compare with.
    if (process.env.BENCH_LL !== '0') {
      const ll = await startReel({ lowLatency: true });
      peers.push(ll);
      say(`${ll.name}: 1 event for ${seconds} s`);
      report(await measure(ll, source, 1));
    }
  } finally {
    for (const peer of peers) await peer.close();
  }
  const rows = [['server', 'events', 'avail p50 ms', 'avail p99 ms', 'g2g p50 ms', 'g2g p99 ms', 'sustained', 'cpu/event %', 'rss MB', 'avail ÷ peer']];
  for (const r of results) {
    const peer = results.find((p) => p.server === 'nginx-rtmp' && p.events === r.events);
    // A LowLatency part and a peer's segment are not the same unit: compare frame-to-available (g2g) there.
    const ratio =
      peer && r.server === 'reel-lowlatency'
        ? `${round(r.g2gP50Ms / Math.max(1, peer.g2gP50Ms))}× g2g (lower is better)`
        : peer && r.server !== 'nginx-rtmp'
          ? `${round(r.availableP50Ms / Math.max(1, peer.availableP50Ms))}× (lower is better)`
          : '';
    rows.push([
      r.server,
      String(r.events),
      String(r.availableP50Ms),
      String(r.availableP99Ms),
      String(r.g2gP50Ms),
      String(r.g2gP99Ms),
      r.sustained ? 'yes' : `no (${r.lagging})`,
      String(r.cpuPerEventPct),
      String(r.rssMb),
      ratio,
    ]);
  }
  process.stdout.write(`${formatTable(rows)}\n`);
  const environment = benchEnvironment();
  const peerVersion = nginx ? spawnSync(nginxBinary, ['-v'], { encoding: 'utf8' }).stderr.trim() : 'none';
  for (const r of results) appendResult('live.jsonl', { ...environment, bench: 'live', seconds, segmentSec, peer: `${peerVersion} + libnginx-mod-rtmp`, ...r });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
