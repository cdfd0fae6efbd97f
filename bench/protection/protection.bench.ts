/**
 * Content protection benchmark (issue 13): what encryption costs the origin, and how fast key delivery answers, in
 * one run, on the same Reel processes and the same media as the origin benchmark (bench/origin/media.ts).
 *
 *   segments-warm   wrk c=32, each connection cycling over the 10-min asset's video segments, rounds alternating
 *                   (order rotated each round) between:
 *                     clear-cmaf  HLS m3u8-cmaf, clear locator            clear-ts  HLS m3u8-aapl, clear locator
 *                     cenc        DASH mpd-time-cmaf,encryption=cenc      aes-cmaf  HLS m3u8-cmaf,encryption=cbc
 *                     cbcs        DASH mpd-time-cmaf,encryption=cbcs      aes-ts    HLS m3u8-aapl,encryption=cbc
 *                   req/s, p99, server CPU per request, peak RSS of the process tree; encrypted ÷ clear of the same
 *                   container (fMP4: clear-cmaf, TS: clear-ts). Aim: ≥ 0.8. Once on a Reel with its default segment
 *                   cache (REEL_SEGMENT_CACHE_MB default) and once on one with REEL_SEGMENT_CACHE_MB=0 (pure
 *                   just-in-time encryption).
 *   first-segment-new  first video segment of a never-seen 2-h asset on the running origin (a new container, asset
 *                   and locator over a hard link; the request is the asset's first), per variant; median. Aim < 50 ms.
 *   keys            validated key and licence requests per second (wrk c=32): GET the AES key and POST a ClearKey
 *                   licence, each with an HS256 and an RS256 JWT bound to the key id, against the store-backed key
 *                   delivery of the running Reel (its main process, and its origin processes as deployed), with a
 *                   bare node:http peer (bench/keys/bare-key-server.ts) answering the same bytes as the reference.
 *                   Aim: ≥ 2,000/s.
 *
 * Correctness, checked before measuring: every encrypted variant's segments 1 and 157 are decrypted with the keys
 * listContentKeys returns (AES-128: node:crypto AES-CBC with the segment index as IV, equal to the clear segment;
 * CENC/CBCS: test/fixtures/cenc-decryptor.ts, equal to the clear segment's mdat payload, and the init's tenc names
 * the key), and key delivery answers exactly those key bytes (and 401 without a token).
 *
 *   npx tsx bench/protection/protection.bench.ts        (or: npx tsx bench/run.ts protection)
 *
 * Knobs: BENCH_ROUNDS (3), BENCH_DURATION_S (5), BENCH_WARMUP_S (1), BENCH_COLD_REPS (5), BENCH_KEY_ROUNDS (2),
 * BENCH_KEY_DURATION_S (5), BENCH_VARIANTS (all; e.g. cenc,aes-ts), BENCH_REEL_ORIGIN_PROCESSES (2), BENCH_CACHE0 (1; 0: no cache-0 Reel), BENCH_MAX_OTHER_CPU
 * (0.25), BENCH_RETRIES (1), BENCH_QUIET_WAIT_S (20), BENCH_RECORD (1; 0: print only), BENCH_PROFILE (a directory:
 * CPU-profile the default-cache Reel and its origin processes; nothing recorded then). Needs wrk (`node scripts/setup.mjs --bench` installs it).
 * Results: stdout table + bench/results/protection.jsonl.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BenchChild } from '../support/bench-child.js';
import { startOriginChild } from '../origin/origin-child.js';
import { appendResult, benchEnvironment, formatTable } from '../support/bench-results.js';
import { foreignCores, sampleCpu, waitForQuiet } from '../support/machine-load.js';
import { cpuMsOf, descendants, rssSampler } from '../support/process-tree.js';
import { ensureMedia, readThrough, storeDir } from '../origin/media.js';
import { closeAgent, getOk, runSegmentLoad, type SegmentLoadResult } from '../origin/segment-load.js';
import type { OriginStartOptions, StartedOrigin } from '../origin/origin-server.js';
import { keyDeliveryPaths, odataTypes } from '../../src/shared/content-protection.js';
import { decryptSegment, readProtection } from '../../test/fixtures/cenc-decryptor.js';
import { rsaPair, rsaTokenKey, signJwt, symmetricKey, symmetricTokenKey, tokenRestriction } from '../../test/support/token-keys.js';
import { mdatPayload, playlistUris, videoVariant } from '../support/hls-and-boxes.js';

const env = (name: string, fallback: string) => process.env[name] || fallback;
const settings = {
  connections: 32,
  rounds: Number(env('BENCH_ROUNDS', '3')),
  durationSec: Number(env('BENCH_DURATION_S', '5')),
  warmupSec: Number(env('BENCH_WARMUP_S', '1')),
  coldReps: Number(env('BENCH_COLD_REPS', '5')),
  keyRounds: Number(env('BENCH_KEY_ROUNDS', '2')),
  keyDurationSec: Number(env('BENCH_KEY_DURATION_S', '5')),
  reelProcesses: Number(env('BENCH_REEL_ORIGIN_PROCESSES', '2')),
  cache0: env('BENCH_CACHE0', '1') !== '0',
  maxForeignCores: Number(env('BENCH_MAX_OTHER_CPU', '0.25')),
  retries: Number(env('BENCH_RETRIES', '1')),
  quietWaitSec: Number(env('BENCH_QUIET_WAIT_S', '20')),
  profile: process.env.BENCH_PROFILE || undefined,
  record: env('BENCH_RECORD', '1') !== '0' && !process.env.BENCH_PROFILE,
};
const aims = { ratio: 0.8, coldMs: 50, keysPerSec: 2000 };

const benchStarted = performance.now();
const say = (line: string) => process.stderr.write(`[${Math.round((performance.now() - benchStarted) / 1000)} s] ${line}\n`);
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pathOf = (u: string) => {
  const x = new URL(u);
  return `${x.pathname}${x.search}`;
};

// ---------------------------------------------------------------------------------------------- Reel's API side

interface ListedKey {
  id: string;
  type: string;
  value: string;
  policyName?: string;
}

class ProtectionApi {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  private async call(method: 'PUT' | 'POST', p: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.url}${p}`, {
      method,
      headers: { 'x-mkio-token': this.token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== 200 && res.status !== 201) throw new Error(`${method} ${p}: HTTP ${res.status}: ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : undefined;
  }

  async setUp(tokens: { hmacSecret: Buffer; rsaPublic: crypto.KeyObject }): Promise<void> {
    await this.call('PUT', '/api/v1/projects/default/media/storage/bench', { spec: { type: 'Local', path: storeDir } });
    const clearKey = { '@odata.type': odataTypes.clearKeyConfiguration };
    const policy = (name: string, restriction: unknown) =>
      this.call('PUT', `/api/ams/default/contentKeyPolicies/${name}`, {
        properties: { options: [{ name: 'clearkey', configuration: clearKey, restriction }] },
      });
    await policy('open', { '@odata.type': odataTypes.openRestriction });
    await policy('hs256', tokenRestriction({ primary: symmetricTokenKey(tokens.hmacSecret) }));
    await policy('rs256', tokenRestriction({ primary: rsaTokenKey(tokens.rsaPublic) }));
    const both = { download: false, dash: true, hls: true, smoothStreaming: false };
    const streaming = (name: string, keyPolicy: string) =>
      this.call('PUT', `/api/ams/default/streamingPolicies/${name}`, {
        properties: {
          defaultContentKeyPolicyName: keyPolicy,
          envelopeEncryption: { enabledProtocols: both },
          commonEncryptionCenc: { enabledProtocols: both, clearKeyEncryptionConfiguration: {} },
          commonEncryptionCbcs: { enabledProtocols: both, clearKeyEncryptionConfiguration: {} },
        },
      });
    await streaming('bench-open', 'open');
    await streaming('bench-hs256', 'hs256');
    await streaming('bench-rs256', 'rs256');
  }

  async asset(container: string): Promise<void> {
    await this.call('PUT', `/api/ams/default/assets/${container}`, { properties: { storageAccountName: 'bench', container } });
  }

  /** A locator on `asset` with `policy`; returns its playback id. */
  async locator(name: string, asset: string, policy: string): Promise<string> {
    const id = crypto.randomUUID();
    await this.call('PUT', `/api/ams/default/streamingLocators/${name}`, {
      properties: { assetName: asset, streamingPolicyName: policy, streamingLocatorId: id },
    });
    return id;
  }

  async contentKeys(name: string): Promise<ListedKey[]> {
    return ((await this.call('POST', `/api/ams/default/streamingLocators/${name}/listContentKeys`)) as { contentKeys: ListedKey[] }).contentKeys;
  }
}

