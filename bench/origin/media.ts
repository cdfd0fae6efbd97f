/**
 * The origin benchmark's media, made by ffmpeg once and cached under test/fixtures/.cache/bench/ (ignored by git):
 *
 *   store/movie-10min/movie.mp4   10 min, 1920x1080 H.264 ~5 Mbit/s (testsrc2 + temporal noise, so the bitrate is
 *                                  real), AAC 128 kbit/s, 2 s GOPs: ~300 video segments of ~1.25 MB
 *   store/movie-2h/movie.mp4      2 h, 1920x1080 H.264 300 kbit/s, AAC 64 kbit/s, 2 s GOPs: 180,000 video and ~337,000
 *                                  audio samples, a ~4 MB moov (what a cold start has to read and parse)
 *
 * Each is 20 s encoded once (libx264 ultrafast, -g 50 -keyint_min 50 -sc_threshold 0 at 25 fps) and looped with
 * `-stream_loop N -c copy`; `+faststart` puts the moov first, as a VOD encoder's output usually has it.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../support/bench-child.js';

const run = promisify(execFile);

export const benchCacheDir = path.join(repoRoot, 'test', 'fixtures', '.cache', 'bench');
/** The Local storage account's directory: one container (sub-directory) per asset. */
export const storeDir = path.join(benchCacheDir, 'store');

export interface BenchMedia {
  /** Container name (a directory under storeDir) and the file inside it. */
  container: string;
  file: string;
  seconds: number;
  label: string;
}

interface Recipe {
  container: string;
  label: string;
  seconds: number;
  baseName: string;
  /** The lavfi video source of the 20 s base. */
  video: string;
  videoKbps: number;
  audioKbps: number;
}

const baseSeconds = 20;
const recipes: Recipe[] = [
  {
    container: 'movie-10min',
    label: '10 min 1080p 5 Mbit/s',
    seconds: 600,
    baseName: 'base-1080p-5000k-20s.mp4',
    video: `testsrc2=size=1920x1080:rate=25:duration=${baseSeconds},noise=alls=20:allf=t`,
    videoKbps: 5000,
    audioKbps: 128,
  },
  {
    container: 'movie-2h',
    label: '2 h 1080p 300 kbit/s',
    seconds: 7200,
    baseName: 'base-1080p-300k-20s.mp4',
    video: `testsrc2=size=1920x1080:rate=25:duration=${baseSeconds}`,
    videoKbps: 300,
    audioKbps: 64,
  },
];

async function ffmpeg(args: string[]): Promise<void> {
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { maxBuffer: 16 * 1024 * 1024 });
}

/** Writes through a temporary name, so an interrupted run never leaves a half file that looks cached. */
async function make(file: string, produce: (tmp: string) => Promise<void>): Promise<void> {
  if (fs.existsSync(file)) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp.mp4`;
  try {
    await produce(tmp);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Both assets, generated when missing (a few minutes the first time, nothing afterwards). */
export async function ensureMedia(say: (line: string) => void): Promise<{ tenMin: BenchMedia; twoHours: BenchMedia }> {
  const out: BenchMedia[] = [];
  for (const r of recipes) {
    const base = path.join(benchCacheDir, r.baseName);
    const file = path.join(storeDir, r.container, 'movie.mp4');
    if (!fs.existsSync(file)) say(`origin: generating ${r.label} into ${path.relative(repoRoot, file)} (once; cached)…`);
    const started = performance.now();
    await make(base, (tmp) =>
      ffmpeg([
        '-f',
        'lavfi',
        '-i',
        r.video,
        '-f',
        'lavfi',
        '-i',
        `sine=frequency=440:sample_rate=48000:duration=${baseSeconds}`,
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-pix_fmt',
        'yuv420p',
        '-b:v',
        `${r.videoKbps}k`,
        '-maxrate',
        `${r.videoKbps}k`,
        '-bufsize',
        `${r.videoKbps * 2}k`,
        '-g',
        '50',
        '-keyint_min',
        '50',
        '-sc_threshold',
        '0',
        '-c:a',
        'aac',
        '-b:a',
        `${r.audioKbps}k`,
        '-metadata:s:a:0',
        'language=eng',
        '-shortest',
        tmp,
      ]),
    );
    await make(file, (tmp) =>
      ffmpeg(['-stream_loop', String(r.seconds / baseSeconds - 1), '-i', base, '-map', '0', '-c', 'copy', '-movflags', '+faststart', tmp]),
    );
    if (performance.now() - started > 1000) say(`origin: ${r.label} ready in ${Math.round((performance.now() - started) / 1000)} s`);
    out.push({ container: r.container, file, seconds: r.seconds, label: r.label });
  }
  return { tenMin: out[0], twoHours: out[1] };
}

/**
 * The pre-packaging workflow's up-front cost: ffmpeg remuxes the MP4 into HLS fMP4 (CMAF) segments, video and
 * audio as separate renditions like Reel's, without re-encoding. Returns the wall time and the output directory
 * (`<outDir>/0/` video, `<outDir>/1/` audio, `<outDir>/master.m3u8`).
 */
export async function packageWithFfmpeg(input: string, outDir: string): Promise<{ ms: number; dir: string }> {
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  const started = performance.now();
  await ffmpeg([
    '-i',
    input,
    '-map',
    '0:v:0',
    '-map',
    '0:a:0',
    '-c',
    'copy',
    '-f',
    'hls',
    '-hls_segment_type',
    'fmp4',
    '-hls_time',
    '2',
    '-hls_playlist_type',
    'vod',
    '-hls_segment_filename',
    path.join(outDir, '%v', 'seg_%05d.m4s'),
    '-hls_fmp4_init_filename',
    'init.mp4',
    '-master_pl_name',
    'master.m3u8',
    '-var_stream_map',
    'v:0,agroup:aud a:0,agroup:aud',
    path.join(outDir, '%v', 'index.m3u8'),
  ]);
  return { ms: performance.now() - started, dir: outDir };
}

/** Evicts a file from the page cache (GNU dd, POSIX_FADV_DONTNEED on the whole file): the next read goes to the disk. */
export async function dropFromPageCache(file: string): Promise<void> {
  await run('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
}

/** Reads a file once, so its pages are cached (the state a busy origin's hot files are in). */
export async function readThrough(file: string): Promise<void> {
  await run('dd', [`if=${file}`, 'of=/dev/null', 'bs=4M', 'status=none']);
}
