/**
 * Encoding benchmark: a job through Reel's public API against the same ffmpeg command run directly.
 *
 * Source: 1 minute of 1080p25 `testsrc2` with noise (so the bitrate is real), 20 Mbit/s H.264, and AAC stereo, made by ffmpeg once
 * and cached under test/fixtures/.cache/bench/encode/. Transform: `H264MultipleBitrate1080p` (8 renditions from
 * 1920x1080 to 320x180, 2 s GOPs, plus AAC), x264 `veryfast` as the server's default.
 *
 * Scenarios, in one run:
 *   overhead     one job at a time, submit → Finished as the API reports it (queue, ffprobe,
 *                input checks, ffmpeg reading the Local account's file, upload into the output asset, bookkeeping) against
 *                the engine's own ffmpeg command, built by the same planning code, run directly on the local file
 *                into a temp directory. Alternated, BENCH_ENCODE_REPS (2) of each; medians; aim ≤ 1.05.
 *   throughput   BENCH_ENCODE_JOBS (3) jobs submitted at once to a server with REEL_WORKER_CONCURRENCY 1 and 2:
 *                jobs per hour from first submission to last Finished.
 *
 * The server is the compiled one `npm start` runs (scripts/build.mjs → dist/main.js), in its own process, on
 * SQLite and local disk. Results: stdout table + bench/results/encode.jsonl.
 *
 *   npx tsx bench/encode/encode.bench.ts        (or: npm run bench -- encode)
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../support/bench-child.js';
import { appendResult, benchEnvironment, formatTable } from '../support/bench-results.js';
import { parsePreset } from '../../src/media/encode/presets/preset-parser.js';
import { probeSource } from '../../src/media/encode/ffmpeg/source-prober.js';
import { planEncode } from '../../src/media/encode/plan/output-planner.js';
import { buildFfmpegArgs } from '../../src/media/encode/ffmpeg/ffmpeg-args.js';

const env = (name: string, fallback: string) => process.env[name] ?? fallback;
const settings = {
  reps: Number(env('BENCH_ENCODE_REPS', '2')),
  jobs: Number(env('BENCH_ENCODE_JOBS', '3')),
  seconds: Number(env('BENCH_ENCODE_SECONDS', '60')),
  presetName: env('BENCH_ENCODE_PRESET', 'H264MultipleBitrate1080p'),
};
const aimOverhead = 1.05;
const say = (msg: string) => process.stderr.write(`encode: ${msg}\n`);
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const preset = { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: settings.presetName };

// ---------------------------------------------------------------------------------------------- media

const cacheDir = path.join(repoRoot, 'test', 'fixtures', '.cache', 'bench', 'encode');
const storeDir = path.join(cacheDir, 'store');
const sourceFile = path.join(storeDir, 'source', 'source-1080p-20m.mp4');

function makeSource(): void {
  const marker = `${sourceFile}.${settings.seconds}s`;
  if (fs.existsSync(sourceFile) && fs.existsSync(marker)) return;
  fs.mkdirSync(path.dirname(sourceFile), { recursive: true });
  say(`generating ${settings.seconds} s of 1080p into ${path.relative(repoRoot, sourceFile)} (once; cached)…`);
  execFileSync('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=1920x1080:rate=25:duration=${settings.seconds},noise=alls=12:allf=t`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:sample_rate=48000:duration=${settings.seconds}`,
    // A mezzanine-like 20 Mbit/s (what a camera or an edit suite hands over), not a visually lossless monster.
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-b:v',
    '20M',
    '-maxrate',
    '20M',
    '-bufsize',
    '40M',
    '-g',
    '50',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '128k',
    '-ac',
    '2',
    '-movflags',
    '+faststart',
    '-shortest',
    sourceFile,
  ]);
  fs.writeFileSync(marker, '');
}

// ---------------------------------------------------------------------------------------------- the server

interface Server {
  child: ChildProcess;
  url: string;
  token: string;
  dataDir: string;
}

/** `node dist/main.js` as `npm start` runs it, on a fresh data dir; signs in and takes a token as a user does. */
async function startServer(concurrency: number): Promise<Server> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-encode-bench-'));
  const password = crypto.randomBytes(12).toString('base64url');
  const child = spawn(process.execPath, ['--max-semi-space-size=16', 'dist/main.js'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      MALLOC_MMAP_THRESHOLD_: '131072',
      PORT: '0',
      REEL_LIVE_RTMP_PORT: '0',
      REEL_LIVE_SRT_PORT: '0',
      REEL_DATA_DIR: dataDir,
      REEL_ADMIN_PASSWORD: password,
      REEL_LOG_LEVEL: 'warn',
      REEL_LOCAL_STORAGE_ROOTS: path.join(dataDir, 'storage'),
      REEL_LOCAL_STORAGE_GRANTS: `default=${storeDir}`,
      REEL_WORKER_CONCURRENCY: String(concurrency),
    },
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /Reel is running at (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
      process.stderr.write(d);
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
  const login = await fetch(`${url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'admin@localhost', password }),
  });
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const { token } = (await (await fetch(`${url}/auth/token/`, { headers: { cookie } })).json()) as { token: string };
  const server = { child, url, token, dataDir };
  await api(server, 'PUT', '/api/v1/projects/default/media/storage/bench', { spec: { type: 'Local', path: storeDir } });
  await api(server, 'PUT', '/api/ams/default/assets/source', { properties: { storageAccountName: 'bench', container: 'source' } });
  await api(server, 'PUT', '/api/ams/default/transforms/ladder', { properties: { outputs: [{ preset }] } });
  return server;
}

async function stopServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    if (server.child.exitCode !== null) return resolve();
    server.child.once('exit', () => resolve());
    server.child.kill('SIGTERM');
  });
  fs.rmSync(server.dataDir, { recursive: true, force: true });
  // Output containers were created under the bench store by the jobs.
  for (const d of fs.readdirSync(storeDir)) if (d !== 'source') fs.rmSync(path.join(storeDir, d), { recursive: true, force: true });
}

async function api(server: Server, method: string, p: string, body?: unknown): Promise<any> {
  const res = await fetch(`${server.url}${p}`, {
    method,
    headers: { 'x-mkio-token': server.token, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${p}: HTTP ${res.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

let jobCounter = 0;
async function submit(server: Server): Promise<string> {
  const name = `job${++jobCounter}`;
  await api(server, 'PUT', `/api/ams/default/transforms/ladder/jobs/${name}`, {
    properties: {
      input: { '@odata.type': '#Microsoft.Media.JobInputAsset', assetName: 'source' },
      outputs: [{ '@odata.type': '#Microsoft.Media.JobOutputAsset', assetName: `out-${name}` }],
    },
  });
  return name;
}

/** Polls every 100 ms (the resolution of the measurement) until the job is Finished; returns when it saw that. */
async function waitFinished(server: Server, name: string): Promise<number> {
  for (;;) {
    const job = await api(server, 'GET', `/api/ams/default/transforms/ladder/jobs/${name}`);
    const state = job.properties.state as string;
    if (state === 'Finished') return performance.now();
    if (state === 'Error' || state === 'Canceled') throw new Error(`job ${name} ended ${state}: ${JSON.stringify(job.properties.outputs)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---------------------------------------------------------------------------------------------- the peer

/** The engine's ffmpeg command for this preset and source, with the local file as input, run directly. */
async function directFfmpeg(): Promise<number> {
  const parsed = parsePreset(preset);
  if (!parsed.spec) throw new Error(parsed.problems.join('; '));
  const info = await probeSource('ffprobe', sourceFile, { httpTimeoutSec: 30, signal: AbortSignal.timeout(30_000) });
  const plan = planEncode(parsed.spec, [{ input: { url: sourceFile, fileName: path.basename(sourceFile) }, info }], {
    x264Preset: 'veryfast',
    x265Preset: 'fast',
  });
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-encode-direct-'));
  try {
    const args = buildFfmpegArgs(plan, { workDir, httpTimeoutSec: 30 });
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
      });
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}: ${err}`))));
    });
    return performance.now() - started;
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const environment = benchEnvironment();
  say(
    `${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length}, node ${process.version}, commit ${environment.commit.slice(0, 12)}${environment.dirty ? ' (dirty)' : ''}`,
  );
  makeSource();
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  const records: object[] = [];
  const rows: string[][] = [['scenario', 'measure', 'Reel', 'peer', 'ratio', 'aim']];

  // ---- overhead: one job at a time vs the direct command, alternated
  const jobMs: number[] = [];
  const directMs: number[] = [];
  {
    const server = await startServer(1);
    try {
      for (let i = 0; i < settings.reps; i++) {
        const d = await directFfmpeg();
        directMs.push(d);
        say(`direct ffmpeg ${i + 1}/${settings.reps}: ${(d / 1000).toFixed(1)} s`);
        const started = performance.now();
        const name = await submit(server);
        const done = await waitFinished(server, name);
        jobMs.push(done - started);
        say(`job ${i + 1}/${settings.reps}: ${((done - started) / 1000).toFixed(1)} s`);
      }
    } finally {
      await stopServer(server);
    }
  }
  const overhead = median(jobMs) / median(directMs);
  records.push({
    ...environment,
    bench: 'encode',
    scenario: 'job-overhead',
    what: `one ${settings.presetName} job (submit → Finished via the API) vs the engine's ffmpeg command run directly on the local file`,
    source: `${settings.seconds} s 1080p25 H.264 + AAC`,
    reps: settings.reps,
    reel: { medianMs: round(median(jobMs), 0), msRounds: jobMs.map((x) => round(x, 0)) },
    peer: { name: 'the same ffmpeg command, local input, run directly', medianMs: round(median(directMs), 0), msRounds: directMs.map((x) => round(x, 0)) },
    ratio: { jobOverDirect: round(overhead, 3), better: 'lower' },
    aim: `≤ ${aimOverhead}`,
    aimMet: overhead <= aimOverhead,
  });
  rows.push([
    'job-overhead',
    `${settings.presetName}, ${settings.seconds} s 1080p (median of ${settings.reps})`,
    `${(median(jobMs) / 1000).toFixed(1)} s`,
    `${(median(directMs) / 1000).toFixed(1)} s`,
    `${overhead.toFixed(3)}×`,
    `${overhead <= aimOverhead ? 'met' : 'MISSED'}: ≤ ${aimOverhead}`,
  ]);

  // ---- throughput: N jobs at once, 1 and 2 workers
  for (const workers of [1, 2]) {
    const server = await startServer(workers);
    try {
      const started = performance.now();
      const names: string[] = [];
      for (let i = 0; i < settings.jobs; i++) names.push(await submit(server));
      const ends = await Promise.all(names.map((n) => waitFinished(server, n)));
      const makespanMs = Math.max(...ends) - started;
      const perHour = (settings.jobs * 3600_000) / makespanMs;
      say(`${workers} worker(s): ${settings.jobs} jobs in ${(makespanMs / 1000).toFixed(1)} s = ${perHour.toFixed(1)} jobs/h`);
      records.push({
        ...environment,
        bench: 'encode',
        scenario: `throughput-${workers}-worker${workers > 1 ? 's' : ''}`,
        what: `${settings.jobs} ${settings.presetName} jobs submitted at once, REEL_WORKER_CONCURRENCY=${workers}`,
        source: `${settings.seconds} s 1080p25 H.264 + AAC`,
        jobs: settings.jobs,
        makespanMs: round(makespanMs, 0),
        jobsPerHour: round(perHour, 1),
        peer: { name: 'the direct ffmpeg command, back to back', jobsPerHour: round(3600_000 / median(directMs), 1) },
        ratio: { reelOverPeer: round(perHour / (3600_000 / median(directMs)), 3), better: 'higher' },
      });
      rows.push([
        `throughput, ${workers} worker${workers > 1 ? 's' : ''}`,
        `${settings.jobs} jobs at once`,
        `${perHour.toFixed(1)} jobs/h`,
        `${(3600_000 / median(directMs)).toFixed(1)} jobs/h (direct, back to back)`,
        `${(perHour / (3600_000 / median(directMs))).toFixed(2)}×`,
        '',
      ]);
    } finally {
      await stopServer(server);
    }
  }
  for (const r of records) appendResult('encode.jsonl', r);
  process.stdout.write(`\nEncoding: Reel jobs vs the same ffmpeg command run directly (${os.cpus().length} cores).\n${formatTable(rows)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`encode bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