interface ReelOrigin {
  child: BenchChild;
  api: ProtectionApi;
  url: string;
  playUrl: string;
  processes: number;
  mainPid: number;
  servingPids(): number[];
  tree(): number[];
}

async function startReel(label: string, options: Omit<OriginStartOptions, 'storeDir'>, execArgv: string[] = []): Promise<ReelOrigin> {
  const child = startOriginChild(label, execArgv);
  try {
    const started = await child.call<StartedOrigin>('start', { storeDir, originProcesses: settings.reelProcesses, ...options } satisfies OriginStartOptions);
    const mainPid = child.pid as number;
    const servingPids = () => (started.originProcesses > 1 ? descendants(mainPid) : [mainPid]);
    return {
      child,
      api: new ProtectionApi(started.url, started.token),
      url: started.url,
      playUrl: started.playUrl,
      processes: started.originProcesses,
      mainPid,
      servingPids,
      tree: () => [...new Set([mainPid, ...servingPids()])],
    };
  } catch (err) {
    await child.stop();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------- manifests and boxes

interface Rendition {
  /** Undefined for MPEG-TS (no init segment). */
  initUrl?: string;
  segmentUrls: string[];
}

async function hlsRendition(masterUrl: string): Promise<Rendition> {
  const playlistUrl = videoVariant((await getOk(masterUrl)).body.toString('utf8'), masterUrl);
  const playlist = (await getOk(playlistUrl)).body.toString('utf8');
  const map = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)?.[1];
  return {
    initUrl: map ? new URL(map, playlistUrl).toString() : undefined,
    segmentUrls: playlistUris(playlist).map((u) => new URL(u, playlistUrl).toString()),
  };
}

const attr = (tag: string, name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
const unescapeXml = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The highest video Representation of Reel's MPD (SegmentTemplate + SegmentTimeline with $Bandwidth$ and $Time$). */
async function dashRendition(mpdUrl: string): Promise<Rendition> {
  const mpd = (await getOk(mpdUrl)).body.toString('utf8');
  let best: { bandwidth: number; body: string } | undefined;
  for (const set of mpd.split('<AdaptationSet').slice(1)) {
    const head = set.slice(0, set.indexOf('>'));
    if (!/contentType="video"|mimeType="video/.test(head)) continue;
    for (const rep of set.split('<Representation').slice(1)) {
      const bandwidth = Number(attr(rep.slice(0, rep.indexOf('>')), 'bandwidth') ?? 0);
      if (!best || bandwidth > best.bandwidth) best = { bandwidth, body: rep };
    }
  }
  if (!best) throw new Error(`no video Representation in ${mpdUrl}`);
  const bandwidth = best.bandwidth;
  const template = /<SegmentTemplate[^>]*>/.exec(best.body)?.[0] ?? '';
  const fill = (t: string, time?: number) =>
    new URL(
      unescapeXml(t)
        .replace('$Bandwidth$', String(bandwidth))
        .replace('$Time$', String(time ?? '')),
      mpdUrl,
    ).toString();
  const init = attr(template, 'initialization');
  const media = attr(template, 'media');
  if (!init || !media) throw new Error(`no SegmentTemplate in the video Representation of ${mpdUrl}`);
  const segmentUrls: string[] = [];
  let t = 0;
  for (const s of best.body.match(/<S\s[^>]*>/g) ?? []) {
    if (attr(s, 't') !== undefined) t = Number(attr(s, 't'));
    const d = Number(attr(s, 'd'));
    for (let r = 0; r <= Number(attr(s, 'r') ?? 0); r++, t += d) segmentUrls.push(fill(media, t));
  }
  return { initUrl: fill(init), segmentUrls };
}

// ---------------------------------------------------------------------------------------------- variants

type VariantKey = 'clear-cmaf' | 'cenc' | 'cbcs' | 'aes-cmaf' | 'clear-ts' | 'aes-ts';
interface Variant {
  key: VariantKey;
  label: string;
  /** The clear variant of the same container, for the ratio. */
  clear: VariantKey;
  encrypted?: { keyType: 'CommonEncryptionCenc' | 'CommonEncryptionCbcs' | 'EnvelopeEncryption'; sample: 'cenc' | 'cbcs' | 'aes-128' };
  /** The manifest under `{playUrl}/{locatorId}/movie.ism/`. */
  manifest: string;
  dash: boolean;
}
const allVariants: Variant[] = [
  { key: 'clear-cmaf', label: 'clear fMP4 (HLS m3u8-cmaf)', clear: 'clear-cmaf', manifest: 'manifest(format=m3u8-cmaf)', dash: false },
  {
    key: 'cenc',
    label: 'CENC cenc (DASH)',
    clear: 'clear-cmaf',
    encrypted: { keyType: 'CommonEncryptionCenc', sample: 'cenc' },
    manifest: 'manifest(format=mpd-time-cmaf,encryption=cenc)',
    dash: true,
  },
  {
    key: 'cbcs',
    label: 'CENC cbcs (DASH)',
    clear: 'clear-cmaf',
    encrypted: { keyType: 'CommonEncryptionCbcs', sample: 'cbcs' },
    manifest: 'manifest(format=mpd-time-cmaf,encryption=cbcs)',
    dash: true,
  },
  {
    key: 'aes-cmaf',
    label: 'AES-128 fMP4 (HLS m3u8-cmaf)',
    clear: 'clear-cmaf',
    encrypted: { keyType: 'EnvelopeEncryption', sample: 'aes-128' },
    manifest: 'manifest(format=m3u8-cmaf,encryption=cbc)',
    dash: false,
  },
  { key: 'clear-ts', label: 'clear TS (HLS m3u8-aapl)', clear: 'clear-ts', manifest: 'manifest(format=m3u8-aapl)', dash: false },
  {
    key: 'aes-ts',
    label: 'AES-128 TS (HLS m3u8-aapl)',
    clear: 'clear-ts',
    encrypted: { keyType: 'EnvelopeEncryption', sample: 'aes-128' },
    manifest: 'manifest(format=m3u8-aapl,encryption=cbc)',
    dash: false,
  },
];

/** BENCH_VARIANTS (comma list, e.g. `cenc`): only those and the clear ones they compare with (for profiling one scheme). */
const chosen = process.env.BENCH_VARIANTS?.split(',');
const variants = chosen
  ? allVariants.filter((v) => chosen.includes(v.key) || allVariants.some((w) => chosen.includes(w.key) && w.clear === v.key))
  : allVariants;

const manifestName = 'manifest.ism';
async function renditionOf(v: Variant, playUrl: string, locatorId: string): Promise<Rendition> {
  const url = `${playUrl}/${locatorId}/${manifestName}/${v.manifest}`;
  return v.dash ? dashRendition(url) : hlsRendition(url);
}

/**
 * Decrypts two segments of an encrypted variant with the key listContentKeys gave and compares them with the clear
 * variant's: proof that the numbers below are of real encryption. Returns a line saying what was checked.
 */
async function checkDecrypts(v: Variant, enc: Rendition, clear: Rendition, keys: ListedKey[], indexes: number[]): Promise<string> {
  const spec = v.encrypted!;
  const key = keys.find((k) => k.type === spec.keyType);
  if (!key) throw new Error(`${v.key}: listContentKeys has no ${spec.keyType} key`);
  const value = Buffer.from(key.value, 'base64');
  if (enc.segmentUrls.length !== clear.segmentUrls.length)
    throw new Error(`${v.key}: ${enc.segmentUrls.length} segments, clear has ${clear.segmentUrls.length}`);
  const protection = spec.sample === 'aes-128' ? undefined : readProtection((await getOk(enc.initUrl!)).body);
  if (protection) {
    if (protection.scheme !== spec.sample) throw new Error(`${v.key}: the init segment's scheme is ${protection.scheme}`);
    if (protection.keyId !== key.id.replace(/-/g, '').toLowerCase()) throw new Error(`${v.key}: tenc names key ${protection.keyId}, not ${key.id}`);
  }
  for (const i of indexes) {
    const e = (await getOk(enc.segmentUrls[i])).body;
    const c = (await getOk(clear.segmentUrls[i])).body;
    if (protection) {
      const clearSamples = mdatPayload(c);
      const encSamples = mdatPayload(e);
      if (encSamples.length !== clearSamples.length) throw new Error(`${v.key} #${i + 1}: mdat ${encSamples.length} bytes, clear ${clearSamples.length}`);
      if (encSamples.equals(clearSamples)) throw new Error(`${v.key} #${i + 1}: the samples are not encrypted`);
      const decrypted = Buffer.concat(decryptSegment(e, protection, value).map((s) => s.bytes));
      if (!decrypted.equals(clearSamples)) throw new Error(`${v.key} #${i + 1}: decrypted samples differ from the clear segment's`);
    } else {
      // RFC 8216 §5.2: no IV in the playlist, so the IV is the media sequence number, the segment's index here.
      const iv = Buffer.alloc(16);
      iv.writeUInt32BE(i, 12);
      const decipher = crypto.createDecipheriv('aes-128-cbc', value, iv);
      const decrypted = Buffer.concat([decipher.update(e), decipher.final()]);
      if (!decrypted.equals(c)) throw new Error(`${v.key} #${i + 1}: AES-128 decryption does not give the clear segment`);
    }
  }
  return `${v.key}: segments ${indexes.map((i) => i + 1).join(', ')} decrypt to the clear ${protection ? 'samples' : 'segment bytes'} with key ${key.id} from listContentKeys`;
}

// ---------------------------------------------------------------------------------------------- load rounds

interface LoadTarget {
  key: string;
  label: string;
  url: string;
  paths: string[];
  method?: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  /** The processes whose CPU and memory count: the whole server tree. */
  tree(): number[];
  connections: number;
  durationSec: number;
}

interface Round extends SegmentLoadResult {
  serverCores: number;
  cpuMsPerRequest: number;
  otherCores: number | undefined;
  peakRssMb: number;
}

interface LoadSummary {
  reqPerSec: number;
  reqPerSecRounds: number[];
  mbPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  requests: number;
  peakRssMb: number;
  serverCores: number;
  cpuMsPerRequest: number;
  loadgenCores: number;
  otherCores: number | null;
}

async function measureRound(t: LoadTarget, ownPids: () => number[], label: string): Promise<Round> {
  let best: Round | undefined;
  for (let attempt = 0; attempt <= settings.retries; attempt++) {
    const pids = ownPids();
    const waited = await waitForQuiet(() => pids, {
      thresholdCores: settings.maxForeignCores,
      maxWaitSec: settings.quietWaitSec,
      onWait: (cores) => say(`${label}: other processes use ${cores.toFixed(2)} cores; waiting up to ${settings.quietWaitSec} s`),
    });
    if (waited > 0) say(`${label}: waited ${waited} s`);
    const tree = t.tree();
    const cpuBefore = cpuMsOf(tree);
    const machineBefore = sampleCpu(pids, { countInterrupts: false });
    const rss = rssSampler({ total: tree });
    const started = performance.now();
    const load = await runSegmentLoad({
      url: t.url,
      paths: t.paths,
      connections: t.connections,
      durationSec: t.durationSec,
      headers: t.headers,
      method: t.method,
      body: t.body,
    });
    const peak = rss.stop();
    const machineAfter = sampleCpu(pids, { countInterrupts: false });
    const serverCpuMs = cpuMsOf(tree) - cpuBefore;
    const run: Round = {
      ...load,
      serverCores: serverCpuMs / (performance.now() - started),
      cpuMsPerRequest: serverCpuMs / load.requests,
      otherCores: foreignCores(machineBefore, machineAfter),
      peakRssMb: peak.total,
    };
    if (!best || (run.otherCores ?? 0) < (best.otherCores ?? 0)) best = run;
    if (run.otherCores === undefined || run.otherCores <= settings.maxForeignCores) break;
    say(`${label}: other processes used ${run.otherCores.toFixed(2)} cores${attempt < settings.retries ? '; repeating the round' : '; keeping the quietest'}`);
  }
  return best as Round;
}

function summarize(runs: Round[]): LoadSummary {
  return {
    reqPerSec: round(median(runs.map((r) => r.reqPerSec)), 1),
    reqPerSecRounds: runs.map((r) => round(r.reqPerSec, 1)),
    mbPerSec: round(median(runs.map((r) => r.bytesPerSec)) / 1e6, 1),
    p50Ms: round(median(runs.map((r) => r.p50Ms)), 3),
    p99Ms: round(median(runs.map((r) => r.p99Ms)), 3),
    maxMs: round(Math.max(...runs.map((r) => r.maxMs)), 3),
    requests: runs.reduce((n, r) => n + r.requests, 0),
    peakRssMb: round(Math.max(...runs.map((r) => r.peakRssMb)), 1),
    serverCores: round(median(runs.map((r) => r.serverCores))),
    cpuMsPerRequest: round(median(runs.map((r) => r.cpuMsPerRequest)), 4),
    loadgenCores: round(Math.max(...runs.map((r) => r.loadgenCores))),
    otherCores: runs.some((r) => r.otherCores === undefined) ? null : round(Math.max(...runs.map((r) => r.otherCores as number))),
  };
}

/** A warm-up of each target, then `rounds` rounds over them, rotating who goes first so a drift favours no one. */
async function loadRounds(name: string, targets: LoadTarget[], rounds: number, ownPids: () => number[]): Promise<Record<string, LoadSummary>> {
  for (const t of targets)
    await runSegmentLoad({
      url: t.url,
      paths: t.paths,
      connections: t.connections,
      durationSec: settings.warmupSec,
      headers: t.headers,
      method: t.method,
      body: t.body,
    });
  const runs: Record<string, Round[]> = Object.fromEntries(targets.map((t) => [t.key, []]));
  for (let r = 0; r < rounds; r++) {
    for (const t of targets.map((_, i) => targets[(i + r) % targets.length])) {
      const label = `${name} round ${r + 1}/${rounds} ${t.label}`;
      const run = await measureRound(t, ownPids, label);
      runs[t.key].push(run);
      say(
        `${label}: ${run.reqPerSec.toFixed(0)} req/s, p99 ${run.p99Ms.toFixed(1)} ms, ${run.cpuMsPerRequest.toFixed(3)} CPU-ms/req (server ${run.serverCores.toFixed(2)} cores), RSS ${run.peakRssMb.toFixed(0)} MB, wrk ${run.loadgenCores.toFixed(2)}${run.otherCores !== undefined ? `, others ${run.otherCores.toFixed(2)}` : ''}`,
      );
    }
  }
  return Object.fromEntries(targets.map((t) => [t.key, summarize(runs[t.key])]));
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
  const loadAvg = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const loadAtStart = loadAvg();
  say(
    `protection: ${environment.cpu} ×${environment.cpuCount}, node ${environment.node}, commit ${environment.commit.slice(0, 12)}${environment.dirty ? ' (dirty)' : ''}, load average ${loadAtStart}`,
  );
  const media = await ensureMedia(say);
  await readThrough(media.tenMin.file);
  await readThrough(media.twoHours.file);
  const records: object[] = [];
  const record = (scenario: string, what: string, data: object) => records.push({ ...environment, bench: 'protection', scenario, what, ...data });
  const stoppers: Array<() => Promise<void>> = [];
  const linkedDirs: string[] = [];
  const serverPids = new Set<number>();
  const ownPids = () => {
    const roots = [process.pid, ...serverPids];
    return [...new Set([...roots, ...roots.flatMap((p) => descendants(p))])];
  };
  const stopAll = async () => {
    await Promise.all(stoppers.splice(0).map((s) => s().catch(() => undefined)));
    closeAgent();
    for (const d of linkedDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  };
  const onSignal = () => void stopAll().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    // ---- servers: Reel with its default segment cache, Reel with none, the bare key server
    const hmacSecret = symmetricKey();
    const rsa = rsaPair();
    const profile = settings.profile ? ['--cpu-prof', `--cpu-prof-dir=${settings.profile}`] : [];
    const reels: Array<{ key: 'default' | 'cache0'; label: string; reel: ReelOrigin }> = [];
    for (const [key, label, options, argv] of [
      ['default', 'default segment cache', {}, profile],
      ...(settings.cache0 ? [['cache0', 'segment cache 0', { segmentCacheMb: 0 }, []]] : []),
    ] as Array<['default' | 'cache0', string, Omit<OriginStartOptions, 'storeDir'>, string[]]>) {
      const reel = await startReel(`reel (${label})`, options, argv);
      stoppers.push(() => reel.child.stop());
      serverPids.add(reel.mainPid);
      await reel.api.setUp({ hmacSecret, rsaPublic: rsa.publicKey });
      await reel.api.asset(media.tenMin.container);
      reels.push({ key, label, reel });
    }
    const main = reels[0].reel;
    say(`protection: Reel runs ${main.processes} origin process${main.processes === 1 ? '' : 'es'} (asked for ${settings.reelProcesses})`);

    // ---- each Reel's locators and renditions; the encrypted ones decrypt to the clear ones
    const checkIndexes = [0, 156];
    const checks: string[] = [];
    const paths: Record<string, Record<VariantKey, string[]>> = {};
    for (const { key, reel } of reels) {
      const clearId = await reel.api.locator('bench-clear', media.tenMin.container, 'Predefined_ClearStreamingOnly');
      const encId = await reel.api.locator('bench-encrypted', media.tenMin.container, 'bench-open');
      const keys = await reel.api.contentKeys('bench-encrypted');
      const renditions = {} as Record<VariantKey, Rendition>;
      for (const v of variants) renditions[v.key] = await renditionOf(v, reel.playUrl, v.encrypted ? encId : clearId);
      for (const v of variants) if (v.encrypted) checks.push(`${key}: ${await checkDecrypts(v, renditions[v.key], renditions[v.clear], keys, checkIndexes)}`);
      paths[key] = Object.fromEntries(variants.map((v) => [v.key, renditions[v.key].segmentUrls.map(pathOf)])) as Record<VariantKey, string[]>;
    }
    for (const c of checks) say(`protection: ${c}`);
    record('correctness', 'encrypted segments decrypted with the keys from listContentKeys, compared with the clear ones', { checks });

    // ---- 1. warm segment throughput, per Reel, every variant in the same rounds
    const warm: Record<string, Record<string, LoadSummary>> = {};
    for (const { key, label, reel } of reels) {
      warm[key] = await loadRounds(
        `segments (${label})`,
        variants.map((v) => ({
          key: v.key,
          label: v.key,
          url: reel.playUrl,
          paths: paths[key][v.key],
          tree: reel.tree,
          connections: settings.connections,
          durationSec: settings.durationSec,
        })),
        settings.rounds,
        ownPids,
      );
    }
    if (settings.cache0) {
      // The cache-0 Reel's work is done: the rest runs with one Reel on the machine.
      const r = reels[1].reel;
      await r.child.stop();
      serverPids.delete(r.mainPid);
    }

    // ---- 2. first segment of a never-seen 2-h asset on the running origin, per variant
    const cold: Record<VariantKey, number[]> = Object.fromEntries(variants.map((v) => [v.key, []])) as unknown as Record<VariantKey, number[]>;
    const suffix: Partial<Record<VariantKey, string>> = {};
    {
      await main.api.asset(media.twoHours.container);
      const clearId = await main.api.locator('bench-2h-clear', media.twoHours.container, 'Predefined_ClearStreamingOnly');
      const encId = await main.api.locator('bench-2h-encrypted', media.twoHours.container, 'bench-open');
      for (const v of variants) {
        const id = v.encrypted ? encId : clearId;
        suffix[v.key] = pathOf((await renditionOf(v, main.playUrl, id)).segmentUrls[0]).slice(id.length + 1);
      }
    }
    for (let i = 0; i < settings.coldReps; i++) {
      // Rotated, so no variant is always the first request after the previous one's asset.
      for (const v of variants.map((_, n) => variants[(n + i) % variants.length])) {
        const container = `protection-${process.pid}-${v.key}-${i}`;
        const dir = path.join(storeDir, container);
        linkedDirs.push(dir);
        fs.mkdirSync(dir, { recursive: true });
        fs.linkSync(media.twoHours.file, path.join(dir, 'movie.mp4'));
        await main.api.asset(container);
        const id = await main.api.locator(container, container, v.encrypted ? 'bench-open' : 'Predefined_ClearStreamingOnly');
        const pids = ownPids();
        await waitForQuiet(() => pids, { thresholdCores: settings.maxForeignCores, maxWaitSec: Math.min(settings.quietWaitSec, 10) });
        const res = await getOk(`${main.playUrl}/${id}${suffix[v.key]}`);
        cold[v.key].push(res.ms);
      }
      say(
        `protection: never-seen 2-h asset ${i + 1}/${settings.coldReps}, first segment: ${variants.map((v) => `${v.key} ${cold[v.key][i].toFixed(1)} ms`).join(', ')}`,
      );
    }

    // ---- 3. key and licence requests with token validation: Reel's store-backed key delivery and the bare peer
    const hsId = await main.api.locator('bench-keys-hs256', media.tenMin.container, 'bench-hs256');
    const rsId = await main.api.locator('bench-keys-rs256', media.tenMin.container, 'bench-rs256');
    const b64url = (id: string) => Buffer.from(id.replace(/-/g, ''), 'hex').toString('base64url');
    interface KeyScenario {
      name: string;
      what: string;
      method: 'GET' | 'POST';
      path: string;
      headers: Record<string, string>;
      body?: string;
      expect: Buffer;
    }
    const keyScenarios: KeyScenario[] = [];
    for (const [alg, name, id] of [
      ['HS256', 'bench-keys-hs256', hsId],
      ['RS256', 'bench-keys-rs256', rsId],
    ] as const) {
      const keys = await main.api.contentKeys(name);
      const envelope = keys.find((k) => k.type === 'EnvelopeEncryption')!;
      const cenc = keys.find((k) => k.type === 'CommonEncryptionCenc')!;
      const sign = (keyId: string) => signJwt(alg, alg === 'HS256' ? hmacSecret : rsa.privateKey, { keyId });
      keyScenarios.push({
        name: `aes-${alg.toLowerCase()}`,
        what: `GET /keydelivery/{locator}/aes/{keyId}, ${alg} JWT (Bearer) bound to the key id`,
        method: 'GET',
        path: keyDeliveryPaths.aes(id, envelope.id),
        headers: { authorization: `Bearer ${await sign(envelope.id)}` },
        expect: Buffer.from(envelope.value, 'base64'),
      });
      keyScenarios.push({
        name: `clearkey-${alg.toLowerCase()}`,
        what: `POST /keydelivery/{locator}/clearkey (1 kid), ${alg} JWT (Bearer) bound to the key id`,
        method: 'POST',
        path: keyDeliveryPaths.clearKey(id),
        headers: { authorization: `Bearer ${await sign(cenc.id)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ kids: [b64url(cenc.id)], type: 'temporary' }),
        expect: Buffer.from(cenc.value, 'base64'),
      });
    }
    // What Reel answers, checked: the key bytes, or a licence holding them; no token → 401. The peer gets those bytes.
    const gets: Record<string, Buffer> = {};
    const posts: Record<string, string> = {};
    for (const s of keyScenarios) {
      const res = await fetch(`${main.url}${s.path}`, { method: s.method, headers: s.headers, body: s.body });
      const body = Buffer.from(await res.arrayBuffer());
      if (res.status !== 200) throw new Error(`${s.name}: Reel answered ${res.status}: ${body.toString().slice(0, 300)}`);
      if (s.method === 'GET') {
        if (!body.equals(s.expect)) throw new Error(`${s.name}: the key delivered is not the one listContentKeys gave`);
        gets[s.path] = body;
      } else {
        const licence = JSON.parse(body.toString('utf8')) as { keys: Array<{ k: string }> };
        if (licence.keys.length !== 1 || !Buffer.from(licence.keys[0].k, 'base64url').equals(s.expect))
          throw new Error(`${s.name}: the licence does not hold the key listContentKeys gave`);
        posts[s.path] = body.toString('utf8');
      }
      const refused = await fetch(`${main.playUrl}${s.path}`, { method: s.method, headers: { 'content-type': 'application/json' }, body: s.body });
      if (refused.status !== 401) throw new Error(`${s.name}: without a token Reel answered ${refused.status}, not 401`);
    }
    const bare = BenchChild.start('bench/keys/bare-key-server.ts', [], { label: 'bare node:http', compiled: true });
    stoppers.push(() => bare.stop());
    serverPids.add(bare.pid as number);
    const { url: bareUrl } = await bare.call<{ url: string }>('listen', { gets, posts });
    const keySides = [
      { key: 'reel-main', label: 'Reel main process', url: main.url, tree: () => [main.mainPid] },
      ...(main.processes > 1 ? [{ key: 'reel-origins', label: `Reel ${main.processes} origin processes`, url: main.playUrl, tree: main.servingPids }] : []),
      { key: 'bare', label: 'bare node:http', url: bareUrl, tree: () => [bare.pid as number] },
    ];
    const keyResults: Record<string, Record<string, LoadSummary>> = {};
    for (const s of keyScenarios) {
      keyResults[s.name] = await loadRounds(
        `keys ${s.name}`,
        keySides.map((side) => ({
          key: side.key,
          label: side.label,
          url: side.url,
          paths: [s.path],
          method: s.method,
          body: s.body,
          headers: s.headers,
          tree: side.tree,
          connections: settings.connections,
          durationSec: settings.keyDurationSec,
        })),
        settings.keyRounds,
        ownPids,
      );
    }
    const loadAtEnd = loadAvg();

    // ---- results
    const machine = { loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadAtEnd };
    const reelInfo = { originProcesses: main.processes, segmentCacheMb: { default: 'REEL_SEGMENT_CACHE_MB default (32)', cache0: 0 } };
    for (const { key, label } of reels) {
      const s = warm[key];
      record(
        `segments-warm-${key}`,
        `GET the 10-min 1080p asset's video segments, c=${settings.connections}, each connection cycling over all; Reel ${label}`,
        {
          connections: settings.connections,
          rounds: settings.rounds,
          durationSec: settings.durationSec,
          reel: reelInfo,
          machine,
          segmentsPerPass: paths.default['clear-cmaf'].length,
          results: s,
          ratios: Object.fromEntries(
            variants
              .filter((v) => v.encrypted)
              .map((v) => [
                v.key,
                {
                  over: v.clear,
                  reqPerSec: round(s[v.key].reqPerSec / s[v.clear].reqPerSec, 3),
                  cpuMsPerRequest: round(s[v.key].cpuMsPerRequest / s[v.clear].cpuMsPerRequest, 3),
                  p99: round(s[v.key].p99Ms / s[v.clear].p99Ms, 3),
                  aim: `req/s ≥ ${aims.ratio}× clear`,
                  aimMet: s[v.key].reqPerSec / s[v.clear].reqPerSec >= aims.ratio,
                },
              ]),
          ),
        },
      );
    }
    record('first-segment-new-2h', 'first video segment of a never-seen 2-h asset (new container, asset and locator) on the running origin, ms', {
      reps: settings.coldReps,
      machine,
      results: Object.fromEntries(
        variants.map((v) => [v.key, { ...timings(cold[v.key]), aim: `< ${aims.coldMs} ms`, aimMet: median(cold[v.key]) < aims.coldMs }]),
      ),
    });
    for (const s of keyScenarios) {
      const r = keyResults[s.name];
      record(`keys-${s.name}`, `${s.what}; store-backed key delivery of a running Reel vs a bare node:http peer with the same bytes`, {
        connections: settings.connections,
        rounds: settings.keyRounds,
        durationSec: settings.keyDurationSec,
        machine,
        results: r,
        ratios: Object.fromEntries(
          Object.keys(r)
            .filter((k) => k !== 'bare')
            .map((k) => [k, round(r[k].reqPerSec / r.bare.reqPerSec, 3)]),
        ),
        aim: `≥ ${aims.keysPerSec} validated req/s`,
        aimMet:
          Math.max(
            ...Object.keys(r)
              .filter((k) => k !== 'bare')
              .map((k) => r[k].reqPerSec),
          ) >= aims.keysPerSec,
      });
    }
    if (settings.record) for (const r of records) appendResult('protection.jsonl', r);

    // ---- tables
    const x = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : '-');
    const rows: string[][] = [['variant', 'Reel', 'req/s', 'p50 / p99 ms', 'CPU ms/req', 'MB/s', 'peak RSS', 'req/s ÷ clear', 'CPU ÷ clear', 'aim ≥ 0.8']];
    for (const { key, label } of reels)
      for (const v of variants) {
        const s = warm[key][v.key];
        const c = warm[key][v.clear];
        rows.push([
          v.label,
          label,
          s.reqPerSec.toFixed(0),
          `${s.p50Ms.toFixed(1)} / ${s.p99Ms.toFixed(1)}`,
          s.cpuMsPerRequest.toFixed(2),
          s.mbPerSec.toFixed(0),
          `${s.peakRssMb.toFixed(0)} MB`,
          v.encrypted ? x(s.reqPerSec, c.reqPerSec) : '',
          v.encrypted ? x(s.cpuMsPerRequest, c.cpuMsPerRequest) : '',
          v.encrypted ? (s.reqPerSec / c.reqPerSec >= aims.ratio ? 'met' : 'MISSED') : '',
        ]);
      }
    const coldRows: string[][] = [['variant', 'median ms', 'min ms', 'max ms', 'aim < 50 ms']];
    for (const v of variants) {
      const t = timings(cold[v.key]);
      coldRows.push([v.label, t.medianMs.toFixed(1), t.minMs.toFixed(1), t.maxMs.toFixed(1), t.medianMs < aims.coldMs ? 'met' : 'MISSED']);
    }
    const keyRows: string[][] = [['scenario', 'server', 'req/s', 'p50 / p99 ms', 'CPU µs/req', 'cores', 'req/s ÷ bare', 'aim ≥ 2,000/s']];
    for (const s of keyScenarios)
      for (const side of keySides) {
        const r = keyResults[s.name][side.key];
        keyRows.push([
          s.name,
          side.label,
          r.reqPerSec.toFixed(0),
          `${r.p50Ms.toFixed(1)} / ${r.p99Ms.toFixed(1)}`,
          (r.cpuMsPerRequest * 1000).toFixed(0),
          r.serverCores.toFixed(2),
          side.key === 'bare' ? '' : x(r.reqPerSec, keyResults[s.name].bare.reqPerSec),
          side.key === 'bare' ? '' : r.reqPerSec >= aims.keysPerSec ? 'met' : 'MISSED',
        ]);
      }
    process.stdout.write(
      `\nContent protection: Reel with ${main.processes} origin process${main.processes === 1 ? '' : 'es'}; load average ${loadAtStart} at the start, ${loadAtEnd} at the end.\n` +
        `Warm segments: wrk c=${settings.connections}, cycling over all video segments of the 10-min 1080p asset, medians of ${settings.rounds} rounds × ${settings.durationSec} s.\n` +
        `${formatTable(rows)}\n\nFirst video segment of a never-seen 2-h asset on the running origin (${settings.coldReps} assets per variant):\n${formatTable(coldRows)}\n\n` +
        `Key delivery with token validation, wrk c=${settings.connections}, medians of ${settings.keyRounds} rounds × ${settings.keyDurationSec} s:\n${formatTable(keyRows)}\n\n` +
        `Checked: ${checks.join('; ')}; key delivery answered the listContentKeys bytes, and 401 without a token.\n`,
    );
    say(`protection: done${settings.record ? '; results appended to bench/results/protection.jsonl' : ' (nothing recorded)'}`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stopAll();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`protection bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
